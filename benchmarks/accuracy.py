"""storydiff's aligner next to single-signal baselines on the ECB+ dev stories; writes the table in docs/accuracy.md.

    .venv/bin/python benchmarks/accuracy.py            # both ECB+ dev files, writes docs/accuracy.md's table
    .venv/bin/python benchmarks/accuracy.py --no-write # print the table only

Everything runs in one process on the same statements and embeddings (packaged all-MiniLM-L6-v2).
storydiff runs at its default settings (the shipped scorer and threshold, through `compare.evaluation.evaluate`,
the code behind `storydiff eval`). Each baseline gets the threshold with its best F1 on the file
itself (optimistic for the baselines). Baselines: rapidfuzz token_set_ratio; TF-IDF cosine (fitted per
story); MiniLM cosine; a monotonic order-preserving aligner (Bertalign/Vecalign-style dynamic
programming over cosine per document pair; pairs off the path rank below every pair on it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.align.scorer import default_weights  # noqa: E402
from compare.embed.backends import get_embedder  # noqa: E402
from compare.embed.cache import EmbeddingCache, default_cache_path  # noqa: E402
from compare.evaluation.evaluate import (  # noqa: E402
    average_precision,
    best_threshold,
    evaluate_story,
    load_eval_stories,
    precision_at_1,
    prf,
)
from compare.pipeline import embed_statements, segment_documents  # noqa: E402

EVAL_DIR = ROOT.parent / "shared" / "eval"
FILES = ("ecbplus_topics_dev.jsonl", "ecbplus_topics_full_dev.jsonl")
BASELINES = ("rapidfuzz token_set_ratio", "TF-IDF cosine (fit per story)", "all-MiniLM-L6-v2 cosine",
             "monotonic DP aligner (MiniLM cosine)")
DP_GAP = 0.3  # a pair joins the monotonic path only when its cosine beats this


def monotonic_path(cos: np.ndarray, gap: float = DP_GAP) -> np.ndarray:
    """Boolean matrix of the pairs on the best order-preserving 1-1 path (skips are free)."""
    n, m = cos.shape
    gain = cos - gap
    dp = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        row, prev, g = dp[i], dp[i - 1], gain[i - 1]
        for j in range(1, m + 1):
            row[j] = max(prev[j], row[j - 1], prev[j - 1] + g[j - 1])
    on = np.zeros((n, m), dtype=bool)
    i, j = n, m
    while i > 0 and j > 0:
        if dp[i, j] == dp[i - 1, j - 1] + gain[i - 1, j - 1] and gain[i - 1, j - 1] > 0:
            on[i - 1, j - 1] = True
            i, j = i - 1, j - 1
        elif dp[i, j] == dp[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return on


def baseline_scores(item, statements, vectors) -> tuple[list, dict[str, np.ndarray], np.ndarray]:
    """Scorable pairs of one story, each baseline's score for them, and the gold labels."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process
    from sklearn.feature_extraction.text import TfidfVectorizer

    by_doc: dict[str, list[int]] = {}
    for n, s in enumerate(statements):
        by_doc.setdefault(s.doc_id, []).append(n)
    doc_ids = sorted(by_doc)
    tfidf = TfidfVectorizer().fit_transform([s.text for s in statements])
    pairs, gold = [], []
    scores: dict[str, list[np.ndarray]] = {name: [] for name in BASELINES}
    for x, doc_a in enumerate(doc_ids):
        for doc_b in doc_ids[x + 1:]:
            ra, rb = by_doc[doc_a], by_doc[doc_b]
            li = [i for i, p in enumerate(ra) if item.scorable is None or statements[p].ref in item.scorable]
            rj = [j for j, p in enumerate(rb) if item.scorable is None or statements[p].ref in item.scorable]
            if not li or not rj:
                continue
            cos = np.clip(vectors[ra] @ vectors[rb].T, -1, 1)
            fz = process.cdist([statements[p].text for p in ra], [statements[p].text for p in rb],
                               scorer=fuzz.token_set_ratio, processor=default_process, workers=1) / 100.0
            tf = np.asarray((tfidf[ra] @ tfidf[rb].T).todense())
            dp = np.where(monotonic_path(cos), cos, cos - 3.0)  # off-path pairs rank below the path
            sub = np.ix_(li, rj)
            for name, matrix in zip(BASELINES, (fz, tf, cos, dp), strict=True):
                scores[name].append(matrix[sub].ravel())
            for i in li:
                for j in rj:
                    pair = (statements[ra[i]].ref, statements[rb[j]].ref)
                    pairs.append(pair)
                    gold.append(pair in item.gold)
    return pairs, {k: np.concatenate(v) if v else np.zeros(0) for k, v in scores.items()}, np.array(gold, bool)


