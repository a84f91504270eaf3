"""Claim-level accuracy tables for docs/accuracy.md, from `storydiff eval` on the claim gold.

    python benchmarks/claim_accuracy.py [--backends minilm,e5] [--write]

Runs the claim evaluation (claim scorer and difference confidence both refitted leave-one-story-out,
baselines with thresholds chosen the same way, in the same run) on every claim-gold file present:
corpora/claim_gold/ecbplus_claims.jsonl, ../shared/eval/claims_dev.jsonl, and .data/allsides_claims.jsonl
(rebuilt from its source by benchmarks/rebuild_allsides_gold.py). Prints Markdown; with --write, replaces
the part of docs/accuracy.md between the claim-level markers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.embed.backends import get_embedder  # noqa: E402
from compare.embed.cache import EmbeddingCache, default_cache_path  # noqa: E402
from compare.evaluation.claim_eval import claim_summary  # noqa: E402
from compare.evaluation.claim_gold import load_claim_gold  # noqa: E402

GOLD = [ROOT / "corpora/claim_gold/ecbplus_claims.jsonl", ROOT / "../shared/eval/claims_dev.jsonl",
        ROOT / ".data/allsides_claims.jsonl"]
DOC = ROOT / "docs/accuracy.md"
BEGIN, END = "<!-- claim-level figures: begin -->", "<!-- claim-level figures: end -->"


def _f(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def tables(backends: list[str]) -> str:
    paths = [p for p in GOLD if p.is_file()]
    stories = [s for p in paths for s in load_claim_gold(p)]
    cache = EmbeddingCache(default_cache_path())
    out = [f"Gold: {', '.join(p.name for p in paths)}: {len(stories)} stories. "
           "Every figure is out of fold by story (the scorer, its threshold, the baselines' thresholds and the "
           "difference confidence model are fitted on the other stories only).", ""]
    for backend in backends:
        embedder = get_embedder(backend)
        s = claim_summary(stories, embedder, cache=cache)
        out += [f"### Links, `--model {backend}` ({s['model']})", "",
                f"{s['statements']} statements, {s['sure_pairs']} sure / {s['possible_pairs']} possible same-claim "
                f"pairs; annotator agreement (pair F1) {s['agreement']['f1']:.3f}; thresholds by "
                f"{s['threshold_rule']}.", "",
                "| method | precision | recall | F1 | links per statement |", "|---|---|---|---|---|"]
        for row in s["methods"]:
            out.append(f"| {row['method']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
                       f"{row['links_per_statement']:.2f} |")
        cv = s["methods"][0]
        out += ["", f"Claim events (out of fold): {cv['events']}; {cv['event_pair_precision']:.3f} of the "
                    f"{cv['event_pairs']} cross-outlet pairs inside them are gold pairs. The shipped scorer's row "
                    "is fitted on this gold and is not an accuracy figure.", ""]
        d = s["differences"]
        out += [f"### Differences, `--model {backend}`", "",
                f"{d['differences']} reported, {_f(d['precision'])} right; at the default `--min-confidence "
                f"{d['min_confidence']}`: {d['shown']} shown, {_f(d['shown_precision'])} right. Expected "
                f"calibration error of the confidence: {d['ece']:.3f}.", "",
                "| type | reported | right | shown | shown right | recall (sure pairs) | gold items |",
                "|---|---|---|---|---|---|---|"]
        for row in d["per_type"]:
            out.append(f"| {row['type']} | {row['reported']} | {_f(row['precision'])} | {row['shown']} | "
                       f"{_f(row['shown_precision'])} | {_f(row['recall'])} | {row['gold']} |")
        out += ["", "Reliability (confidence bin, differences, mean confidence, share right):", "",
                "| bin | n | confidence | right |", "|---|---|---|---|"]
        out += [f"| {r['bin']} | {r['n']} | {r['confidence']:.3f} | {r['right']:.3f} |" for r in d["reliability"]]
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="minilm,e5")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = tables(args.backends.split(","))
    print(text)
    if args.write:
        doc = DOC.read_text("utf-8")
        if BEGIN not in doc or END not in doc:
            raise SystemExit(f"{DOC}: no {BEGIN} ... {END} markers")
        head, rest = doc.split(BEGIN, 1)
        DOC.write_text(head + BEGIN + "\n" + text + "\n" + END + rest.split(END, 1)[1], "utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
