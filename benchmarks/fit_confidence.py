"""Fit the difference confidence model (compare/data/difference_confidence.json) on claim gold.

    python benchmarks/fit_confidence.py [GOLD.jsonl ...] [--backends minilm,e5,use] [--write]

The claim scorer is refitted leave-one-story-out, so the differences judged here come from pair
probabilities that never saw their story; the confidence model is then measured leave-one-story-out
too (expected calibration error, reliability table, precision of what passes the default
--min-confidence per type) and, with --write, fitted on every story.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.config import DEFAULT_MIN_CONFIDENCE  # noqa: E402
from compare.embed.backends import get_embedder  # noqa: E402
from compare.embed.cache import EmbeddingCache, default_cache_path  # noqa: E402
from compare.evaluation.claim_differences import difference_report, fit_confidence  # noqa: E402
from compare.evaluation.claim_gold import load_claim_gold, story_pairs  # noqa: E402
from compare.evaluation.claim_metrics import cross_validate  # noqa: E402

DEFAULT_GOLD = [ROOT / "corpora/claim_gold/ecbplus_claims.jsonl", ROOT / "../shared/eval/claims_dev.jsonl",
                ROOT / ".data/allsides_claims.jsonl"]
OUT = ROOT / "compare/data/difference_confidence.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path)
    parser.add_argument("--backends", default="minilm,e5,use")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    paths = args.gold or [p for p in DEFAULT_GOLD if p.is_file()]
    stories = [s for p in paths for s in load_claim_gold(p)]
    cache = EmbeddingCache(default_cache_path())
    data = json.loads(OUT.read_text()) if OUT.is_file() else {"version": "1", "fallback": "", "backends": {}}
    for backend in args.backends.split(","):
        embedder = get_embedder(backend)
        parts = [story_pairs(s, embedder, cache) for s in stories]
        cv = cross_validate(parts)
        report = difference_report(parts, cv, min_confidence=DEFAULT_MIN_CONFIDENCE)
        print(f"\n[{backend} = {embedder.name}] {report['differences']} differences, precision {report['precision']}; "
              f"ECE (out of fold) {report['ece']}; at min-confidence {DEFAULT_MIN_CONFIDENCE}: "
              f"{report['shown']} shown, precision {report['shown_precision']}")
        for row in report["reliability"]:
            print(f"  {row['bin']}  n={row['n']:>4}  confidence {row['confidence']:.3f}  right {row['right']:.3f}")
        for row in report["per_type"]:
            print(f"  {row['type']:<12} reported {row['reported']:>4} precision {row['precision']}  shown "
                  f"{row['shown']:>4} precision {row['shown_precision']}  recall {row['recall']} of {row['gold']}")
        if args.write:
            model = fit_confidence(report["_judged"])
            data["backends"][embedder.name] = {"features": list(model.features),
                                               "coef": [round(c, 6) for c in model.coef], "bias": round(model.bias, 6)}
            if backend == "minilm" or not data.get("fallback"):
                data["fallback"] = embedder.name
    if args.write:
        OUT.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
