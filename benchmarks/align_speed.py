"""Alignment time and memory for many outlets (issue 8): 32 outlets x 200 statements by default.

    .venv/bin/python benchmarks/align_speed.py [--outlets 32] [--statements 200]

Synthetic but shaped like a real feed: 60 events, each outlet reporting each event in a few
statements with event words plus common words; vectors are event directions plus noise. Prints the
seconds for links and for events, the number of links, and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compare.align import build_events, default_weights, link_statements, unique_statements
from compare.model import Statement


def synthetic(outlets: int, per_outlet: int, events: int = 60, seed: int = 0) -> tuple[list[Statement], np.ndarray]:
    rng = np.random.default_rng(seed)
    pool = [f"w{k}" for k in range(3000)]
    event_words = [rng.choice(pool[:2500], size=15, replace=False) for _ in range(events)]
    common = pool[2500:]
    directions = rng.normal(size=(events, 384))
    statements, vectors = [], []
    for d in range(outlets):
        offset = 0
        for i in range(per_outlet):
            e = int(rng.integers(events))
            words = list(rng.choice(event_words[e], size=6)) + list(rng.choice(common, size=6))
            rng.shuffle(words)
            text = " ".join(words)
            statements.append(Statement(f"outlet{d:02d}", i, offset, offset + len(text), text, "en", ()))
            offset += len(text) + 1
            vectors.append(directions[e] + 1.2 * rng.normal(size=384))
    v = np.asarray(vectors)
    return statements, (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=32)
    parser.add_argument("--statements", type=int, default=200)
    args = parser.parse_args()
    statements, vectors = synthetic(args.outlets, args.statements)
    weights = default_weights("sentence-transformers/all-MiniLM-L6-v2")
    link_statements(statements[:4], vectors[:4], weights=weights)  # warm imports
    started = time.perf_counter()
    links = link_statements(statements, vectors, weights=weights)
    linked = time.perf_counter()
    events = build_events(statements, links, merge_threshold=weights.merge_threshold)
    unique_statements(statements, events)
    done = time.perf_counter()
    pairs = sum(1 for _ in range(1)) and (len(statements) ** 2 - sum(
        len([s for s in statements if s.doc_id == d]) ** 2 for d in {s.doc_id for s in statements})) // 2
    print(f"{args.outlets} outlets x {args.statements} statements: {pairs} cross pairs, {len(links)} links, "
          f"{len(events)} events; links {linked - started:.2f} s, events {done - linked:.2f} s, "
          f"total {done - started:.2f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
