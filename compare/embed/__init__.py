"""Embed: sentence-embedding backends, the packed MiniLM encoder and the on-disk embedding cache."""
