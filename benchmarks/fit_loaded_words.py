"""Fit the loaded-wording word model shipped as compare/data/loaded_words.json (issue 15, item 2).

A logistic regression over word tokens: is this word one that trained annotators marked as biased? Features
are the word's own (the word, a crude stem, its last letters, capitalisation) and its neighbours'; see
`compare.cues.wording.loaded_token_features`. Trained on the development split of BABE only (`split_of(group) ==
"dev"`, by article); the test split stays held out for `storydiff eval`. The regularisation strength and the
decision threshold are chosen by 5-fold cross-validation over articles on the dev split (best token F1).

Run after benchmarks/build_cue_corpora.py:

    python benchmarks/fit_loaded_words.py [--corpus .data/cues/babe.jsonl] [--out compare/data/loaded_words.json]

Needs scikit-learn (not a storydiff dependency: the shipped model is plain JSON read by compare/cues/detect.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compare.cues.wording import loaded_token_features, word_tokens  # noqa: E402
from compare.evaluation.cue_eval import load_cue_corpus, split_of  # noqa: E402

MAX_FEATURES = 6000


def _examples(records):
    X, y, groups = [], [], []
    for rec in records:
        gold = rec.spans["loaded"] or ()
        for _i, feats, (s, e) in loaded_token_features(rec.text):
            X.append(feats)
            y.append(int(any(gs < e and s < ge for gs, ge in gold)))
            groups.append(rec.group)
    return X, y, groups


def _f1(y, pred):
    tp = sum(1 for a, b in zip(y, pred, strict=True) if a and b)
    fp = sum(1 for a, b in zip(y, pred, strict=True) if b and not a)
    fn = sum(1 for a, b in zip(y, pred, strict=True) if a and not b)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main(argv: list[str] | None = None) -> int:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / ".data" / "cues" / "babe.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "compare" / "data" / "loaded_words.json")
    args = ap.parse_args(argv)
    if not args.corpus.exists():
        print(f"{args.corpus} is missing: run benchmarks/build_cue_corpora.py first", file=sys.stderr)
        return 1
    dev = [r for r in load_cue_corpus(args.corpus) if r.spans.get("loaded") is not None and split_of(r.group) == "dev"]
    X, y, groups = _examples(dev)
    fold = [int(hashlib.sha1(f"fold:{g}".encode()).hexdigest(), 16) % 5 for g in groups]
    best = (0.0, 1.0, 0.5)
    for C in (0.3, 1.0, 3.0):
        scores = [0.0] * len(y)
        for k in range(5):
            tr = [i for i, f in enumerate(fold) if f != k]
            te = [i for i, f in enumerate(fold) if f == k]
            vec = DictVectorizer()
            clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
            clf.fit(vec.fit_transform([X[i] for i in tr]), [y[i] for i in tr])
            for i, p in zip(te, clf.predict_proba(vec.transform([X[i] for i in te]))[:, 1], strict=True):
                scores[i] = p
        for t in [x / 100 for x in range(30, 96, 2)]:
            f = _f1(y, [s >= t for s in scores])
            if f > best[0]:
                best = (f, C, t)
        print(f"C={C}: best cross-validated token F1 so far {best[0]:.3f} (C={best[1]}, threshold={best[2]})")
    f1, C, threshold = best
    vec = DictVectorizer()
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    clf.fit(vec.fit_transform(X), y)
    weights = dict(zip(vec.get_feature_names_out(), clf.coef_[0], strict=True))
    kept = sorted(weights.items(), key=lambda kv: -abs(kv[1]))[:MAX_FEATURES]
    model = {
        "about": "Loaded-wording word model: logistic regression over word-token features "
                 "(compare.cues.wording.loaded_token_features), fitted by benchmarks/fit_loaded_words.py "
                 "on the dev split "
                 "of BABE (Media-Bias-Group/Neural-Media-Bias-Detection-Using-Distant-Supervision-With-BABE "
                 "@fb79f646, data/final_labels_SG2.csv, AGPL-3.0). Feature weights only, no corpus text.",
        "cv_token_f1": round(f1, 4), "C": C, "threshold": threshold,
        "bias": round(float(clf.intercept_[0]), 4),
        "weights": {k: round(float(v), 4) for k, v in sorted(kept) if abs(v) >= 0.01},
        "train_sentences": len(dev), "train_tokens": len(y),
    }
    args.out.write_text(json.dumps(model, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(model['weights'])} features, threshold {threshold}, CV token F1 {f1:.3f}")
    _ = word_tokens  # the runtime tokenizer, imported so a rename breaks this script loudly
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