def metrics(pair_groups: list[list], scores: list[np.ndarray], gold: list[np.ndarray],
            threshold: float | None) -> dict:
    s, g = np.concatenate(scores), np.concatenate(gold)
    if threshold is None:
        threshold, _ = best_threshold(s, g)
    p, r, f = prf(s >= threshold, g)
    hits = n = 0.0
    for pairs, sc, gl in zip(pair_groups, scores, gold, strict=True):
        value, k = precision_at_1(pairs, sc, gl)
        hits, n = hits + value * k, n + k
    return {"threshold": round(float(threshold), 3), "precision": p, "recall": r, "f1": f,
            "average_precision": average_precision(s, g), "precision_at_1": hits / n if n else 0.0}


def run_file(path: Path, embedder, cache) -> dict:
    items = load_eval_stories(path)
    weights = default_weights(embedder.name)
    rows: dict[str, dict] = {}
    groups, per_method, golds = [], {name: [] for name in ("storydiff", *BASELINES)}, []
    sd_linked = []
    for item in items:
        started = time.perf_counter()
        result = evaluate_story(item, embedder, weights=weights, cache=cache)
        statements = segment_documents(item.story.documents)
        vectors = embed_statements(statements, embedder, cache)
        pairs, scores, gold = baseline_scores(item, statements, vectors)
        order = {p: k for k, p in enumerate(result.pairs)}
        index = np.array([order[p] for p in pairs], dtype=np.int64)
        groups.append(pairs)
        golds.append(gold)
        per_method["storydiff"].append(result.scores[index])
        sd_linked.append(result.linked[index])
        for name in BASELINES:
            per_method[name].append(scores[name])
        print(f"  {path.name} {item.story.story_id}: {len(pairs)} pairs, {time.perf_counter() - started:.1f}s",
              file=sys.stderr)
    rows["storydiff"] = metrics(groups, per_method["storydiff"], golds, weights.threshold)
    # the links themselves (same code as `storydiff compare`) must agree with score >= threshold
    p, r, f = prf(np.concatenate(sd_linked), np.concatenate(golds))
    rows["storydiff"]["link_f1"] = f
    for name in BASELINES:
        rows[name] = metrics(groups, per_method[name], golds, None)
    rows["predict every pair"] = {**metrics(groups, [np.ones_like(s) for s in per_method["storydiff"]], golds, 1.0),
                                  "average_precision": None, "precision_at_1": None}
    return rows


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(results: dict[str, dict], cv: dict) -> str:
    names = list(next(iter(results.values())))
    head = "| method | " + " | ".join(
        f"{label}: P | R | F1 | AP | P@1 | thr" for label in ("topics", "full (annotated pairs)")) + " |"
    lines = [head, "|---" * (1 + 6 * len(results)) + "|"]
    for name in names:
        cells = []
        for file in results:
            m = results[file][name]
            cells += [fmt(m["precision"]), fmt(m["recall"]), fmt(m["f1"]), fmt(m["average_precision"]),
                      fmt(m["precision_at_1"]), f"{m['threshold']:g}"]
        label = "**storydiff default**" if name == "storydiff" else name
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for file in results:
        c = cv.get(file, {})
        cells += [fmt(c.get("precision")), fmt(c.get("recall")), fmt(c.get("f1")), fmt(c.get("average_precision")),
                  "–", "same"]
    lines.append("| storydiff, 5-fold by story (out-of-fold) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "accuracy.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    paths = [EVAL_DIR / f for f in FILES]
    if not all(p.is_file() for p in paths):
        print(f"accuracy: the ECB+ dev files are not in {EVAL_DIR}; nothing to measure.", file=sys.stderr)
        return 2
    embedder = get_embedder("minilm")
    cache = EmbeddingCache(default_cache_path())
    started = time.perf_counter()
    results = {p.name: run_file(p, embedder, cache) for p in paths}
    weights = default_weights(embedder.name)
    aligner = json.loads((ROOT / "compare" / "data" / "aligner.json").read_text("utf-8"))
    cv = aligner["backends"].get(embedder.name, {}).get("cv", {})
    text = table(results, cv)
    print(text)
    print(json.dumps({f: {k: v.get("link_f1") for k, v in r.items() if "link_f1" in v} for f, r in results.items()}),
          file=sys.stderr)
    if not args.no_write:
        write_doc(args.out, text, weights, time.perf_counter() - started)
    return 0


def write_doc(path: Path, text: str, weights, seconds: float) -> None:
    marker_start, marker_end = "<!-- accuracy-table:start -->", "<!-- accuracy-table:end -->"
    block = (f"{marker_start}\nScorer `{weights.version}` (section `{weights.backend}`), default threshold "
             f"{weights.threshold}; measured in {seconds:.0f} s on 2 shared CPU cores.\n\n{text}\n{marker_end}")
    current = path.read_text("utf-8") if path.is_file() else ""
    if marker_start in current and marker_end in current:
        body = current.split(marker_start)[0] + block + current.split(marker_end)[1]
    else:
        body = (current.rstrip() + "\n\n" if current else "# Accuracy\n\n") + block + "\n"
    path.write_text(body, "utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
