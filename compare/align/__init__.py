"""Align: statement features, the link scorer, links and events, claim-level alignment and the fuzzy-match kernel."""
