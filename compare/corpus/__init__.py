"""Corpus: read a story folder (articles, manifest, JSON) into documents.

No network access here; fetching lives in compare.runs.
"""
