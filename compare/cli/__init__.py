"""The `storydiff` command line: the only module that prints or exits.

Subcommands live in their own modules and are imported only when invoked, so `storydiff --help`
stays instant. Library errors (`CompareError`) become one line on stderr and their exit code:
2 for bad input, 1 for everything else.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import click

from compare import __version__

# name -> (module:attribute, one-line help shown in `storydiff --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "compare": ("compare.cli:compare_command", "Compare the articles of one story and write reports."),
    "eval": ("compare.cli.eval:eval_command", "Measure alignment accuracy on annotated JSON Lines data."),
    "annotate": ("compare.cli:annotate_command", "Print the cues (hedges, numbers, ...) of each statement."),
    "run": ("compare.cli.runs:run_command", "Run a job file once: fetch, group, compare, publish."),
    "schedule": ("compare.cli.runs:schedule_command", "Run a job file at a fixed interval."),
    "history": ("compare.cli.runs:history_command", "List the past runs of a job."),
    "demo-server": ("compare.cli.demo:demo_server_command",
                    "Serve the bundled fixture feeds on 127.0.0.1 for trying scheduled runs."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (target, _) in COMMANDS.items() if _importable(target)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            return None
        return getattr(module, attr, None)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (target, short) in COMMANDS.items() if _importable(target)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _importable(target: str) -> bool:
    module_name = target.split(":")[0]
    if module_name == __name__:
        return True
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                               "max_content_width": 100})
@click.version_option(__version__, prog_name="storydiff")
def cli() -> None:
    """storydiff: compare how different outlets report the same story.

    Splits each article into statements, lines up statements about the same event across outlets,
    types their differences (omission, number, date, place, entity, attribution, hedging,
    negation, wording) and writes HTML, PDF and JSON reports.
    """


def main() -> None:
    """Console entry point: run the CLI, turning every error into one line on stderr and an exit code.

    Bad input (CompareError with exit code 2, click usage errors) never shows a traceback; an
    unexpected exception is reported in one line too, with STORYDIFF_DEBUG=1 to see the traceback.
    """
    import os
    import warnings

    from compare.errors import CompareError

    if not sys.warnoptions and not os.environ.get("STORYDIFF_DEBUG"):
        # Dependency deprecation notices are for developers (run with -W or STORYDIFF_DEBUG=1 to see
        # them); users get one line per real problem.
        warnings.simplefilter("ignore", (DeprecationWarning, PendingDeprecationWarning, FutureWarning))
    if os.environ.get("STORYDIFF_DEBUG"):  # the library logs (module loggers under "compare"); show it all
        import logging

        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("storydiff: %(levelname)s %(name)s: %(message)s"))
        logging.getLogger("compare").addHandler(handler)
        logging.getLogger("compare").setLevel(logging.DEBUG)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("storydiff: aborted.", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "storydiff"
        click.echo(f"storydiff: error: {_one_line(exc.format_message()).rstrip('.')}. See '{where} --help'.",
                   err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"storydiff: error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except CompareError as exc:
        click.echo(f"storydiff: error: {_one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("storydiff: interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()  # output piped into `head`: not an error worth a message
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("STORYDIFF_DEBUG"):
            raise
        click.echo(f"storydiff: internal error: {type(exc).__name__}: {_one_line(str(exc))[:300]} "
                   "(a bug; rerun with STORYDIFF_DEBUG=1 for the traceback and report it).", err=True)
        sys.exit(1)


def _one_line(message: str) -> str:
    """Messages can quote file content; keep them to one terminal line without control characters."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in message)
    return " ".join(cleaned.split())


# ------------------------------------------------------------------------------------ shared options

def model_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--model", default="auto", show_default=True, metavar="NAME|PATH",
        help="Embedding model: 'auto' (English model for English stories, multilingual otherwise), "
             "'minilm' (packaged all-MiniLM-L6-v2), 'use' (multilingual Universal Sentence Encoder), "
             "'e5' (multilingual-e5-small), or the path of a local sentence-transformers model folder.",
    )(f)


