"""Cross-language alignment and embedding throughput, per backend, in one run.

    .venv/bin/python benchmarks/xling.py            # measure (numbers for docs/multilingual.md)
    .venv/bin/python benchmarks/xling.py --fit      # refit compare/data/calibration.json first

Reads `../shared/eval/xling_dev.jsonl` (EN/RU/UK translations, shuffled) and
`../shared/eval/ecbplus_topics_dev.jsonl` (English ECB+). For each backend it reports, per language
pair, precision@1 (the top-scoring sentence of the other document is the gold translation) and pair
F1 of the links the aligner makes at its default threshold; English ECB+ pair F1 and AP with
`--model auto` and with the English default; and sentences/s. Everything goes through the same
code as `storydiff compare` (segment_documents -> EmbeddingCache -> align).

--fit: per backend, a logistic calibration of link probability on [cosine, mutual-best], for
document pairs in different languages (fitted on xling) and in one language (ECB+), with
story-level cross-validation (held-out F1 printed), written to compare/data/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare import multilingual  # noqa: E402
from compare.align import all_pair_scores, default_weights, link_statements  # noqa: E402
from compare.embed import BACKEND_NAMES, EmbeddingCache, default_cache_path, get_embedder, resolve_backend  # noqa: E402
from compare.model import Document, StatementRef  # noqa: E402
from compare.pipeline import document_language, segment_documents  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
BACKENDS = ("minilm", "use", "e5")
PAIRS = ("en-ru", "en-uk", "ru-uk")
CALIBRATION = ROOT / "compare" / "data" / "calibration.json"


def load(name: str) -> list[dict]:
    path = EVAL / name
    if not path.is_file():
        sys.exit(f"xling: {path} not found (the shared eval data sits next to the repository).")
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def story_documents(story: dict) -> list[Document]:
    docs = []
    for i, d in enumerate(story["documents"]):
        sentences = tuple(d["sentences"])
        docs.append(Document(doc_id=f"{i}:{d['doc_id']}", outlet=d.get("outlet", "unknown"),
                             text="\n".join(sentences), language=d.get("language"), sentences=sentences))
    return docs


def gold_refs(story: dict, docs: list[Document]) -> set[tuple[StatementRef, StatementRef]]:
    gold = set()
    for a, i, b, j, *_ in story["gold_pairs"]:
        ra, rb = StatementRef(docs[a].doc_id, i), StatementRef(docs[b].doc_id, j)
        gold.add((min(ra, rb), max(ra, rb)))
    return gold


def prepare(stories: list[dict]) -> list[tuple[list[Document], tuple, set]]:
    out = []
    for story in stories:
        docs = story_documents(story)
        out.append((docs, segment_documents(docs), gold_refs(story, docs)))
    return out


def throughput(backend: str, texts: list[str]) -> float:
    """Sentences/s for a fresh batch (no cache), after a warm-up that loads the model."""
    embedder = get_embedder(backend)
    embedder.encode(texts[:8])
    clock = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - clock)


def pair_name(statements_by_doc: dict, a: str, b: str) -> str:
    la = multilingual.document_language(statements_by_doc[a])
    lb = multilingual.document_language(statements_by_doc[b])
    return "-".join(sorted((la, lb)))


def evaluate_xling(prepared, backend: str, cache: EmbeddingCache, *, calibrated: bool = False
                   ) -> dict[str, dict[str, float]]:
    """Per language pair P@1 and pair P/R/F1. Default: the aligner exactly as `storydiff compare` runs
    it (its scorer for this backend, its threshold). calibrated=True: every cross-language document
    pair scored by multilingual.calibrated_scores (cosine + mutual-best, compare/data/calibration.json)."""
    embedder = get_embedder(backend)
    weights = default_weights(embedder.name)
    calibration = multilingual.calibration_for(embedder.name, "cross")
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for docs, statements, gold in prepared:
        vectors = cache.encode(embedder, [s.text for s in statements])
        by_doc: dict[str, list] = defaultdict(list)
        pos_of = {}
        for pos, s in enumerate(statements):
            by_doc[s.doc_id].append(s)
            pos_of[s.ref] = pos
        if calibrated and calibration is not None:
            scores = {}
            for a_pos, da in enumerate(docs):
                for db in docs[a_pos + 1:]:
                    left, right = by_doc[da.doc_id], by_doc[db.doc_id]
                    cos = vectors[[pos_of[s.ref] for s in left]] @ vectors[[pos_of[s.ref] for s in right]].T
                    p = multilingual.calibrated_scores(cos, calibration)
                    for i, sl in enumerate(left):
                        for j, sr in enumerate(right):
                            scores[(sl.ref, sr.ref)] = float(p[i, j])
            predicted = {(min(a, b), max(a, b)) for (a, b), v in scores.items() if v >= calibration["threshold"]}
        else:
            links = link_statements(statements, vectors, weights=weights)
            scores = all_pair_scores(statements, vectors, weights=weights)
            predicted = {(min(lk.a, lk.b), max(lk.a, lk.b)) for lk in links}
        for a_pos, da in enumerate(docs):
            for db in docs[a_pos + 1:]:
                name = pair_name(by_doc, da.doc_id, db.doc_id)
                c = counts[name]
                in_pair = {p for p in predicted if {p[0].doc_id, p[1].doc_id} == {da.doc_id, db.doc_id}}
                g_pair = {p for p in gold if {p[0].doc_id, p[1].doc_id} == {da.doc_id, db.doc_id}}
                c["tp"] += len(in_pair & g_pair)
                c["pred"] += len(in_pair)
                c["gold"] += len(g_pair)
                for src, dst in ((da, db), (db, da)):  # P@1 in both directions
                    for s in by_doc[src.doc_id]:
                        best = max(by_doc[dst.doc_id], key=lambda t, s=s: _score(scores, s.ref, t.ref))
                        c["p1_hit"] += (min(s.ref, best.ref), max(s.ref, best.ref)) in gold
                        c["p1_n"] += 1
    out = {}
    for name, c in counts.items():
        p = c["tp"] / c["pred"] if c["pred"] else 0.0
        r = c["tp"] / c["gold"] if c["gold"] else 0.0
        out[name] = {"p_at_1": c["p1_hit"] / c["p1_n"], "precision": p, "recall": r,
                     "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return out


def _score(scores: dict, a: StatementRef, b: StatementRef) -> float:
    return scores.get((a, b), scores.get((b, a), 0.0))


def evaluate_ecb(prepared, spec: str, cache: EmbeddingCache) -> dict[str, float | str]:
    """Pair P/R/F1 and AP on English ECB+ with the backend `spec` resolves to for each story."""
    tp = npred = ngold = 0
    ranked: list[tuple[float, bool]] = []
    chosen = set()
    for docs, statements, gold in prepared:
        languages = sorted({s.language for s in statements} | {document_language(d) for d in docs})
        embedder = get_embedder(spec, languages=languages)
        chosen.add(embedder.name)
        vectors = cache.encode(embedder, [s.text for s in statements])
        weights = default_weights(embedder.name)
        links = link_statements(statements, vectors, weights=weights)
        predicted = {(min(lk.a, lk.b), max(lk.a, lk.b)) for lk in links}
        tp += len(predicted & gold)
        npred += len(predicted)
        ngold += len(gold)
        for (a, b), score in all_pair_scores(statements, vectors, weights=weights).items():
            ranked.append((score, (min(a, b), max(a, b)) in gold))
    p = tp / npred if npred else 0.0
    r = tp / ngold if ngold else 0.0
    ranked.sort(key=lambda x: -x[0])
    hits, ap = 0, 0.0
    for k, (_, is_gold) in enumerate(ranked, start=1):
        if is_gold:
            hits += 1
            ap += hits / k
    return {"model": ", ".join(sorted(chosen)), "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0, "ap": ap / max(1, ngold)}


# ------------------------------------------------------------------------------------ calibration

def pair_matrices(prepared, backend: str, cache: EmbeddingCache, *, cross: bool):
    """(story index, cosine matrix, gold matrix) per document pair of the wanted kind."""
    embedder = get_embedder(backend)
    out = []
    for n, (_docs, statements, gold) in enumerate(prepared):
        vectors = cache.encode(embedder, [s.text for s in statements])
        rows = defaultdict(list)
        for pos, s in enumerate(statements):
            rows[s.doc_id].append(pos)
        ids = sorted(rows)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                left = [statements[k] for k in rows[a]]
                right = [statements[k] for k in rows[b]]
                is_cross = multilingual.document_language(left) != multilingual.document_language(right)
                if is_cross != cross:
                    continue
                cosine = vectors[rows[a]] @ vectors[rows[b]].T
                g = np.zeros(cosine.shape, dtype=bool)
                for x, sl in enumerate(left):
                    for y, sr in enumerate(right):
                        g[x, y] = (min(sl.ref, sr.ref), max(sl.ref, sr.ref)) in gold
                out.append((n, cosine, g))
    return out


def fit_section(matrices) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    feats = np.concatenate([np.stack([c.ravel(), multilingual.mutual_best(c).ravel()], axis=1)
                            for _, c, _ in matrices])
    labels = np.concatenate([g.ravel() for _, _, g in matrices]).astype(int)
    groups = np.concatenate([np.full(c.size, n) for n, c, _ in matrices])
    held = np.zeros(len(labels))
    folds = GroupKFold(n_splits=min(5, len(set(groups))))
    for train, test in folds.split(feats, labels, groups):
        model = LogisticRegression(C=100.0, max_iter=1000).fit(feats[train], labels[train])
        held[test] = model.predict_proba(feats[test])[:, 1]
    pred = held >= 0.5
    tp = int((pred & (labels == 1)).sum())
    p = tp / max(1, pred.sum())
    r = tp / max(1, labels.sum())
    model = LogisticRegression(C=100.0, max_iter=1000).fit(feats, labels)
    return {"bias": round(float(model.intercept_[0]), 4), "cosine": round(float(model.coef_[0][0]), 4),
            "mutual": round(float(model.coef_[0][1]), 4), "threshold": 0.5,
            "cv_f1": round(2 * p * r / (p + r) if p + r else 0.0, 4), "pairs": len(labels),
            "positives": int(labels.sum())}


def fit(xling, ecb, cache: EmbeddingCache) -> None:
    data = {"version": f"calibration-{datetime.now(UTC):%Y%m%d}",
            "notes": "p = sigmoid(bias + cosine*cos + mutual*mutual_best(cos)) per document pair; 'cross' "
                     "fitted on xling_dev (documents in different languages), 'same' on ECB+ topics dev; "
                     "cv_f1 = held-out F1 at 0.5 with 5-fold story-level cross-validation. "
                     "Refit: benchmarks/xling.py --fit.",
            "backends": {}}
    for backend in BACKENDS:
        name = BACKEND_NAMES[backend]
        cross = fit_section(pair_matrices(xling, backend, cache, cross=True))
        same = fit_section(pair_matrices(ecb, backend, cache, cross=False))
        data["backends"][name] = {"cross": cross, "same": same}
        print(f"fit {backend}: cross cv F1 {cross['cv_f1']:.3f}, same cv F1 {same['cv_f1']:.3f}", flush=True)
    CALIBRATION.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    multilingual.calibrations.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="refit compare/data/calibration.json first")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    xling = prepare(load("xling_dev.jsonl"))
    ecb = prepare(load("ecbplus_topics_dev.jsonl"))
    cache = EmbeddingCache(default_cache_path())  # every sentence embedded once per backend, across runs
    if args.fit:
        fit(xling, ecb, cache)
    texts = [s.text for _, statements, _ in xling for s in statements]
    results: dict = {"backends": {},
                     "calibration": multilingual.calibrations().get("version")}
    for backend in BACKENDS:
        speed = throughput(backend, texts)
        entry = {"name": BACKEND_NAMES[backend], "sentences_per_s": speed,
                 "scorer": default_weights(BACKEND_NAMES[backend]).version}
        for mode in ("aligner", "calibrated"):
            pairs = evaluate_xling(xling, backend, cache, calibrated=mode == "calibrated")
            entry[mode] = pairs
            row = " | ".join(f"{p}: P@1 {pairs[p]['p_at_1']:.3f} F1 {pairs[p]['f1']:.3f}" for p in PAIRS if p in pairs)
            print(f"{backend:7s} {mode:10s} {speed:7.1f} sent/s | {row}", flush=True)
        results["backends"][backend] = entry
    for spec in ("minilm", "auto"):
        ecb_result = evaluate_ecb(ecb, spec, cache)
        results[f"ecb_{spec}"] = ecb_result
        print(f"ECB+ --model {spec} ({ecb_result['model']}): P {ecb_result['precision']:.3f} "
              f"R {ecb_result['recall']:.3f} F1 {ecb_result['f1']:.3f} AP {ecb_result['ap']:.3f}", flush=True)
    results["auto_for_ru_uk_en"] = resolve_backend("auto", languages=["en", "ru", "uk"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
