"""Fit the link scorer for one embedding backend and write its section of compare/data/aligner.json.

    .venv/bin/python benchmarks/fit_scorer.py --model minilm            # fit and write the section
    .venv/bin/python benchmarks/fit_scorer.py --model use --dry-run     # only print cross-validated scores

It embeds the ECB+ dev stories with the backend (through the embedding cache), computes every
cross-document pair's features exactly as `compare.align.events` does, and fits a logistic regression.
Stories are split into folds (the same story in both dev files stays in one fold): each fold is scored
by a model fitted on the other folds only, and the threshold is the one with the best mean F1 of
those out-of-fold scores over the dev files. The shipped coefficients are then refitted on all stories.

Training (never scoring) also sees augmented sub-stories: random 2-8-document subsets (small stories),
and "spliced" subsets where each document carries 1-3 sentences taken from *other* ECB+ stories. A
spliced sentence sits in a document about the right event but is about something else, so its pairs
are certain negatives: they teach the scorer that document context must not lift a pair whose
statements are unrelated (ECB+ scores only annotated, event-bearing sentences, so without them the
scorer never sees such a pair). Each dev file weighs the same in the fit (`--balance`), so a large
file (xling) does not drown a small one.
The section is keyed by `Embedder.name`; other sections are left as they are.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.align.context import story_context  # noqa: E402
from compare.align.features import block_features  # noqa: E402
from compare.align.scorer import FEATURES  # noqa: E402
from compare.embed.backends import get_embedder  # noqa: E402
from compare.embed.cache import EmbeddingCache, default_cache_path  # noqa: E402
from compare.evaluation.evaluate import average_precision, best_threshold, load_eval_stories, prf  # noqa: E402
from compare.model import Statement  # noqa: E402
from compare.pipeline import embed_statements, segment_documents  # noqa: E402

EVAL_DIR = ROOT.parent / "shared" / "eval"
DEFAULT_DATA = ("ecbplus_topics_dev.jsonl", "ecbplus_topics_full_dev.jsonl")
DEFAULT_FEATURES = ("cosine", "fuzzy", "overlap", "margin", "mutual", "profile",
                    "doc_match", "doc_rel", "doc_profile", "doc_overlap", "tfidf", "doc_tfidf",
                    "doc_tfidf_profile", "doc_mds", "doc_tfidf_mds", "small_story")
AUGMENT_SIZES = (2, 3, 5, 8)  # sub-stories of this many documents teach the scorer small stories
POOL_FILE = "ecbplus_topics_dev.jsonl"  # spliced sentences come from this file's (annotated) sentences
FOREIGN = 1_000_000  # statement index of spliced sentences (far above any real index)
Spliced = dict[str, list[tuple[Statement, np.ndarray]]]  # doc id -> foreign statements and their vectors


def story_features(item, statements, vectors, *, keep_docs=None,
                   foreign: Spliced | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) over the scorable cross-document pairs of one story (all FEATURES, in order).

    `keep_docs` keeps a subset of the documents; `foreign` adds other stories' sentences to documents
    (their pairs with the story's own sentences are negatives; pairs of two foreign ones are skipped)."""
    if keep_docs is not None:
        pos = [n for n, s in enumerate(statements) if s.doc_id in keep_docs]
        statements = tuple(statements[n] for n in pos)
        vectors = vectors[pos]
    if foreign:
        extra = [(dataclasses.replace(s, doc_id=doc_id, index=FOREIGN + k), v)
                 for doc_id, items in sorted(foreign.items()) for k, (s, v) in enumerate(items)]
        statements = tuple(statements) + tuple(s for s, _ in extra)
        vectors = np.concatenate([vectors, np.stack([v for _, v in extra])])

    def scorable(ref) -> bool:
        return ref.index >= FOREIGN or item.scorable is None or ref in item.scorable

    ctx = story_context(statements, vectors)
    xs, ys = [], []
    for a, b in ctx.doc_pairs():
        ra, rb = ctx.rows[ctx.doc_ids[a]], ctx.rows[ctx.doc_ids[b]]
        left = [statements[p].ref for p in ra]
        right = [statements[p].ref for p in rb]
        li = [i for i, r in enumerate(left) if scorable(r)]
        rj = [j for j, r in enumerate(right) if scorable(r)]
        if not li or not rj:
            continue
        feats = block_features(ctx, a, b)
        both_foreign = np.array([left[i].index >= FOREIGN and right[j].index >= FOREIGN for i in li for j in rj],
                                dtype=bool)
        xs.append(np.stack([feats[f][np.ix_(li, rj)].ravel() for f in FEATURES], axis=1)[~both_foreign])
        ys.append(np.array([(left[i], right[j]) in item.gold for i in li for j in rj], dtype=bool)[~both_foreign])
    if not xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool)
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def collect(paths: list[Path], spec: str, *, augment: int, splice: int, seed: int) -> tuple[dict, str]:
    """Per file: stacked X, y, story index of each pair, and whether it is an augmented sub-story."""
    embedder = get_embedder(spec)
    cache = EmbeddingCache(default_cache_path())
    rng = np.random.default_rng(seed)
    pool: dict[str, tuple[tuple[Statement, ...], np.ndarray]] = {}
    if splice and (EVAL_DIR / POOL_FILE).is_file():
        for other in load_eval_stories(EVAL_DIR / POOL_FILE):
            st = segment_documents(other.story.documents)
            pool[other.story.story_id] = (st, embed_statements(st, embedder, cache))
    data = {}
    for path in paths:
        items = load_eval_stories(path)
        xs, ys, groups, aug = [], [], [], []
        for item in items:
            started = time.perf_counter()
            statements = segment_documents(item.story.documents)
            vectors = embed_statements(statements, embedder, cache)
            x, y = story_features(item, statements, vectors)
            xs.append(x), ys.append(y), groups.append(np.full(len(y), item.story.story_id, dtype=object))
            aug.append(np.zeros(len(y), bool))
            doc_ids = sorted(d.doc_id for d in item.story.documents)
            others = sorted(k for k in pool if k != item.story.story_id)
            for n in range(augment + (splice if others else 0)):
                size = int(rng.choice(AUGMENT_SIZES))
                keep = set(rng.choice(doc_ids, size=min(size, len(doc_ids)), replace=False).tolist())
                foreign: Spliced | None = None
                if n >= augment:
                    foreign = {}
                    for doc_id in sorted(keep):
                        foreign[doc_id] = []
                        for _ in range(int(rng.integers(1, 4))):
                            st, vec = pool[others[int(rng.integers(len(others)))]]
                            k = int(rng.integers(len(st)))
                            foreign[doc_id].append((st[k], vec[k]))
                x2, y2 = story_features(item, statements, vectors, keep_docs=keep, foreign=foreign)
                xs.append(x2), ys.append(y2), groups.append(np.full(len(y2), item.story.story_id, dtype=object))
                aug.append(np.ones(len(y2), bool))
            print(f"  {path.name} {item.story.story_id}: {len(y)} pairs ({time.perf_counter() - started:.1f}s)",
                  file=sys.stderr)
        data[path.name] = (np.concatenate(xs), np.concatenate(ys), np.concatenate(groups), np.concatenate(aug))
    return data, embedder.name


