"""Recall (撤回): versioned policy rules, explainable decisions, atomic execution."""
