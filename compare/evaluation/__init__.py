"""Evaluation: alignment, claim and cue accuracy against annotated data."""
