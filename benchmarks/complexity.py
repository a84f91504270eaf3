"""Growth exponent of every stage on adversarial text: does one odd article make a stage super-linear?

Run: `.venv/bin/python benchmarks/complexity.py [--quick] [--only cues,segment] [--gen numbers,repeat]
[--out docs/benchmarks.md]`.

Each generator (long runs of numbers, dates, names, quotes, punctuation, one repeated word, mixed scripts,
a Russian list of figures, one huge word) makes text of a given length; each stage (HTML extraction,
segmentation, cues, phrase finding, alignment, differences, HTML and PDF rendering) is timed on it at
doubling lengths. The exponent k of time ~ size^k is the least-squares slope of log(time) on log(size):
1 is linear, 2 quadratic. Issue 16 asks for k <= 1.2 everywhere. A stage's input is one odd paragraph
inside an ordinary two-article story, so what is measured is what a report pays for such a page.

The table goes to its own section of docs/benchmarks.md (between the COMPLEXITY markers); the rest of
the file is kept. Sizes are small enough for the whole run to take a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compare.corpus.base import Story  # noqa: E402
from compare.corpus.text import extract_html  # noqa: E402
from compare.cues.detect import detect_cues  # noqa: E402
from compare.model import Document  # noqa: E402

BEGIN = "<!-- COMPLEXITY:BEGIN (benchmarks/complexity.py) -->"
END = "<!-- COMPLEXITY:END -->"
LIMIT = 1.2

_FIRST = ["Anna", "Boris", "Olena", "Dmitry", "Mara", "Viktor", "Iryna", "Pavel", "Sofia", "Taras"]
_LAST = ["Petrova", "Ivanov", "Kovalenko", "Shevchuk", "Quint", "Berg", "Hale", "Orlov", "Bondar", "Marsh"]
_MONTHS = ["January", "March", "April", "June", "July", "September", "October", "November"]
_MIXED = ["Kupyansk", "Купянськ", "город", "الموصل", "東京", "Ελλάδα", "tanks", "танки", "42", "Київ"]


def _numbers(rng: random.Random, n: int) -> str:
    return " ".join(str(rng.randint(1, 99_999)) for _ in range(n))


def _dates(rng: random.Random, n: int) -> str:
    return ", ".join(f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(1990, 2025)}" for _ in range(n))


def _names(rng: random.Random, n: int) -> str:
    return ", ".join(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(n))


def _quotes(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(['"yes"', "“no”", "«да»", "'maybe'", "„nie“", '"'])for _ in range(n))


def _punctuation(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(["...", ",", "!?", "--", ";", ":", "(", ")", "-", "–"]) for _ in range(n))


def _repeat(rng: random.Random, n: int) -> str:
    return " ".join(["said"] * n)


def _mixed(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_MIXED) for _ in range(n))


def _ru_figures(rng: random.Random, n: int) -> str:
    return ", ".join(f"{rng.randint(1, 999)} {rng.choice(['тысяч', 'человек', 'единиц', 'млн', '%'])}"
                     for _ in range(n))


def _huge_word(rng: random.Random, n: int) -> str:
    return "x" * (n * 5)


# name -> (make text of n units, language of the article)
GENERATORS: dict[str, tuple[Callable[[random.Random, int], str], str]] = {
    "numbers": (_numbers, "en"), "dates": (_dates, "en"), "names": (_names, "en"), "quotes": (_quotes, "en"),
    "punctuation": (_punctuation, "en"), "repeat": (_repeat, "en"), "mixed": (_mixed, "en"),
    "ru_figures": (_ru_figures, "ru"), "huge_word": (_huge_word, "en"),
}

BASE = {
    "en": ("Officials said the bridge near Kupyansk was hit on Tuesday. About 40 people were evacuated, "
           "according to the regional governor. The army reportedly denied the claim."),
    "ru": ("Власти заявили, что мост под Купянском был поражён во вторник. Около 40 человек эвакуированы, "
           "сообщил губернатор области."),
}


class HashEmbedder:
    """Deterministic vectors from a hash of the text: alignment's cost without a model."""

    name = "hash-embedder"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 32), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).standard_normal(32)
            out[i] = v / np.linalg.norm(v)
        return out


