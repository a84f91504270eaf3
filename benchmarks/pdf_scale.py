"""PDF rendering at scale: synthetic comparisons of 50, 300 and 1000 events x 8 outlets through the real
HTML template and WeasyPrint, each in a fresh process, measuring wall time and peak resident memory.

The synthetic events look like the demo's: every outlet carries one 20-40 word statement per event (one in
eight is absent), two typed differences per event with word highlights and a plain-change highlight.
Ratios are against the 50-event case; linear growth means time and memory ratios near the event ratio.
Past `compare.report.render.PDF_FULL_EVENTS` (300) events the PDF lays out that many side by side and summarises the
rest in one row each, so a 1000-event PDF costs about what a 300-event one does plus a short table.

Sizes run smallest first, then largest first, inside `--budget` seconds (default 285, under run_all's 300): a
size that would run past it is stopped and listed under "stopped", so the 1,000-event target is measured even
when the machine is too busy for all three.

Run alone: .venv/bin/python benchmarks/pdf_scale.py [--sizes 50,300,1000] [--budget S] [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OUTLETS = 8
WORDS = ("the bridge over the river reopened after months of repairs officials said on Tuesday while "
         "workers crews residents traffic police mayor council region ministry reported confirmed denied "
         "according to an estimated about more than city town district village road rail hub").split()
CYRILLIC = "Міст через річку Оскіл відкрили у вівторок після восьми місяців ремонту".split()


def synthetic_comparison(events: int, outlets: int = OUTLETS, seed: int = 7):  # type: ignore[no-untyped-def]
    """A Comparison shaped like a real one (statements, events, differences, highlights), built in memory."""
    from compare.model import (
        Comparison,
        Difference,
        DifferenceType,
        Document,
        Event,
        Evidence,
        Highlight,
        Statement,
        StatementRef,
    )

    rng = random.Random(seed)
    types = [t for t in DifferenceType if t != DifferenceType.OMISSION]
    texts: dict[str, list[str]] = {f"o{i}": [] for i in range(outlets)}
    members: list[list[tuple[str, int]]] = []
    for _ in range(events):
        row = []
        for i in range(outlets):
            if rng.random() < 0.125 and len(row) + (outlets - i) > 2:
                continue
            words = rng.choices(CYRILLIC if i == outlets - 1 else WORDS, k=rng.randint(20, 40))
            words[rng.randrange(len(words))] = str(rng.randint(10, 900))
            doc = f"o{i}"
            row.append((doc, len(texts[doc])))
            texts[doc].append(" ".join(words).capitalize() + ".")
        members.append(row)
    documents, statements = [], []
    for i in range(outlets):
        doc = f"o{i}"
        text, pos = "", 0
        for index, sentence in enumerate(texts[doc]):
            statements.append(Statement(doc, index, pos, pos + len(sentence), sentence,
                                        "uk" if i == outlets - 1 else "en"))
            text += sentence + "\n\n"
            pos = len(text)
        documents.append(Document(doc, f"Outlet {i + 1}" if i < outlets - 1 else "Вісник", text,
                                  title=f"Synthetic article {i + 1}", url=f"https://example.com/{doc}",
                                  published="2025-06-03T08:00:00+03:00", language="uk" if i == outlets - 1 else "en",
                                  synthetic=True))
    lookup = {(s.doc_id, s.index): s for s in statements}
    event_list, differences, highlights = [], [], []
    for number, row in enumerate(members, start=1):
        event_id = f"E{number}"
        refs = tuple(StatementRef(d, i) for d, i in row)
        event_list.append(Event(event_id, refs, tuple(sorted({d for d, _ in row})), 0.8))
        for k in range(2):
            kind = types[(number + k) % len(types)]
            diff_id = f"D{len(differences) + 1}"
            evidence = []
            for d, i in row[k::2]:
                s = lookup[(d, i)]
                start = rng.randrange(0, max(1, len(s.text) - 12))
                evidence.append(Evidence(d, i, s.start + start, s.start + start + 8, s.text[start:start + 8]))
                highlights.append(Highlight(d, i, start, start + 8, kind, diff_id))
                highlights.append(Highlight(d, i, min(len(s.text), start + 14), min(len(s.text), start + 20)))
            differences.append(Difference(diff_id, kind, event_id, tuple(d for d, _ in row), tuple(evidence),
                                          f"{kind.value} differs across {len(evidence)} outlets"))
    return Comparison(f"scale-{events}", f"Synthetic story: {events} events × {outlets} outlets — «тест»",
                      "Synthetic comparison for the PDF scale benchmark.", tuple(documents), tuple(statements),
                      (), tuple(event_list), tuple(differences), (), tuple(highlights),
                      {"generator": "storydiff benchmark", "created": "2025-06-04T00:00:00+00:00"})


def measure_one(events: int) -> dict[str, float | int | None]:
    """In this process: build, render HTML, render PDF; report times, pages, bytes and peak RSS."""
    from compare.report.render import PDF_FULL_EVENTS, render_html, render_pdf

    start = time.perf_counter()
    comparison = synthetic_comparison(events)
    built = time.perf_counter()
    html = render_html(comparison, for_pdf=True)
    html_done = time.perf_counter()
    pdf = render_pdf(comparison)
    done = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"events": events, "outlets": OUTLETS, "full_events": min(events, PDF_FULL_EVENTS),
            "build_s": round(built - start, 2),
            "html_s": round(html_done - built, 2), "pdf_s": round(done - html_done, 2),
            "pages": _pages(pdf),
            "pdf_mb": round(len(pdf) / 1e6, 2), "html_mb": round(len(html.encode()) / 1e6, 2),
            "peak_rss_mb": round(peak_kb / 1024, 1)}


def _pages(pdf: bytes) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:  # pypdf is a test dependency
        return None
    import io

    return len(PdfReader(io.BytesIO(pdf)).pages)


def with_ratios(rows: list[dict]) -> list[dict]:
    """Rows in size order, with time and memory ratios against the smallest size."""
    rows.sort(key=lambda r: r["events"])
    if not rows:
        return rows
    base = rows[0]
    for row in rows:
        row["time_ratio"] = round(row["pdf_s"] / base["pdf_s"], 2) if base["pdf_s"] else None
        row["memory_ratio"] = round(row["peak_rss_mb"] / base["peak_rss_mb"], 2)
        row["event_ratio"] = round(row["events"] / base["events"], 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,300,1000")
    parser.add_argument("--budget", type=float, default=285.0,
                        help="seconds for all sizes; a size that would run past it is stopped and reported as "
                             "such (benchmarks/run_all.py gives this benchmark 300 s)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    started = time.perf_counter()
    rows: list[dict] = []
    stopped: list[dict] = []  # sizes that did not finish within the budget (not in rows: never "measured")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    # The smallest first (the reference), then the largest (the 1,000-event target): a budget cut drops a
    # middle size, never the one the target is about. Rows are reported in size order.
    for size in sizes[:1] + sizes[:0:-1]:
        left = args.budget - (time.perf_counter() - started)
        try:
            result = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True,
                                    check=True, timeout=max(1.0, left))
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            stopped.append({"events": size, "note": f"stopped after {max(0.0, left):.0f} s, at the "
                                                    f"{args.budget:.0f} s budget for all sizes"})
            break
        # One JSON line per size as it finishes: a run cut short from outside still reports what it measured.
        print(json.dumps({"benchmark": "pdf_scale", "cpu_count": os.cpu_count(), "rows": with_ratios(rows)}),
              flush=True)
    report = {"benchmark": "pdf_scale", "cpu_count": os.cpu_count(), "rows": with_ratios(rows), "stopped": stopped}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
