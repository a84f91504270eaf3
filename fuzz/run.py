"""Fuzz storydiff's input parsers for a bounded time: `python fuzz/run.py --seconds 60`.

Targets (see fuzz/targets.py): story folder manifest, story JSON / JSON Lines, HTML article extraction,
scheduled-runs job file. Any exception other than a `CompareError`, and any input taking longer than
--hang-seconds, is a crash: it is shrunk by hypothesis to a small input, saved as
`fuzz/crashes/<target>-<hash>.bin` (with the traceback beside it) and reported. Exit code 1 when a
crash was found, else 0. Turn each crash into a test in tests/test_fuzz_regressions.py, then fix it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from targets import TARGETS, job_parser_available  # noqa: E402

CRASHES = HERE / "crashes"


class Hang(Exception):
    """An input took longer than --hang-seconds."""


@dataclass
class Report:
    target: str
    examples: int = 0
    seconds: float = 0.0
    crashes: dict[str, Path] = field(default_factory=dict)  # signature -> saved input


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames) if "compare" in f.filename),
                 f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?")
    return f"{type(exc).__name__} at {where}"


def fuzz(name: str, seconds: float, *, batch: int = 100, hang_seconds: int = 10, save: bool = True) -> Report:
    """Run one target until `seconds` have passed; returns what ran and the distinct crashes."""
    target, strategy = TARGETS[name]
    report = Report(name)
    failing: list[bytes] = []

    def handle_alarm(signum: int, frame: object) -> None:
        raise Hang(f"input took over {hang_seconds}s")

    previous = signal.signal(signal.SIGALRM, handle_alarm)

    @settings(max_examples=batch, database=None, deadline=None, derandomize=False, print_blob=False,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(data=strategy)
    def one(data: bytes) -> None:
        report.examples += 1
        signal.alarm(hang_seconds)
        try:
            target(data)
        except BaseException:
            failing.append(data)
            raise
        finally:
            signal.alarm(0)

    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            failing.clear()
            try:
                one()
            except Exception as exc:  # a crash, already shrunk; the last failing input is the smallest
                signature = _signature(exc)
                if signature in report.crashes or not failing:
                    continue
                data = failing[-1]
                path = CRASHES / f"{name}-{hashlib.sha1(data).hexdigest()[:12]}.bin"
                if save:
                    CRASHES.mkdir(exist_ok=True)
                    path.write_bytes(data)
                    path.with_suffix(".txt").write_text(
                        f"{signature}\n\n" + "".join(traceback.format_exception(exc)), "utf-8")
                report.crashes[signature] = path
    finally:
        signal.signal(signal.SIGALRM, previous)
    report.seconds = time.monotonic() - start
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="total time, shared by the targets")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="fuzz only these (repeatable)")
    parser.add_argument("--hang-seconds", type=int, default=10, help="an input taking longer is a crash")
    args = parser.parse_args()
    names = args.target or list(TARGETS)
    if "job" in names and not job_parser_available():
        print("job: skipped, compare.runs.schedule.load_job is not available", file=sys.stderr)
        names.remove("job")
    found = 0
    for name in names:
        report = fuzz(name, args.seconds / len(names), hang_seconds=args.hang_seconds)
        print(f"{name}: {report.examples} inputs in {report.seconds:.0f}s, {len(report.crashes)} crashes")
        for signature, path in report.crashes.items():
            print(f"  CRASH {signature} -> {path.relative_to(HERE.parent)}")
        found += len(report.crashes)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