def _story(odd: str, language: str) -> Story:
    base = BASE[language]
    docs = (Document("a", "Outlet A", base + "\n\n" + odd + "\n\n" + base, language=language,
                     published="2025-11-21"),
            Document("b", "Outlet B", base, language=language, published="2025-11-21"))
    return Story("bench", "Complexity", "", docs, "<generated>")


def _comparison(odd: str, language: str) -> Any:
    from compare.config import Settings
    from compare.pipeline import compare_story

    return compare_story(_story(odd, language), Settings(cache_path=None), embedder=HashEmbedder())


def _stage_extract(odd: str, language: str) -> Callable[[], Any]:
    html = f"<html><body><article><h1>Title</h1><p>{BASE[language]}</p><p>{odd}</p></article></body></html>"
    return lambda: extract_html(html, "<bench>")


def _stage_segment(odd: str, language: str) -> Callable[[], Any]:
    from compare.segment import sentence_spans

    text = BASE[language] + "\n\n" + odd
    return lambda: list(sentence_spans(text, language))


def _unbounded() -> None:
    """Lift the cue detector's length bound (MAX_CUE_CHARS): the cue and phrase stages measure the
    algorithm on the whole odd paragraph as one statement, not the bound that backs it up."""
    from compare.cues import detect as cues
    cues.MAX_CUE_CHARS = 10**9


def _stage_cues(odd: str, language: str) -> Callable[[], Any]:
    _unbounded()
    return lambda: detect_cues(odd, language=language)


def _stage_phrases(odd: str, language: str) -> Callable[[], Any]:
    from compare.cues import phrases
    _unbounded()
    cues = detect_cues(odd, language=language)
    return lambda: (phrases.find_locations(odd, cues, language), phrases.find_actors(odd, cues, language),
                    phrases.find_roles(odd, cues, language))


def _stage_align(odd: str, language: str) -> Callable[[], Any]:
    from compare.align.events import build_events
    from compare.align.links import link_statements
    from compare.align.scorer import default_weights
    from compare.pipeline import embed_statements, segment_documents

    statements = segment_documents(_story(odd, language).documents)
    embedder = HashEmbedder()
    vectors = embed_statements(statements, embedder)
    weights = default_weights(embedder.name)

    def run() -> Any:
        links = link_statements(statements, vectors, threshold=weights.threshold, weights=weights)
        return build_events(statements, links, merge_threshold=weights.merge_threshold)
    return run


def _stage_differences(odd: str, language: str) -> Callable[[], Any]:
    from compare.differ.detect import find_differences, find_highlights

    c = _comparison(odd, language)

    def run() -> Any:
        differences = find_differences(c.documents, c.statements, c.events, c.unique)
        return find_highlights(c.statements, c.events, differences)
    return run


def _stage_html(odd: str, language: str) -> Callable[[], Any]:
    from compare.report.render import render_html

    c = _comparison(odd, language)
    return lambda: render_html(c)


def _stage_pdf(odd: str, language: str) -> Callable[[], Any]:
    from compare.report.render import render_pdf

    c = _comparison(odd, language)
    return lambda: render_pdf(c)


# name -> (stage, sizes in generator units): sizes double, so the fit spans a factor of 8.
STAGES: dict[str, tuple[Callable[[str, str], Callable[[], Any]], tuple[int, ...]]] = {
    "extract": (_stage_extract, (1000, 2000, 4000, 8000)),
    "segment": (_stage_segment, (1000, 2000, 4000, 8000)),
    "cues": (_stage_cues, (1000, 2000, 4000, 8000)),
    "phrases": (_stage_phrases, (1000, 2000, 4000, 8000)),
    "align": (_stage_align, (500, 1000, 2000, 4000)),
    "differences": (_stage_differences, (500, 1000, 2000, 4000)),
    "html": (_stage_html, (500, 1000, 2000, 4000)),
    "pdf": (_stage_pdf, (250, 500, 1000, 2000)),
}


def exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) on log(size): the k in time ~ size^k."""
    x = np.log(np.asarray(sizes, dtype=float))
    y = np.log(np.maximum(np.asarray(seconds, dtype=float), 1e-6))
    return float(np.polyfit(x, y, 1)[0])


def _time(fn: Callable[[], Any], budget: float) -> float:
    """Best of a few runs (at least one; more while they are cheap): the figure least disturbed by noise."""
    best = math.inf
    spent = 0.0
    for _ in range(5):
        clock = time.perf_counter()
        fn()
        took = time.perf_counter() - clock
        best, spent = min(best, took), spent + took
        if spent > budget:
            break
    return best


def measure(stage: str, generator: str, *, quick: bool = False, cap_s: float = 20.0) -> dict[str, Any]:
    """Times of one stage on one generator at doubling sizes, with the fitted exponent.

    Stops growing once one size takes over `cap_s` (a quadratic path would otherwise take minutes)."""
    make_stage, sizes = STAGES[stage]
    make_text, language = GENERATORS[generator]
    if quick:
        sizes = tuple(s // 4 for s in sizes)
    rows = []
    for size in sizes:
        text = make_text(random.Random(size), size)
        fn = make_stage(text, language)
        fn()  # warm caches (lexicons, templates, fonts)
        took = _time(fn, budget=0.5)
        rows.append((len(text), took))
        if took > cap_s:
            break
    k = exponent([r[0] for r in rows], [r[1] for r in rows]) if len(rows) >= 2 else float("nan")
    return {"stage": stage, "generator": generator, "sizes": [r[0] for r in rows],
            "seconds": [r[1] for r in rows], "exponent": k}


def markdown(results: list[dict[str, Any]], note: str = "") -> str:
    """The section: one row per stage, one column per generator, the exponent (and the largest size's time)."""
    generators = list(dict.fromkeys(r["generator"] for r in results))
    stages = list(dict.fromkeys(r["stage"] for r in results))
    cell = {(r["stage"], r["generator"]): r for r in results}
    worst = max((r["exponent"] for r in results if not math.isnan(r["exponent"])), default=float("nan"))
    lines = [BEGIN, "## Complexity on adversarial text (issue 16)", "",
             "Generated by `benchmarks/complexity.py`. Growth exponent k of time ~ size^k (least squares on "
             "log-log, sizes doubling over a factor of 8; in brackets the time at the largest size and that "
             "size in characters). k ≤ 1.2 is linear within noise; 2 is quadratic. Each input is one odd "
             "paragraph inside an ordinary two-article story.", ""]
    if note:
        lines += [note, ""]
    lines += ["| stage | " + " | ".join(generators) + " |", "|---|" + "---|" * len(generators)]
    for stage in stages:
        cells = []
        for gen in generators:
            r = cell.get((stage, gen))
            if r is None:
                cells.append("")
                continue
            mark = "**" if r["exponent"] > LIMIT else ""
            cells.append(f"{mark}{r['exponent']:.2f}{mark} ({r['seconds'][-1]:.3g} s @ {r['sizes'][-1]:,})")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", f"Largest exponent: {worst:.2f} (limit {LIMIT}).", END]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace (or append) the complexity section of `path`, keeping everything else as it is."""
    text = path.read_text("utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(STAGES), help="comma-separated stages")
    parser.add_argument("--gen", default=",".join(GENERATORS), help="comma-separated generators")
    parser.add_argument("--quick", action="store_true", help="sizes divided by 4 (a smoke run)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--note", default="", help="a line to put above the table")
    args = parser.parse_args()
    results = []
    clock = time.perf_counter()
    for stage in args.only.split(","):
        for gen in args.gen.split(","):
            r = measure(stage, gen, quick=args.quick)
            results.append(r)
            print(f"{stage:12s} {gen:12s} k={r['exponent']:.2f} "
                  + " ".join(f"{s}:{t:.3f}s" for s, t in zip(r["sizes"], r["seconds"], strict=True)), flush=True)
    total = time.perf_counter() - clock
    note = args.note or f"Whole run {total:.0f} s."
    section = markdown(results, note)
    print(section)
    if not args.no_write:
        write_section(args.out, section)


if __name__ == "__main__":
    main()
