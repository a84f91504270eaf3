"""Fit the claim scorer (compare/data/claim_scorer.json) on claim gold, after measuring it out of fold.

    python benchmarks/fit_claim_scorer.py [GOLD.jsonl ...] [--backends minilm,e5,use] [--write]

Default gold: corpora/claim_gold/ecbplus_claims.jsonl plus ../shared/eval/claims_dev.jsonl when present.
For each backend it prints leave-one-story-out link P/R/F1 next to the baselines of the same run, then
(with --write) fits on every story and writes the backend's section. Nothing here is an accuracy figure
unless the gold was annotated by others or double-annotated (see docs/claim-gold.md).
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

from compare.embed.backends import get_embedder  # noqa: E402
from compare.embed.cache import EmbeddingCache, default_cache_path  # noqa: E402
from compare.evaluation.claim_gold import load_claim_gold, story_pairs  # noqa: E402
from compare.evaluation.claim_metrics import THRESHOLD_BETA, baselines, cross_validate, fit_weights, weights_json  # noqa: E402

DEFAULT_GOLD = [ROOT / "corpora/claim_gold/ecbplus_claims.jsonl", ROOT / "../shared/eval/claims_dev.jsonl",
                ROOT / ".data/allsides_claims.jsonl"]
OUT = ROOT / "compare/data/claim_scorer.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path)
    parser.add_argument("--backends", default="minilm,e5,use")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--beta", type=float, default=None, help="F-beta of the threshold rule (default: shipped)")
    args = parser.parse_args()
    paths = args.gold or [p for p in DEFAULT_GOLD if p.is_file()]
    stories = [s for p in paths for s in load_claim_gold(p)]
    print(f"{len(stories)} stories from {', '.join(str(p) for p in paths)}")
    cache = EmbeddingCache(default_cache_path())
    data = json.loads(OUT.read_text()) if OUT.is_file() else {"version": "1", "fallback": "", "backends": {}}
    for backend in args.backends.split(","):
        embedder = get_embedder(backend)
        parts = [story_pairs(s, embedder, cache) for s in stories]
        beta = THRESHOLD_BETA if args.beta is None else args.beta
        cv = cross_validate(parts, beta=beta)
        print(f"\n[{backend} = {embedder.name}] statements {sum(len(p.statements) for p in parts)}")
        rows = [cv, *baselines(parts, beta=beta)]
        for row in rows:
            print(f"  {row['method']:<48} P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}"
                  f"  links/statement {row['links_per_statement']:.2f}")
        print(f"  events {cv['events']}, event pair precision {cv['event_pair_precision']:.3f}")
        for s in cv["per_story"]:
            print(f"    {s['story']:<14} n={s['statements']:>3} sure={s['sure']:>3} P {s['precision']:.2f} "
                  f"R {s['recall']:.2f} F1 {s['f1']:.2f}")
        if args.write:
            weights = fit_weights(parts, backend=embedder.name, version=data["version"], beta=beta)
            data["backends"][embedder.name] = weights_json(weights)
            if backend == "minilm" or not data.get("fallback"):
                data["fallback"] = embedder.name
            print(f"  fitted on all: threshold {weights.threshold:.3f}")
    if args.write:
        OUT.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
