"""Fit the link scorer for one embedding backend and write its section of compare/data/aligner.json.

    .venv/bin/python benchmarks/fit_scorer.py --model minilm            # fit and write the section
    .venv/bin/python benchmarks/fit_scorer.py --model use --dry-run     # only print cross-validated scores

It embeds the ECB+ dev stories with the backend (through the embedding cache), computes every
cross-document pair's features exactly as `compare.align` does, and fits a logistic regression.
Stories are split into folds (the same story in both dev files stays in one fold): each fold is scored
by a model fitted on the other folds only, and the threshold is the one with the best mean F1 of
those out-of-fold scores over the dev files. The shipped coefficients are then refitted on all stories.
The section is keyed by `Embedder.name`; other sections are left as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.align import FEATURES, block_features, story_context  # noqa: E402
from compare.embed import EmbeddingCache, default_cache_path, get_embedder  # noqa: E402
from compare.evaluate import average_precision, best_threshold, load_eval_stories, prf  # noqa: E402
from compare.pipeline import embed_statements, segment_documents  # noqa: E402

EVAL_DIR = ROOT.parent / "shared" / "eval"
DEFAULT_DATA = ("ecbplus_topics_dev.jsonl", "ecbplus_topics_full_dev.jsonl")
DEFAULT_FEATURES = ("cosine", "fuzzy", "overlap", "margin", "mutual", "profile",
                    "doc_match", "doc_rel", "doc_profile", "doc_overlap", "tfidf", "doc_tfidf",
                    "doc_tfidf_profile", "doc_mds", "doc_tfidf_mds", "small_story")
AUGMENT_SIZES = (2, 3, 5, 8)  # sub-stories of this many documents teach the scorer small stories


def story_features(item, embedder, cache, *, keep_docs=None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) over the scorable cross-document pairs of one story (all FEATURES, in order)."""
    statements = segment_documents(item.story.documents)
    vectors = embed_statements(statements, embedder, cache)
    if keep_docs is not None:
        pos = [n for n, s in enumerate(statements) if s.doc_id in keep_docs]
        statements = tuple(statements[n] for n in pos)
        vectors = vectors[pos]
    ctx = story_context(statements, vectors)
    xs, ys = [], []
    for a, b in ctx.doc_pairs():
        ra, rb = ctx.rows[ctx.doc_ids[a]], ctx.rows[ctx.doc_ids[b]]
        left = [statements[p].ref for p in ra]
        right = [statements[p].ref for p in rb]
        li = [i for i, r in enumerate(left) if item.scorable is None or r in item.scorable]
        rj = [j for j, r in enumerate(right) if item.scorable is None or r in item.scorable]
        if not li or not rj:
            continue
        feats = block_features(ctx, a, b)
        xs.append(np.stack([feats[f][np.ix_(li, rj)].ravel() for f in FEATURES], axis=1))
        ys.append(np.array([(left[i], right[j]) in item.gold for i in li for j in rj], dtype=bool))
    if not xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def collect(paths: list[Path], spec: str, *, augment: int, seed: int) -> tuple[dict, str]:
    """Per file: stacked X, y, story index of each pair, and whether it is an augmented sub-story."""
    embedder = get_embedder(spec)
    cache = EmbeddingCache(default_cache_path())
    rng = np.random.default_rng(seed)
    data = {}
    for path in paths:
        items = load_eval_stories(path)
        xs, ys, groups, aug = [], [], [], []
        for item in items:
            started = time.perf_counter()
            x, y = story_features(item, embedder, cache)
            xs.append(x), ys.append(y), groups.append(np.full(len(y), item.story.story_id, dtype=object))
            aug.append(np.zeros(len(y), bool))
            doc_ids = sorted(d.doc_id for d in item.story.documents)
            for _ in range(augment):
                size = int(rng.choice(AUGMENT_SIZES))
                keep = set(rng.choice(doc_ids, size=min(size, len(doc_ids)), replace=False).tolist())
                x2, y2 = story_features(item, embedder, cache, keep_docs=keep)
                xs.append(x2), ys.append(y2), groups.append(np.full(len(y2), item.story.story_id, dtype=object))
                aug.append(np.ones(len(y2), bool))
            print(f"  {path.name} {item.story.story_id}: {len(y)} pairs ({time.perf_counter() - started:.1f}s)",
                  file=sys.stderr)
        data[path.name] = (np.concatenate(xs), np.concatenate(ys), np.concatenate(groups), np.concatenate(aug))
    return data, embedder.name


def fit_lr(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised features, returned in raw feature units (coef, bias)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y)
    coef = model.coef_[0] / scale
    bias = float(model.intercept_[0] - np.sum(model.coef_[0] * mean / scale))
    return coef, bias


def predict(x: np.ndarray, coef: np.ndarray, bias: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x.astype(np.float64) @ coef + bias)))