def threshold_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--threshold", type=click.FloatRange(0.0, 1.0), default=None, metavar="X",
        help="Link probability (0-1) a statement pair needs to be linked. "
             "Default: the value tuned on the claim gold (see docs/accuracy.md).",
    )(f)


def granularity_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--granularity", type=click.Choice(["claim", "event"]), default="claim", show_default=True,
        help="What a link means: 'claim' (the two statements report the same specific claim; differences are "
             "computed only there) or 'event' (the broader ECB+ sense: any two statements about the same "
             "happening).",
    )(f)


def _min_confidence(ctx: click.Context, param: click.Parameter, value: str | None) -> float:
    from compare.config import DEFAULT_MIN_CONFIDENCE, check_min_confidence

    return DEFAULT_MIN_CONFIDENCE if value is None else check_min_confidence(value, "--min-confidence")


def min_confidence_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--min-confidence", callback=_min_confidence, default=None, metavar="X",
        help="Confidence (0-1) a difference needs to be shown at once in the HTML (the rest wait behind "
             "'show N less certain') and to be printed in the PDF (which says how many it left out). "
             "The JSON lists every difference. Default: 0.5.",
    )(f)


def quiet_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--quiet", "-q", is_flag=True, help="Print only errors and output paths.")(f)


@contextmanager
def stage_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress display on stderr for pipeline stages (off with --quiet or when not a TTY)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        TimeElapsedColumn(), console=console, transient=True,
                        disable=quiet or not console.is_terminal)
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield update


# ------------------------------------------------------------------------------------------ compare

@click.command("compare")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", "outdir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Folder to write report.html, report.pdf and report.json into.")
@click.option("--format", "formats", default="html,pdf,json", show_default=True, metavar="LIST",
              help="Comma-separated output formats: html, pdf, json.")
@model_option
@threshold_option
@granularity_option
@min_confidence_option
@click.option("--story", "story_id", default=None, metavar="ID",
              help="With a JSON Lines file: the id of the story to compare (default: the first).")
@click.option("--max-article-mb", type=click.FloatRange(min=0.001), default=20.0, show_default=True,
              help="Refuse article files larger than this many megabytes.")
@click.option("--max-documents", type=click.IntRange(min=2), default=200, show_default=True,
              help="Refuse stories with more documents than this.")
@click.option("--page-size", default="A4 landscape", show_default=True,
              help="PDF page size, as CSS @page size (e.g. 'A4 portrait', 'letter landscape').")
@click.option("--cache/--no-cache", default=True, show_default=True,
              help="Cache embeddings on disk (STORYDIFF_CACHE, default ~/.cache/storydiff).")
