"""Claim aligner against the event-level aligner on the generated 32 x 200 story, side by side.

    python benchmarks/claim_align_speed.py [--outlets 32] [--statements 200] [--repeats 3]

The story generator is `align_scaling.make_story`. Both aligners are timed as `compare_story` runs
them (links, events, unique statements), alternately, best of `repeats`; the ratio is what counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from align_scaling import make_story

from compare.align.claims import align_claims, claim_events, default_claim_weights
from compare.align.events import build_events, unique_statements
from compare.align.links import link_statements
from compare.align.scorer import default_weights


def event_level(statements, vectors):  # type: ignore[no-untyped-def]
    weights = default_weights()
    links = link_statements(statements, vectors, threshold=weights.threshold, weights=weights)
    events = build_events(statements, links)
    return links, events, unique_statements(statements, events)


def claim_level(statements, vectors):  # type: ignore[no-untyped-def]
    alignment = align_claims(statements, vectors, weights=default_claim_weights())
    links = alignment.links
    events = claim_events(statements, alignment.pairs, threshold=alignment.threshold, floor=alignment.floor)
    return links, events, unique_statements(statements, events)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=32)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    statements, vectors = make_story(args.outlets, args.statements)
    best = {"event": float("inf"), "claim": float("inf")}
    sizes = {}
    for _ in range(args.repeats):
        for name, fn in (("event", event_level), ("claim", claim_level)):
            clock = time.perf_counter()
            links, events, _ = fn(statements, vectors)
            best[name] = min(best[name], time.perf_counter() - clock)
            sizes[name] = (len(links), len(events))
    n = len(statements)
    for name in best:
        print(f"{name:>5}: {best[name]:.2f} s, {sizes[name][0]} links ({sizes[name][0] / n:.2f} per statement), "
              f"{sizes[name][1]} events")
    print(f"claim / event time: {best['claim'] / best['event']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
