"""Identity: users and enterprises, their devices, step-up verification, and exemptions."""
