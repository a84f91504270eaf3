"""The demo's PDF and the whole CLI run, this tree against an older one, side by side.

Timings on the shared 2-core machine move with other work by ±30%, so the two trees run alternately in
one script run, each measurement in a fresh process, and the best of N is compared (wall and CPU seconds):

- `pdf`: `render_pdf` of the same pickled demo comparison (corpora/kupyansk), WeasyPrint import excluded;
- `cli`: `python -m compare compare corpora/kupyansk --format html,pdf,json` with the embedding cache
  filled (a warm run);
- `cold`: the same with an empty embedding cache (model load and embedding included).

Usage: git archive OLD_COMMIT | tar -x -C /tmp/old-tree
       .venv/bin/python benchmarks/pdf_side_by_side.py /tmp/old-tree [--runs 3] [--modes pdf,cli,cold]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORY = "corpora/kupyansk"

MAKE_COMPARISON = r"""
import pickle, sys
from compare.config import Settings
from compare.corpus.story import load_story
from compare.embed.backends import default_cache_path
from compare.pipeline import compare_story
comparison = compare_story(load_story(sys.argv[1]), Settings(model="auto", cache_path=default_cache_path()))
pickle.dump(comparison, open(sys.argv[2], "wb"))
"""

RENDER_PDF = r"""
import json, pickle, sys, time
from compare.report.render import render_pdf
import weasyprint  # noqa: F401 - the import is not what this measures
comparison = pickle.load(open(sys.argv[1], "rb"))
wall, cpu = time.perf_counter(), time.process_time()
pdf = render_pdf(comparison)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "bytes": len(pdf)}))
"""


def run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the child and its children, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} in {cwd} failed: {proc.stderr[-2000:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path, help="an export of the older tree (git archive COMMIT | tar -x)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="pdf,cli")
    args = parser.parse_args()
    modes = args.modes.split(",")
    trees = {"old": args.old.resolve(), "new": ROOT}
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    work = Path(tempfile.mkdtemp(prefix="pdf-side-"))
    pickled = work / "comparison.pkl"
    run([sys.executable, "-c", MAKE_COMPARISON, STORY, str(pickled)], ROOT, env)  # also fills the cache
    results: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for i in range(args.runs):
        for name, tree in (list(trees.items()) if i % 2 == 0 else list(reversed(trees.items()))):
            out = results[name]
            if "pdf" in modes:
                _, _, stdout = run([sys.executable, "-c", RENDER_PDF, str(pickled)], tree, env)
                row = json.loads(stdout.strip().splitlines()[-1])
                out.setdefault("pdf_wall", []).append(row["wall"])
                out.setdefault("pdf_cpu", []).append(row["cpu"])
            for mode in ("cli", "cold"):
                if mode not in modes:
                    continue
                mode_env = dict(env)
                if mode == "cold":
                    mode_env["STORYDIFF_CACHE"] = str(Path(tempfile.mkdtemp(dir=work)) / "embeddings.sqlite")
                wall, cpu, _ = run([sys.executable, "-m", "compare", "compare", STORY, "-o", str(work / name),
                                    "--format", "html,pdf,json", "-q"], tree, mode_env)
                out.setdefault(f"{mode}_wall", []).append(wall)
                out.setdefault(f"{mode}_cpu", []).append(cpu)
            print(name, {k: [round(v, 2) for v in vs] for k, vs in out.items()}, file=sys.stderr, flush=True)
    summary = {key: {"old": min(results["old"][key]), "new": min(results["new"][key]),
                     "ratio": min(results["old"][key]) / min(results["new"][key])}
               for key in results["new"]}
    print(json.dumps({"runs": args.runs, "load": os.getloadavg(), "best": summary}, indent=1))


if __name__ == "__main__":
    main()
