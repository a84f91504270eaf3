"""Alignment time and memory for many outlets (issue 8): 32 outlets x 200 statements by default.

    .venv/bin/python benchmarks/align_speed.py [--outlets 32] [--statements 200] [--baseline 69d1a45]
        [--story scaling]

Synthetic but shaped like a real feed: 60 events, each outlet reporting each event in a few
statements with event words plus common words; vectors are event directions plus noise. Each run is a
fresh process (peak RSS is per process): the current `compare.align` package, then, with
`--baseline REV`, the `compare/align.py` of that git revision (before the package split) on the same
input, so the ratio is measured under the same load.
Prints seconds for links and events, link and event counts, peak RSS growth, the load average, how
many of the baseline's same-event links (both statements from one synthetic event) the current code keeps,
and whether every link (ends, score, cosine, fuzzy, overlap) and event equals the baseline's.
`--story scaling` uses `align_scaling.py`'s story instead (longer statements, 1.3 M fuzzy candidates at
32 x 200; it has no event labels, so no same-event counts).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compare.model import Statement  # noqa: E402


def synthetic(outlets: int, per_outlet: int, events: int = 60, seed: int = 0
              ) -> tuple[list[Statement], np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    pool = [f"w{k}" for k in range(3000)]
    event_words = [rng.choice(pool[:2500], size=15, replace=False) for _ in range(events)]
    common = pool[2500:]
    directions = rng.normal(size=(events, 384))
    statements, vectors, truth = [], [], []
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
            truth.append(e)
    v = np.asarray(vectors)
    return statements, (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32), truth


def load_align(revision: str | None):  # type: ignore[no-untyped-def]
    if revision is None:
        from types import SimpleNamespace

        from compare.align import events, links, scorer

        return SimpleNamespace(default_weights=scorer.default_weights, load_weights=scorer.load_weights,
                               link_statements=links.link_statements, build_events=events.build_events,
                               unique_statements=events.unique_statements)
    if Path(revision).is_file():  # a saved copy of an older align.py (machines without the git history)
        source = Path(revision).read_text("utf-8")
    else:
        source = subprocess.run(["git", "show", f"{revision}:compare/align.py"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "align_baseline.py"
    path.write_text(source, "utf-8")
    spec = importlib.util.spec_from_file_location("align_baseline", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["align_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def baseline_weights(revision: str) -> Path:
    """`REV:compare/data/aligner.json`, or `FILE.json` beside a saved align.py copy."""
    if Path(revision).is_file():
        return Path(revision).with_suffix(".json")
    path = Path(tempfile.mkdtemp()) / "aligner.json"
    path.write_text(subprocess.run(["git", "show", f"{revision}:compare/data/aligner.json"], cwd=ROOT, check=True,
                                   capture_output=True, text=True).stdout, "utf-8")
    return path


def measure(outlets: int, per_outlet: int, revision: str | None, story: str = "speed") -> dict:
    """One run in this process: seconds, counts, RSS growth and the linked pairs."""
    align = load_align(revision)
    if story == "scaling":
        from align_scaling import make_story

        statements, vectors = make_story(outlets, per_outlet)
        truth = [None] * len(statements)  # no event labels
    else:
        statements, vectors, truth = synthetic(outlets, per_outlet)
    backend = "sentence-transformers/all-MiniLM-L6-v2"
    if revision is None:
        weights = align.default_weights(backend)
    else:  # the scorer file of the same revision (features may differ between versions)
        weights = align.load_weights(baseline_weights(revision), backend)
    align.build_events(statements[:4], align.link_statements(statements[:4], vectors[:4], weights=weights),
                       merge_threshold=weights.merge_threshold)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    started = time.perf_counter()
    links = align.link_statements(statements, vectors, weights=weights)
    linked = time.perf_counter()
    events = align.build_events(statements, links, merge_threshold=weights.merge_threshold)
    align.unique_statements(statements, events)
    done = time.perf_counter()
    cpu = time.process_time() - cpu  # all threads: steadier than wall time on a shared machine
    event_of = {s.ref: e for s, e in zip(statements, truth, strict=True)}
    same = sorted(f"{lk.a.doc_id}:{lk.a.index}|{lk.b.doc_id}:{lk.b.index}" for lk in links
                  if event_of[lk.a] is not None and event_of[lk.a] == event_of[lk.b])
    digest = hashlib.sha1()
    for lk in links:
        digest.update(f"{lk.a.doc_id}:{lk.a.index}|{lk.b.doc_id}:{lk.b.index}|{lk.score}|{lk.cosine}|{lk.fuzzy}|"
                      f"{lk.overlap}\n".encode())
    for event in events:
        digest.update(f"{event.event_id}:{event.members}:{event.cohesion}\n".encode())
    return {"revision": revision or "working tree", "links": len(links), "same_event_links": len(same),
            "digest": digest.hexdigest(),
            "events": len(events), "links_s": linked - started, "events_s": done - linked,
            "total_s": done - started, "cpu_s": cpu,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_growth_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before,
            "same_pairs": same}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=32)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--baseline", default=None,
                        help="git revision of compare/align/events.py (or a saved copy of it) to compare with")
    parser.add_argument("--story", choices=("speed", "scaling"), default="speed")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        result = measure(args.outlets, args.statements, None if args.child == "-" else args.child, args.story)
        print(json.dumps(result))
        return
    load = os.getloadavg()
    runs = []
    for revision in ("-", *([args.baseline] if args.baseline else [])):
        out = subprocess.run([sys.executable, __file__, "--outlets", str(args.outlets), "--statements",
                              str(args.statements), "--story", args.story, "--child", revision],
                             capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"align_speed: run of {revision} failed:\n{out.stderr[-2000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{args.story} story, {args.outlets} outlets x {args.statements} statements; load average before "
          f"{load[0]:.1f} (after {os.getloadavg()[0]:.1f}) on {os.cpu_count()} cores")
    for r in runs:
        print(f"  {r['revision']:>14}: {r['links']} links ({r['same_event_links']} same-event), {r['events']} events; "
              f"links {r['links_s']:.2f} s, events {r['events_s']:.2f} s, total {r['total_s']:.2f} s "
              f"(CPU {r.get('cpu_s', float('nan')):.2f} s); "
              f"peak RSS {r['peak_rss_mb']:.0f} MB (+{r['rss_growth_mb']:.0f} MB during alignment)")
    if len(runs) == 2:
        new, old = runs
        kept = (f"{len(set(new['same_pairs']) & set(old['same_pairs'])) / len(old['same_pairs']):.3f}"
                if old["same_pairs"] else "n/a")
        print(f"  speed-up {old['total_s'] / new['total_s']:.1f}x (links {old['links_s'] / new['links_s']:.1f}x, "
              f"events {old['events_s'] / max(new['events_s'], 1e-9):.1f}x); RSS growth "
              f"{old['rss_growth_mb']:.0f} -> {new['rss_growth_mb']:.0f} MB; same-event links of the baseline "
              f"kept: {kept}; links and events identical to the baseline: {new['digest'] == old['digest']}")


if __name__ == "__main__":
    main()
