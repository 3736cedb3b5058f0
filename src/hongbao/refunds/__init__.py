"""Refund routing and settlement (R-F1..R-F6): business days, fees and, later, route plans."""
