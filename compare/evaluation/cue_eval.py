"""Cue detection measured on real text annotated by others (issue 15, items 4 and 5).

A cue corpus is a JSON Lines file (built by `benchmarks/build_cue_corpora.py` under `.data/cues/`, never
committed) with one sentence a line:

    {"cue_corpus": "babe-sg2", "id": "...", "group": "...", "text": "...",
     "hedge": [[start, end], ...] | null, "negation": [...] | null, "loaded": [...] | null}

A type is `null` where the corpus does not annotate it, and it is then not scored there. `group` is the unit a
split keeps together (an article, a review, a document): `split_of(group)` puts a fixed fifth of the groups in
the held-out test split, the rest is the development split that rules, lexicon entries and the learned loaded
wording model (benchmarks/fit_loaded_words.py) were tuned on. `storydiff eval CORPUS.jsonl` reports the test
split by default.

Scores, per corpus and type, for storydiff's detector and for a fixed word-list baseline in the same run:
- sentence level: a sentence is positive when it has at least one gold cue of the type; P/R/F1 of "the
  detector found one";
- token level: a word token is positive when it lies inside a gold span; P/R/F1 of tokens inside detected
  spans (for BABE's biased words this is the span-level measure; for hedge and negation the cue words).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS_KEY = "cue_corpus"
TYPES = ("hedge", "negation", "loaded")
TEST_SHARE = 5  # one group in five is held out

Span = tuple[int, int]

# ----------------------------------------------------------------------------------- lexicon baselines
# Short fixed lists: what a reader would write down in a minute. They are the bar the detector must clear.
HEDGE_BASELINE = (
    "may", "might", "could", "possibly", "perhaps", "probably", "reportedly", "allegedly", "apparently",
    "suggest", "suggests", "suggested", "likely", "unlikely", "appear", "appears", "appeared", "seem", "seems",
    "seemed", "believe", "believed", "unclear", "possible", "presumably", "purportedly", "supposedly",
    "estimate", "estimated", "indicate", "indicates", "rumored", "claimed", "claims",
)
NEGATION_BASELINE = ("not", "no", "never", "n't", "without", "none", "nor", "neither", "nobody", "nothing",
                     "cannot")
LOADED_BASELINE = (
    "radical", "extreme", "extremist", "far-right", "far-left", "racist", "bigoted", "outrageous", "shocking",
    "disgusting", "absurd", "ridiculous", "insane", "crazy", "disastrous", "catastrophic", "reckless", "brutal",
    "vicious", "cruel", "evil", "corrupt", "dangerous", "horrific", "terrible", "awful", "lies", "liar",
    "propaganda", "regime", "thugs", "mob", "hateful", "hate", "slammed", "blasted", "destroyed", "attack",
    "attacks", "war", "crisis", "chaos", "scandal", "disgraceful", "shameful", "pathetic", "stupid",
    "idiotic", "bizarre", "alarming", "draconian", "notorious",
)
BASELINES = {"hedge": HEDGE_BASELINE, "negation": NEGATION_BASELINE, "loaded": LOADED_BASELINE}

_TOKEN = re.compile(r"n[’']t\b|[\w]+(?:[-’'][\w]+)*", re.IGNORECASE)


def tokens(text: str) -> list[Span]:
    """Word tokens of a sentence as spans ("isn't" is "is" + "n't", "far-right" one token)."""
    out = []
    for m in _TOKEN.finditer(text):
        s, e = m.span()
        low = m.group(0).lower().replace("’", "'")
        if low.endswith("n't") and len(low) > 3:  # "isn't" -> "is", "n't"
            out += [(s, e - 3), (e - 3, e)]
        else:
            out.append((s, e))
    return out


def _baseline_regex(words: Sequence[str]) -> re.Pattern[str]:
    plain = sorted((w for w in words if w != "n't"), key=len, reverse=True)
    alt = r"(?<![\w'’-])(?:" + "|".join(re.escape(w) for w in plain) + r")(?![\w'’]|-\w)"
    if "n't" in words:
        alt += r"|n[’']t\b"
    return re.compile(alt, re.IGNORECASE)


_BASELINE_RE = {k: _baseline_regex(v) for k, v in BASELINES.items()}


def baseline_spans(text: str, kind: str) -> list[Span]:
    return [m.span() for m in _BASELINE_RE[kind].finditer(text)]


def storydiff_spans(text: str, kind: str) -> list[Span]:
    from compare.cues.detect import detect_cues

    return [(c.start, c.end) for c in detect_cues(text) if c.type.value == kind]


# ---------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Record:
    corpus: str
    id: str
    group: str
    text: str
    spans: dict[str, tuple[Span, ...] | None]


def split_of(group: str) -> str:
    """'test' for a fixed fifth of the groups (by hash, so stable across runs and machines), else 'dev'."""
    return "test" if int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16) % TEST_SHARE == 0 else "dev"


def is_cue_corpus(path: Path) -> bool:
    """A JSON Lines file whose first record names its cue corpus."""
    try:
        with Path(path).open(encoding="utf-8") as f:
            first = f.readline()
        return CORPUS_KEY in json.loads(first)
    except (OSError, ValueError, TypeError):
        return False


def load_cue_corpus(path: Path) -> list[Record]:
    out: list[Record] = []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            spans = {k: (None if d.get(k) is None else tuple((int(s), int(e)) for s, e in d[k])) for k in TYPES}
            out.append(Record(d[CORPUS_KEY], str(d.get("id", len(out))), str(d.get("group", d.get("id", len(out)))),
                              d["text"], spans))
    return out


def _record(corpus: str, rid: str, group: str, text: str, **spans: Iterable[Span] | None) -> dict[str, Any]:
    out: dict[str, Any] = {CORPUS_KEY: corpus, "id": rid, "group": group, "text": text}
    for k in TYPES:
        v = spans.get(k)
        out[k] = None if v is None else sorted({(int(s), int(e)) for s, e in v})
    return out


# ----------------------------------------------------------------------------------------- loaders


def _word_spans(text: str, word: str) -> list[Span]:
    w = word.strip().strip("\"'“”‘’.,;:!?()")
    if not w:
        return []
    pat = re.compile(r"(?<![\w])" + r"\s+".join(re.escape(p) for p in w.split()) + r"(?![\w])", re.IGNORECASE)
    return [m.span() for m in pat.finditer(text)]


def babe_records(csv_text: str, *, corpus: str = "babe") -> list[dict[str, Any]]:
    """BABE / MBIC final labels (`;`-separated, a `biased_words` list per sentence): loaded-wording gold.

    Every occurrence of a listed biased word in its sentence is a gold span; sentences without agreement on
    the bias label ("No agreement") are skipped; duplicates of a sentence are kept once. Group: the article."""
    import ast

    out, seen = [], set()
    for row in csv.DictReader(io.StringIO(csv_text), delimiter=";"):
        text = (row.get("text") or "").strip()
        if not text or text in seen or row.get("label_bias") not in ("Biased", "Non-biased"):
            continue
        seen.add(text)
        try:
            words = ast.literal_eval(row.get("biased_words") or "[]")
        except (ValueError, SyntaxError):
            continue
        spans = [sp for w in words if isinstance(w, str) for sp in _word_spans(text, w)]
        rid = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
        out.append(_record(corpus, rid, row.get("news_link") or rid, text, loaded=spans))
    return out


_CUE_KIND = {"speculation": "hedge", "negation": "negation"}


def _sfu_sentence(sent: ET.Element) -> tuple[str, dict[str, list[Span]]]:
    """Text (tokens joined by spaces) and cue spans of one SFU `<SENTENCE>`."""
    words: list[str] = []
    spans: dict[str, list[Span]] = {"hedge": [], "negation": []}
    pos = 0

    def walk(node: ET.Element, kind: str | None) -> None:
        nonlocal pos
        for child in node:
            if child.tag == "W":
                w = (child.text or "").strip()
                if w:
                    start = pos + (1 if words else 0)
                    words.append(w)
                    pos = start + len(w)
                    if kind:
                        spans[kind].append((start, pos))
            elif child.tag == "cue":
                walk(child, _CUE_KIND.get(child.get("type", "")))
            else:
                walk(child, kind)

    walk(sent, None)
    return " ".join(words), spans


def sfu_records(root: Path) -> list[dict[str, Any]]:
    """SFU Review corpus with negation and speculation (one XML file a review; `<W>` tokens, `<cue type=...>`).

    Speculation cues are hedge gold, negation cues negation gold; tokens are joined with spaces. Group: the
    review file."""
    out = []
    for path in sorted(Path(root).rglob("*.xml")):
        group = str(path.relative_to(root))
        for n, sent in enumerate(ET.parse(path).iter("SENTENCE")):
            text, spans = _sfu_sentence(sent)
            if text:
                out.append(_record("sfu-review", f"{group}:{n}", group, text, **spans))
    return out


def _bioscope_sentence(sent: ET.Element) -> tuple[str, dict[str, list[Span]]]:
    """Text and cue spans of one BioScope `<sentence>` (cues nest inside `<xcope>`)."""
    parts: list[str] = []
    spans: dict[str, list[Span]] = {"hedge": [], "negation": []}

    def walk(node: ET.Element) -> None:
        if node.text:
            start = sum(map(len, parts))
            parts.append(node.text)
            kind = _CUE_KIND.get(node.get("type", ""))
            if node.tag == "cue" and kind:
                spans[kind].append((start, start + len(node.text)))
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(sent)
    return "".join(parts), spans


def bioscope_records(xml_text: str, *, corpus: str = "bioscope") -> list[dict[str, Any]]:
    """BioScope XML (`<sentence>` with nested `<xcope>` and `<cue type="speculation|negation">`). Group: the
    document, by its `<DocID>` (the PMID in the abstracts and papers), else its `id`, else its position."""
    out: list[dict[str, Any]] = []
    for n, doc in enumerate(ET.fromstring(xml_text).iter("Document")):
        doc_id = (doc.findtext("DocID") or "").strip()
        group = doc_id or doc.get("id") or f"doc{n}"
        for sent in doc.iter("sentence"):
            text, spans = _bioscope_sentence(sent)
            if text.strip():
                out.append(_record(corpus, sent.get("id") or f"{group}:{len(out)}", group, text, **spans))
    return out


# ----------------------------------------------------------------------------------------- scoring


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn}


def _inside(tok: Span, spans: Sequence[Span]) -> bool:
    return any(s < tok[1] and tok[0] < e for s, e in spans)


def score(records: Sequence[Record], kind: str, predict: Callable[[str, str], list[Span]]) -> dict[str, Any]:
    """Sentence- and token-level P/R/F1 of `predict` against the gold spans of `kind`."""
    st = [0, 0, 0]
    tt = [0, 0, 0]
    n = 0
    for rec in records:
        gold = rec.spans.get(kind)
        if gold is None:
            continue
        n += 1
        pred = predict(rec.text, kind)
        g, p = bool(gold), bool(pred)
        st[0] += g and p
        st[1] += p and not g
        st[2] += g and not p
        for tok in tokens(rec.text):
            gi, pi = _inside(tok, gold), _inside(tok, pred)
            tt[0] += gi and pi
            tt[1] += pi and not gi
            tt[2] += gi and not pi
    return {"sentences": n, "sentence": _prf(*st), "token": _prf(*tt)}


def cue_summary(paths: Sequence[Path], *, split: str = "test") -> dict[str, Any]:
    """Scores per corpus and cue type, storydiff next to the baseline, on `split` ('test', 'dev' or 'all')."""
    by_corpus: dict[str, list[Record]] = {}
    for path in paths:
        for rec in load_cue_corpus(path):
            if split == "all" or split_of(rec.group) == split:
                by_corpus.setdefault(rec.corpus, []).append(rec)
    rows = []
    for corpus, recs in sorted(by_corpus.items()):
        for kind in TYPES:
            if not any(r.spans.get(kind) is not None for r in recs):
                continue
            rows.append({"corpus": corpus, "type": kind, "split": split,
                         "storydiff": score(recs, kind, storydiff_spans),
                         "baseline": score(recs, kind, baseline_spans)})
    return {"split": split, "datasets": [str(p) for p in paths], "rows": rows,
            "baselines": {k: list(v) for k, v in BASELINES.items()}}


def format_cue_summary(summary: dict[str, Any]) -> str:
    lines = [f"cue detection on {', '.join(summary['datasets'])} (split: {summary['split']})", "",
             f"{'corpus':<16} {'type':<9} {'level':<8} {'n':>6}  {'storydiff P/R/F1':<20} {'baseline P/R/F1':<20}"]
    for row in summary["rows"]:
        for level in ("sentence", "token"):
            s, b = row["storydiff"][level], row["baseline"][level]
            lines.append(f"{row['corpus']:<16} {row['type']:<9} {level:<8} {row['storydiff']['sentences']:>6}  "
                         f"{s['p']:.2f}/{s['r']:.2f}/{s['f1']:.2f}{'':<8} {b['p']:.2f}/{b['r']:.2f}/{b['f1']:.2f}")
    lines += ["", "baseline word lists: compare/evaluation/cue_eval.py "
                  "(HEDGE_BASELINE, NEGATION_BASELINE, LOADED_BASELINE)"]
    return "\n".join(lines)
