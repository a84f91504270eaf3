"""One run's result and exit codes, and the named checkpoints the kill-and-resume tests stop a run at."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXIT_OK = 0

EXIT_ERROR = 1

EXIT_CONFIG = 2

EXIT_LOCKED = 3

EXIT_SOURCES_FAILED = 4

EXIT_INTERRUPTED = 130

# Fault injection for the kill-and-resume tests: the run SIGKILLs itself at the named checkpoint.
KILL_ENV = "STORYDIFF_KILL_AT"


@dataclass(slots=True)
class RunResult:
    run_id: int
    status: str  # ok | partial | interrupted
    fetched: int = 0
    not_modified: int = 0
    new_articles: int = 0
    new_versions: int = 0
    stories_changed: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        return EXIT_SOURCES_FAILED if self.errors else EXIT_OK


Notify = Callable[[str], None]


def checkpoint(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