def cross_validate(data: dict, cols: list[int], *, folds: int, c: float, seed: int) -> dict:
    """Out-of-fold scores per file (real stories only), folds made of whole stories."""
    stories = sorted({g for _, _, groups, _ in data.values() for g in groups})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(stories))
    fold_of = {stories[k]: n % folds for n, k in enumerate(order)}
    oof = {name: np.zeros(len(y)) for name, (_, y, _, _) in data.items()}
    for fold in range(folds):
        train_x, train_y = [], []
        for x, y, groups, _ in data.values():
            mask = np.array([fold_of[g] != fold for g in groups])
            train_x.append(x[mask][:, cols]), train_y.append(y[mask])
        coef, bias = fit_lr(np.concatenate(train_x), np.concatenate(train_y), c)
        for name, (x, _, groups, _) in data.items():
            mask = np.array([fold_of[g] == fold for g in groups])
            oof[name][mask] = predict(x[mask][:, cols], coef, bias)
    return oof


def report(data: dict, oof: dict, threshold: float) -> dict:
    out = {}
    for name, (_, y, _, aug) in data.items():
        real = ~aug
        p, r, f = prf(oof[name][real] >= threshold, y[real])
        out[name] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                     "average_precision": round(average_precision(oof[name][real], y[real]), 4)}
    return out


def choose_threshold(data: dict, oof: dict) -> float:
    """Threshold (0.01 grid) with the best mean out-of-fold F1 over the files' real stories."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    best, best_f = 0.5, -1.0
    for t in grid:
        f = np.mean([prf(oof[n][~d[3]] >= t, d[1][~d[3]])[2] for n, d in data.items()])
        if f > best_f + 1e-9:
            best, best_f = float(t), f
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="minilm", help="embedding backend: minilm, use, e5 or a folder")
    parser.add_argument("--data", nargs="*", type=Path, default=[EVAL_DIR / n for n in DEFAULT_DATA])
    parser.add_argument("--out", type=Path, default=ROOT / "compare" / "data" / "aligner.json")
    parser.add_argument("--section", default=None, help="section name (default: the backend's Embedder.name)")
    parser.add_argument("--also-fallback", action="store_true", help="also write this fit as the fallback section")
    parser.add_argument("--features", default=",".join(DEFAULT_FEATURES))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--augment", type=int, default=4, help="random sub-stories per story for training")
    parser.add_argument("--C", type=float, default=1.0, dest="c")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--features-cache", type=Path, default=None, help="npz to reuse computed features")
    parser.add_argument("--dry-run", action="store_true", help="print cross-validated scores, write nothing")
    args = parser.parse_args(argv)

    missing = [p for p in args.data if not p.is_file()]
    if missing:
        print(f"fit_scorer: {missing[0]}: not found. The ECB+ dev files live in ../shared/eval/.", file=sys.stderr)
        return 2
    if args.features_cache and args.features_cache.is_file():
        loaded = np.load(args.features_cache, allow_pickle=True)
        data = loaded["data"].item()
        backend = str(loaded["backend"])
    else:
        data, backend = collect(args.data, args.model, augment=args.augment, seed=args.seed)
        if args.features_cache:
            np.savez(args.features_cache, data=np.array(data, dtype=object), backend=backend)
    names = [f.strip() for f in args.features.split(",") if f.strip()]
    cols = [FEATURES.index(f) for f in names]
    oof = cross_validate(data, cols, folds=args.folds, c=args.c, seed=args.seed)
    threshold = choose_threshold(data, oof)
    cv = report(data, oof, threshold)
    for name, (_, y, _, aug) in data.items():
        t, f = best_threshold(oof[name][~aug], y[~aug])
        cv[name]["oracle_threshold"], cv[name]["oracle_f1"] = round(t, 3), round(f, 3)
    print(json.dumps({"backend": backend, "threshold": threshold, "cv": cv}, indent=2))
    if args.dry_run:
        return 0
    coef, bias = fit_lr(np.concatenate([d[0][:, cols] for d in data.values()]),
                        np.concatenate([d[1] for d in data.values()]), args.c)
    section = {
        "version": f"lr-{datetime.now(UTC):%Y%m%d}",
        "features": names,
        "coef": [round(float(c), 6) for c in coef],
        "bias": round(bias, 6),
        "threshold": threshold,
        "fitted_on": [p.name for p in args.data],
        "cv": {"folds": args.folds, "by": "story", **cv},
    }
    doc = json.loads(args.out.read_text("utf-8")) if args.out.is_file() else {}
    doc.setdefault("format", 2)
    doc.setdefault("fallback", "default")
    doc.setdefault("backends", {})
    doc["backends"][args.section or backend] = section
    if args.also_fallback:
        doc["backends"][doc["fallback"]] = {**section, "fitted_for": backend}
    doc["version"] = f"aligner-{datetime.now(UTC):%Y%m%d}"
    args.out.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    print(f"wrote section {args.section or backend!r} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
