"""Measure the cue detectors on the labelled news statements in `tests/data/cues/`, next to word-list baselines.

Run: `.venv/bin/python benchmarks/cues.py [--markdown]`. One JSONL file per cue type; each line is a statement
whose gold spans of that type are marked inline with [[...]] (the markup is removed before detection).
Optional per-line fields: `values` (normalised value per span, in order), `sources` (attribution: who is
cited), `reference` (article date for weekdays, default 2025-11-21, a Friday). A file is annotated only for
its own type, so each type is scored only on its own file (positives and hard negatives).

Scores per type: span precision/recall exact and overlapping, sentence-level P/R/F1, and for number, date,
place, entity and attribution the share of gold spans whose normalised value (or cited source) is right
(a missed span counts as wrong).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compare.cues.detect import detect_cues  # noqa: E402

DATA = ROOT / "tests" / "data" / "cues"
TYPES = ("hedge", "negation", "attribution", "number", "date", "place", "entity", "loaded")
VALUE_TYPES = ("number", "date", "place", "entity", "attribution")
DEFAULT_REFERENCE = date(2025, 11, 21)
_MARK = re.compile(r"\[\[(.+?)\]\]")

Span = tuple[int, int]


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    text: str
    value: Any = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    id: str
    type: str
    text: str
    spans: tuple[GoldSpan, ...]
    reference: date


def parse_marked(marked: str) -> tuple[str, list[Span]]:
    """Strip [[...]] markup; return the clean text and the spans of the marked parts."""
    out, spans, pos = [], [], 0
    length = 0
    for m in _MARK.finditer(marked):
        out.append(marked[pos:m.start()])
        length += m.start() - pos
        inner = m.group(1)
        spans.append((length, length + len(inner)))
        out.append(inner)
        length += len(inner)
        pos = m.end()
    out.append(marked[pos:])
    return "".join(out), spans


def load_examples(cue_type: str, data: Path = DATA) -> list[Example]:
    examples = []
    path = data / f"{cue_type}.jsonl"
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        text, spans = parse_marked(item["text"])
        values = item.get("values") or [None] * len(spans)
        if len(values) != len(spans):
            raise ValueError(f"{path}:{lineno}: {len(spans)} spans but {len(values)} values")
        sources = tuple(item.get("sources", ()))
        gold = tuple(GoldSpan(s, e, text[s:e], v, sources) for (s, e), v in zip(spans, values, strict=True))
        ref = date.fromisoformat(item["reference"]) if "reference" in item else DEFAULT_REFERENCE
        examples.append(Example(item["id"], cue_type, text, gold, ref))
    return examples


# ------------------------------------------------------------------------------------------ scoring

@dataclass
class Score:
    tp_exact: int = 0
    pred: int = 0
    gold: int = 0
    pred_overlap_ok: int = 0
    gold_overlap_found: int = 0
    sent_tp: int = 0
    sent_fp: int = 0
    sent_fn: int = 0
    value_ok: int = 0
    value_total: int = 0
    errors: list[str] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    @property
    def exact_p(self) -> float:
        return self._ratio(self.tp_exact, self.pred)

    @property
    def exact_r(self) -> float:
        return self._ratio(self.tp_exact, self.gold)

    @property
    def overlap_p(self) -> float:
        return self._ratio(self.pred_overlap_ok, self.pred)

    @property
    def overlap_r(self) -> float:
        return self._ratio(self.gold_overlap_found, self.gold)

    @property
    def sent_p(self) -> float:
        return self._ratio(self.sent_tp, self.sent_tp + self.sent_fp)

    @property
    def sent_r(self) -> float:
        return self._ratio(self.sent_tp, self.sent_tp + self.sent_fn)

    @property
    def sent_f1(self) -> float:
        p, r = self.sent_p, self.sent_r
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def value_acc(self) -> float | None:
        return self.value_ok / self.value_total if self.value_total else None


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _fold(text: str) -> str:
    from anyascii import anyascii

    text = anyascii(text).lower()
    text = re.sub(r"['`]s\b", "", text)
    text = re.sub(r"['`.]", "", text)
    text = re.sub(r"^(the|a|an)\s+", "", text.strip())
    return re.sub(r"\s+", " ", text).strip()


def value_matches(cue_type: str, gold: GoldSpan, pred: Any) -> bool:
    """Whether a predicted cue's normalised value (or source) agrees with the gold annotation."""
    if cue_type == "attribution":
        source = _fold(getattr(pred, "source", None) or "")
        if not source:
            return False
        for want in gold.sources:
            want = _fold(want)
            if source == want or re.search(rf"\b{re.escape(want)}\b", source) or re.search(
                    rf"\b{re.escape(source)}\b", want):
                return True
        return False
    value = getattr(pred, "value", None)
    if not isinstance(value, dict) or not isinstance(gold.value, dict):
        return False
    if cue_type in ("place", "entity"):
        return _fold(str(value.get("canonical", ""))) == _fold(str(gold.value["canonical"]))
    for key, want in gold.value.items():
        got = value.get(key)
        if isinstance(want, float | int) and not isinstance(want, bool) and isinstance(got, float | int):
            if abs(float(got) - float(want)) > 0.051 * max(1.0, abs(float(want)) / 100):
                return False
        elif got != want:
            return False
    return True


