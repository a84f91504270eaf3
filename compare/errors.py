"""One root error for everything storydiff raises on purpose; the CLI turns these into one line.

Messages follow "what: why. hint." so a user knows which file, what is wrong and what to do.
"""

from __future__ import annotations


class CompareError(Exception):
    """Root of storydiff's errors. `exit_code` is what the CLI exits with."""

    exit_code = 1


class InputError(CompareError, ValueError):
    """Bad user input (a story, a manifest, a job file, an option): exit code 2."""

    exit_code = 2


class CorpusError(InputError):
    """A story folder, story JSON or article file cannot be used."""


class ConfigError(InputError):
    """A job file or option value is invalid."""


class ModelLoadError(InputError):
    """The embedding model cannot be loaded (missing path, not a sentence-transformers folder)."""


class RenderError(CompareError):
    """A report could not be rendered or written."""


class OutputError(InputError):
    """The output folder cannot be written (permissions, full disk)."""


class StoreError(CompareError):
    """The SQLite store is locked, corrupt or from a newer version."""
