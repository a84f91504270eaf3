"""Render the report's PDF in a second process, started during the comparison, beside the main one.

WeasyPrint is most of a report run: its import alone is ~0.6 CPU s and the layout several more, all in
one single-threaded Python process. `PdfWorker.start()` launches a helper interpreter at once (the CLI
starts it once the statements are embedded: embedding uses every core); it imports WeasyPrint and
initialises the fonts while the main process aligns and types differences. When the
comparison is done the main process sends it the print HTML and renders the JSON and HTML itself while
the helper lays out the PDF, so on two cores the import and the other formats leave the critical path.
The helper calls the same `compare.report.pdf.html_to_pdf` (the same fetcher that refuses every URL), so the
bytes are the same as rendering in-process.

Protocol: the parent writes the HTML as UTF-8 to the helper's stdin and closes it; the helper writes the
PDF to stdout and exits 0, or writes one line to stderr and exits 3 (a RenderError) or 1 (anything else).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from compare.errors import RenderError

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# A few characters in the fonts the report uses (Latin, Cyrillic, the markers): Pango and fontconfig
# load and cache them before the real document arrives.
_WARM_UP = ('<html><body style="font-family: \'DejaVu Sans\', sans-serif">Купʼянськ «лапки» — # '
            '<b>bold</b> <i>it</i> <span style="font-family: \'DejaVu Sans Mono\', monospace">mono</span>'
            '</body></html>')


class PdfWorker:
    """One helper process that renders one PDF. Use as a context manager so it never outlives the run."""

    def __init__(self, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self._process = process
        self._errors = errors
        self._sent = False

    @classmethod
    def start(cls) -> PdfWorker:
        """Launch the helper now; it warms up while the caller computes the comparison."""
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close(). A file, not a pipe: a chatty helper cannot block on stderr
        # -P: no current directory on the helper's sys.path (as for the storydiff script itself), so a
        # json.py or tempfile.py where the user runs the command cannot shadow the standard library
        command = [sys.executable, "-P", "-c",
                   f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
                   "from compare.report.pdf_worker import main; sys.exit(main())"]
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                       env=os.environ.copy())
        except OSError:
            errors.close()
            raise
        return cls(process, errors)

    def send(self, html: str) -> None:
        """Hand over the print HTML; the helper starts laying it out at once."""
        assert self._process.stdin is not None
        self._sent = True
        try:
            self._process.stdin.write(html.encode("utf-8"))
            self._process.stdin.close()
        except BrokenPipeError:  # the helper died early: `result` reports why
            pass

    def result(self) -> bytes:
        """The PDF, once the helper is done; RenderError with its message if it failed."""
        assert self._sent and self._process.stdout is not None
        pdf = self._process.stdout.read()
        code = self._process.wait()
        if code == 0 and pdf.startswith(b"%PDF"):
            return pdf
        self._errors.seek(0)
        lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        message = lines[-1] if lines else f"the PDF helper process exited with status {code}"
        if code == 3:  # the document itself could not be rendered: rendering it here would fail the same way
            raise RenderError(message)
        raise HelperFailed(f"PDF helper failed (status {code}): {message}")

    def close(self) -> None:
        """Stop the helper if it is still running (an error elsewhere, or the PDF was never asked for)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for stream in (self._process.stdin, self._process.stdout, self._errors):
            if stream is not None:
                stream.close()

    def __enter__(self) -> PdfWorker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class HelperFailed(RenderError):
    """The helper process broke (killed, out of memory, could not import the package), not the document:
    the caller renders the PDF in its own process instead."""


def main() -> int:
    """The helper's side: import and warm up WeasyPrint, then render what arrives on stdin."""
    from compare.report.pdf import html_to_pdf

    with suppress(RenderError):  # the real document will say what is wrong
        html_to_pdf(_WARM_UP, report_markup=True)
    html = sys.stdin.buffer.read().decode("utf-8")
    if not html:
        return 0  # the parent closed without sending (it failed or needed no PDF)
    try:
        pdf = html_to_pdf(html, report_markup=True)
    except RenderError as exc:
        print(str(exc).replace("\n", " "), file=sys.stderr)
        return 3
    except Exception as exc:  # reported to the parent as one line
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0