Detector = Callable[[Example], Sequence[Any]]  # returns objects with .start/.end (and .value/.source)


def score(examples: Iterable[Example], detector: Detector) -> Score:
    result = Score()
    for ex in examples:
        preds = list(detector(ex))
        pred_spans = [(p.start, p.end) for p in preds]
        gold_spans = [(g.start, g.end) for g in ex.spans]
        result.pred += len(preds)
        result.gold += len(gold_spans)
        result.tp_exact += len(set(pred_spans) & set(gold_spans))
        result.pred_overlap_ok += sum(any(_overlaps(p, g) for g in gold_spans) for p in pred_spans)
        result.gold_overlap_found += sum(any(_overlaps(g, p) for p in pred_spans) for g in gold_spans)
        if gold_spans and pred_spans:
            result.sent_tp += 1
        elif pred_spans:
            result.sent_fp += 1
            result.errors.append(f"FP {ex.id}: {[ex.text[s:e] for s, e in pred_spans]} in {ex.text!r}")
        elif gold_spans:
            result.sent_fn += 1
            result.errors.append(f"FN {ex.id}: {[g.text for g in ex.spans]} in {ex.text!r}")
        for g in ex.spans:
            if g.value is None and not (ex.type == "attribution" and g.sources):
                continue
            result.value_total += 1
            match = [p for p in preds if _overlaps((p.start, p.end), (g.start, g.end))]
            if any(value_matches(ex.type, g, p) for p in match):
                result.value_ok += 1
            else:
                got = [(p.text, getattr(p, "value", None) if ex.type != "attribution" else p.source)
                       for p in match]
                result.errors.append(f"VAL {ex.id}: {g.text!r} want {g.value or list(g.sources)} got {got}")
    return result


def storydiff_detector(ex: Example) -> list[Any]:
    return [c for c in detect_cues(ex.text, language="en", reference=ex.reference) if c.type.value == ex.type]


# ---------------------------------------------------------------------------------------- baselines

# A common 34-word hedge/weasel list (modal verbs, epistemic adverbs and verbs), matched as words.
HEDGE_34 = (
    "may might could would should possibly probably perhaps likely unlikely apparently seemingly "
    "reportedly allegedly suggest suggests suggested appear appears appeared seem seems seemed believe "
    "believed think thought claim claims claimed indicate indicates suspect suspected"
).split()
# The classic 12-word negation list.
NEGATION_12 = "not no n't never none nothing nobody nowhere neither nor without cannot".split()
# A generic 52-word loaded/biased-language list.
LOADED_52 = (
    "slammed blasted radical extremist regime terrorist terrorists thugs mob scheme ploy draconian "
    "disastrous shocking outrageous notorious so-called propaganda puppet junta invaders occupiers "
    "liberated massacre slaughter heroic brutal ruthless corrupt greedy militant hostage crackdown "
    "sabotage chaos catastrophic horrific reckless rogue lavish elite fascist nazi admitted conceded "
    "insisted rampage stormed crisis failed bloody cowardly"
).split()


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    text: str
    value: Any = None
    source: str | None = None