def fit_lr(x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised features, returned in raw feature units (coef, bias)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    coef = model.coef_[0] / scale
    bias = float(model.intercept_[0] - np.sum(model.coef_[0] * mean / scale))
    return coef, bias


def predict(x: np.ndarray, coef: np.ndarray, bias: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x.astype(np.float64) @ coef + bias)))


def file_weights(sizes: list[int], balance: bool) -> np.ndarray | None:
    """Per-pair sample weights giving every file the same total weight (mean weight 1); None: plain."""
    if not balance or len(sizes) < 2:
        return None
    total = sum(sizes)
    return np.concatenate([np.full(n, total / (len(sizes) * n)) for n in sizes if n])


def cross_validate(data: dict, cols: list[int], *, folds: int, c: float, seed: int, balance: bool = False) -> dict:
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
        weight = file_weights([len(y) for y in train_y], balance)
        coef, bias = fit_lr(np.concatenate(train_x), np.concatenate(train_y), c, weight)
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


def small_story_floor(data: dict, quantile: float) -> float:
    """Cosine below which at most `quantile` of every file's gold pairs (real stories) lie: the
    small-story gate (`ScorerWeights.small_story_floor`) keeps at least 1 - quantile of each file's gold."""
    col = FEATURES.index("cosine")
    return min(float(np.quantile(x[~aug & y, col], quantile)) for x, y, _, aug in data.values() if (y & ~aug).any())


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
    parser.add_argument("--splice", type=int, default=0,
                        help="sub-stories per story with other stories' sentences spliced in (certain negatives)")
    parser.add_argument("--balance", action=argparse.BooleanOptionalAction, default=True,
                        help="give every dev file the same total weight in the fit")
    parser.add_argument("--event-threshold", type=float, default=None,
                        help="average link score that keeps an event together (default: keep the section's)")
    parser.add_argument("--gate-quantile", type=float, default=0.02,
                        help="small-story gate: cosine floor at this quantile of gold-pair cosines (0: no gate)")
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
        data, backend = collect(args.data, args.model, augment=args.augment, splice=args.splice, seed=args.seed)
        if args.features_cache:
            np.savez(args.features_cache, data=np.array(data, dtype=object), backend=backend)
    names = [f.strip() for f in args.features.split(",") if f.strip()]
    cols = [FEATURES.index(f) for f in names]
    oof = cross_validate(data, cols, folds=args.folds, c=args.c, seed=args.seed, balance=args.balance)
    threshold = choose_threshold(data, oof)
    cv = report(data, oof, threshold)
    for name, (_, y, _, aug) in data.items():
        t, f = best_threshold(oof[name][~aug], y[~aug])
        cv[name]["oracle_threshold"], cv[name]["oracle_f1"] = round(t, 3), round(f, 3)
    print(json.dumps({"backend": backend, "threshold": threshold, "cv": cv}, indent=2))
    if args.dry_run:
        return 0
    coef, bias = fit_lr(np.concatenate([d[0][:, cols] for d in data.values()]),
                        np.concatenate([d[1] for d in data.values()]), args.c,
                        file_weights([len(d[1]) for d in data.values()], args.balance))
    section = {
        "version": f"lr-{datetime.now(UTC):%Y%m%d}",
        "features": names,
        "coef": [round(float(c), 6) for c in coef],
        "bias": round(bias, 6),
        "threshold": threshold,
        **({"small_story_floor": round(small_story_floor(data, args.gate_quantile), 4)}
           if args.gate_quantile > 0 else {}),
        "fitted_on": [p.name for p in args.data],
        "training": {"augment": args.augment, "splice": args.splice, "balance": args.balance, "C": args.c},
        "cv": {"folds": args.folds, "by": "story", **cv},
    }
    doc = json.loads(args.out.read_text("utf-8")) if args.out.is_file() else {}
    doc.setdefault("format", 2)
    doc.setdefault("fallback", "default")
    doc.setdefault("backends", {})
    old = doc["backends"].get(args.section or backend, {})
    event_threshold = args.event_threshold if args.event_threshold is not None else old.get("event_threshold")
    if event_threshold is not None:
        section["event_threshold"] = event_threshold
    doc["backends"][args.section or backend] = section
    if args.also_fallback:
        doc["backends"][doc["fallback"]] = {**section, "fitted_for": backend}
    doc["version"] = f"aligner-{datetime.now(UTC):%Y%m%d}"
    args.out.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    print(f"wrote section {args.section or backend!r} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
