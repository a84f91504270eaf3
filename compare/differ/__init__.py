"""Differ: typed differences between aligned statements (one module per detector family) and their confidence."""