def wordlist_detector(words: Sequence[str]) -> Detector:
    parts = [re.escape(w) + r"\b" if w.startswith("n'") else r"(?<![\w'-])" + re.escape(w) + r"(?![\w'-])"
             for w in sorted(words, key=len, reverse=True)]
    pattern = re.compile("|".join(parts), re.IGNORECASE)

    def detect(ex: Example) -> list[_Hit]:
        return [_Hit(m.start(), m.end(), m.group(0)) for m in pattern.finditer(ex.text)]

    return detect


BASELINES: dict[str, tuple[str, Detector]] = {
    "hedge": ("34-word hedge list", wordlist_detector(HEDGE_34)),
    "negation": ("12-word negation list", wordlist_detector(NEGATION_12)),
    "loaded": ("52-word loaded list", wordlist_detector(LOADED_52)),
}


# ------------------------------------------------------------------------------------------- report

def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def table(rows: list[tuple[str, int, int, Score]]) -> str:
    lines = [
        "| cue type | statements (pos/all) | span P exact | span R exact | span P overlap | span R overlap "
        "| sentence P | sentence R | sentence F1 | value correct |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, pos, total, s in rows:
        lines.append(
            f"| {name} | {pos}/{total} | {_pct(s.exact_p)} | {_pct(s.exact_r)} | {_pct(s.overlap_p)} | "
            f"{_pct(s.overlap_r)} | {_pct(s.sent_p)} | {_pct(s.sent_r)} | {_pct(s.sent_f1)} | "
            f"{_pct(s.value_acc)} |")
    return "\n".join(lines)


def run(types: Sequence[str] = TYPES) -> tuple[list[tuple[str, int, int, Score]], list[tuple[str, int, int, Score]]]:
    ours, baselines = [], []
    for cue_type in types:
        examples = load_examples(cue_type)
        pos = sum(1 for e in examples if e.spans)
        ours.append((cue_type, pos, len(examples), score(examples, storydiff_detector)))
        if cue_type in BASELINES:
            label, detector = BASELINES[cue_type]
            baselines.append((f"{cue_type}: {label}", pos, len(examples), score(examples, detector)))
    return ours, baselines


def run_heldout() -> tuple[list[tuple[str, int, int, Score]], list[tuple[str, int, int, Score]]]:
    """The same scores on `tests/data/cues/heldout/`: statements written after the detector was tuned on
    the main set and never used to change it (hedge, negation, loaded, number, date)."""
    ours, baselines = [], []
    for cue_type in TYPES:
        if not (DATA / "heldout" / f"{cue_type}.jsonl").exists():
            continue
        examples = load_examples(cue_type, DATA / "heldout")
        pos = sum(1 for e in examples if e.spans)
        ours.append((cue_type, pos, len(examples), score(examples, storydiff_detector)))
        if cue_type in BASELINES:
            label, detector = BASELINES[cue_type]
            baselines.append((f"{cue_type}: {label}", pos, len(examples), score(examples, detector)))
    return ours, baselines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", metavar="TYPE", help="also list the errors for one cue type")
    args = parser.parse_args(argv)
    ours, baselines = run()
    print("storydiff detect_cues (English)\n")
    print(table(ours))
    print("\nword-list baselines, same statements\n")
    print(table(baselines))
    held, held_baselines = run_heldout()
    print("\nheld-out statements (written after tuning, never tuned on)\n")
    print(table(held + held_baselines))
    if args.errors:
        for name, _, _, s in ours + held:
            if name == args.errors:
                print("\n" + "\n".join(s.errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
