"""The ``hongbao`` command line: one module per command group, the demo tours and rendering."""
