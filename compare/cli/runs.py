"""`storydiff run`, `schedule` and `history`: the command line of scheduled runs.

The work is `compare.runs.schedule`'s (job files, runs, history); this module parses options, turns
SIGINT/SIGTERM into a stop between steps, prints, and sets the exit code (see `compare.runs.schedule` for
their meaning).
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from compare.errors import ConfigError
from compare.runs.job import load_job, parse_interval
from compare.runs.schedule import job_history, run_job_on, run_schedule, summary_line


class _StopFlag:
    """SIGINT/SIGTERM set a flag the run checks between steps; a second signal stops at once."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()

    def install(self) -> None:
        def handler(signum: int, frame: Any) -> None:
            if self.event.is_set():
                raise KeyboardInterrupt
            self.event.set()
            click.echo(f"storydiff: {signal.Signals(signum).name} received; stopping after the current step.",
                       err=True)

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def _job_argument(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("job_path", metavar="JOB", type=click.Path(path_type=Path))(f)


@click.command("run")
@_job_argument
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Dask scheduler (tcp://HOST:8786) to run per-story comparisons and embedding on; "
                   "overrides [cluster] address in the job file. Default: in-process.")
def run_command(job_path: Path, quiet: bool, cluster: str | None) -> None:
    """Run a job file once: fetch sources, group articles into stories, compare, publish.

    For cron or a systemd timer. Exit codes: 0 all sources fetched; 4 finished but some source failed;
    2 invalid job file; 3 another run of this job is in progress; 130 interrupted; 1 other errors.
    """
    job = load_job(job_path)
    stop = _StopFlag()
    stop.install()
    say = (lambda message: None) if quiet else (lambda message: click.echo(message, err=True))
    result = run_job_on(job, cluster, should_stop=stop, notify=say)
    for error in result.errors:
        click.echo(f"storydiff: source failed: {error['outlet']}: {error['error']}", err=True)
    if not quiet:
        click.echo(summary_line(result), err=True)
        click.echo(str(job.output / "index.html"))
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _interval(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_interval(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("schedule")
@_job_argument
@click.option("--every", "every", required=True, callback=_interval, metavar="INTERVAL",
              help="Time between run starts: 30s, 15m, 1h, 1d or combinations like 1h30m.")
@click.option("--max-runs", type=click.IntRange(min=1), default=None, help="Stop after this many runs.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Dask scheduler (tcp://HOST:8786) for every run's comparisons and embedding; overrides "
                   "[cluster] address in the job file. Default: in-process.")
def schedule_command(job_path: Path, every: float, max_runs: int | None, quiet: bool, cluster: str | None) -> None:
    """Run a job file now and then at a fixed interval, until SIGINT or SIGTERM.

    A signal stops the schedule cleanly between steps (exit code 0). A run that overlaps another run
    of the same job (say from cron) is skipped, not queued. Runs use the Dask cluster of --cluster or
    of the job file's [cluster] address, like `storydiff run`.
    """
    from compare.runs.distributed import cluster_address

    load_job(job_path)  # a bad job file is exit 2 before the first run, like `storydiff run`
    cluster = cluster_address(cluster, None)
    stop = _StopFlag()
    stop.install()

    def say(message: str) -> None:
        if not quiet or message.startswith(("run failed", "skipped")):
            click.echo(f"{datetime.now().astimezone().isoformat(timespec='seconds')} {message}", err=True)

    results = run_schedule(job_path, every, should_stop=stop, notify=say, max_runs=max_runs, cluster=cluster)
    click.echo(f"storydiff: schedule stopped after {len(results)} run{'s' if len(results) != 1 else ''}.",
               err=True)


@click.command("history")
@_job_argument
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of runs, newest first).")
def history_command(job_path: Path, limit: int, as_json: bool) -> None:
    """List the past runs of a job: when, what was fetched, which stories changed, errors."""
    job = load_job(job_path)
    runs = job_history(job, limit)
    if as_json:
        click.echo(json.dumps(runs, ensure_ascii=False, indent=2))
        return
    if not runs:
        click.echo("no runs yet.")
        return
    for run in runs:
        ended = run["finished_at"] or "-"
        click.echo(f"run {run['id']}  {run['started_at']} -> {ended}  {run['status']}")
        click.echo(f"  fetched {run['fetched']}, not modified {run['not_modified']}, new articles "
                   f"{run['new_articles']}, changed {run['new_versions']}")
        changed = run["stories_changed"]
        click.echo(f"  stories changed: {', '.join(changed) if changed else 'none'}")
        for error in run["errors"]:
            click.echo(f"  error: {error['outlet']}: {error['error']}")
