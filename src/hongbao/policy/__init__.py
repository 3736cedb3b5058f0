"""The policy: every number hongbao runs on, as a validated, versioned document."""