@quiet_option
def compare_command(input_path: Path, outdir: Path, formats: str, model: str, threshold: float | None,
                    granularity: str, min_confidence: float, story_id: str | None, max_article_mb: float,
                    max_documents: int, page_size: str, cache: bool, quiet: bool) -> None:
    """Compare the articles of one story and write reports.

    INPUT is a story folder (with story.toml), a story JSON file, or a JSON Lines file of stories.
    Nothing is written unless every requested format renders: a failed run leaves the output folder
    exactly as it was. A successful run replaces the report files and removes report files of formats
    not requested this time, so the folder never mixes two runs. The paths written are printed.
    """
    from compare.config import Settings, check_page_size, parse_formats
    from compare.corpus.story import load_story
    from compare.embed.cache import default_cache_path
    from compare.errors import OutputError
    from compare.pipeline import compare_story
    from compare.report.pdf_worker import PdfWorker
    from compare.report.render import render_all, write_outputs

    settings = Settings(
        model=model, threshold=threshold, formats=parse_formats(formats), granularity=granularity,
        cache_path=default_cache_path() if cache else None,
        max_article_bytes=int(max_article_mb * 1024 * 1024), page_size=check_page_size(page_size),
        min_confidence=min_confidence,
    )
    story = load_story(input_path, max_article_bytes=settings.max_article_bytes, story_id=story_id,
                       max_documents=max_documents)
    _check_output_dir(outdir)
    for warning in story.warnings:
        click.echo(f"storydiff: warning: {_one_line(warning)}", err=True)
    with ExitStack() as stack:
        # The PDF helper imports WeasyPrint while the aligner and differ run, then lays out the PDF while
        # this process renders the JSON and HTML (compare/report/pdf_worker.py). It starts once the statements are
        # embedded: embedding uses every core, and a helper starting beside it only slows both down.
        pdf_worker = None

        def start_pdf_worker() -> None:
            nonlocal pdf_worker
            if "pdf" in settings.formats and pdf_worker is None:
                with suppress(OSError, TypeError):  # no second interpreter to start (sys.executable unknown
                    # or not runnable): render the PDF in this process
                    pdf_worker = stack.enter_context(PdfWorker.start())

        with stage_progress(quiet) as progress:
            def on_progress(stage: str, done: int, total: int) -> None:
                progress(stage, done, total)
                if stage == "embed" and done == total:
                    start_pdf_worker()

            comparison = compare_story(story, settings, on_progress=on_progress)
            progress("render", 0, 1)
            files = render_all(comparison, settings.formats, page_size=settings.page_size,
                               pdf_worker=pdf_worker, min_confidence=settings.min_confidence)
            progress("render", 1, 1)
    missing = [p for p in (outdir, *outdir.parents) if not p.exists()]
    try:
        written = write_outputs(outdir, files)
    except OutputError:
        for created in missing:  # leave no empty folders behind either (innermost first)
            with suppress(OSError):
                created.rmdir()
        raise
    for stale in REPORT_FILES - set(files):
        (outdir / stale).unlink(missing_ok=True)
    for path in written:
        click.echo(str(path))
    if not quiet:
        counts: dict[str, int] = {}
        for d in comparison.differences:
            counts[d.type.value] = counts.get(d.type.value, 0) + 1
        summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "none"
        click.echo(f"{len(comparison.documents)} documents, {len(comparison.events)} events, "
                   f"{len(comparison.differences)} differences ({summary}); model {comparison.meta['model']}",
                   err=True)


REPORT_FILES = {"report.html", "report.pdf", "report.json"}


def _check_output_dir(outdir: Path) -> None:
    """Fail before any work when the output folder cannot be used.

    Probes by creating and removing a temporary file (or folder, when `outdir` does not exist yet) in
    the nearest existing folder: permission bits alone lie for root and on read-only mounts.
    """
    import os
    import tempfile

    from compare.errors import OutputError

    probe = outdir
    try:
        while not probe.exists() and probe != probe.parent:
            if probe.is_symlink():
                raise OutputError(f"{outdir}: {probe} is a broken link. Choose another folder with -o.")
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            raise OutputError(f"{outdir}: {probe} exists and is not a folder. Choose another with -o.")
        if probe == outdir:
            fd, name = tempfile.mkstemp(prefix=".storydiff-probe-", dir=probe)
            os.close(fd)
            os.unlink(name)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".storydiff-probe-", dir=probe))
    except OSError as exc:
        raise OutputError(f"{outdir}: cannot write there ({exc.strerror or exc}). Choose another folder with -o.") \
            from exc


# ----------------------------------------------------------------------------------------- annotate

@click.command("annotate")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--language", default=None, metavar="XX",
              help="Language of the statements (en, ru, uk); default: detected per statement.")
@click.option("--reference-date", default=None, metavar="YYYY-MM-DD",
              help="Resolve weekdays and 'yesterday' against this date.")
def annotate_command(input_path: Path, language: str | None, reference_date: str | None) -> None:
    """Print the cues (hedges, numbers, ...) of each statement.

    INPUT is a text file with one statement per line, or JSON Lines with {"id": ..., "text": ...}
    (and an optional "language"). Prints one JSON line per input line: {"id": ..., "cues": [...]}.
    """
    import json

    from compare.annotate import annotate_lines

    for record in annotate_lines(input_path, language=language, reference=reference_date):
        click.echo(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
