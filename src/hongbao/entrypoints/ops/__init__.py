"""Keeping one API process healthy: admission control, rate limits, degrade mode, health and
readiness, metrics and structured logs."""
