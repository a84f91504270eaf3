"""Cues: every language rule in one place.

Lexicons, numbers, dates, names and places, attribution, hedging, negation and loaded wording; Russian and
Ukrainian; actor, role and location phrases.
"""
