"""Demo story end to end (HTML + PDF + JSON), cold and warm, with a per-stage breakdown.

Cold = a fresh process and an empty embedding cache (what a first `make demo` sees); warm = a fresh
process with the cache filled (a re-run). Each measurement runs in its own subprocess so imports and
model loading are really paid. The stage breakdown comes from a driver that does what
`storydiff compare` does, step by step; the end-to-end figure is the real CLI, timed from outside.
Also `storydiff --help`, beside a bare interpreter start as its reference.

Run alone: .venv/bin/python benchmarks/demo_e2e.py  (prints JSON)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STORYDIFF = VENV_BIN / "storydiff"

# Runs in a fresh interpreter; prints one JSON line of stage seconds.
DRIVER = r"""
import json, sys, time
t0 = time.perf_counter()
from compare.corpus.story import load_story
from compare.config import Settings
from compare.embed.backends import default_cache_path, get_embedder
from compare.pipeline import compare_story, segment_documents, document_language
from compare.report.render import render_all
imports = time.perf_counter() - t0
story = load_story(sys.argv[1])
settings = Settings(model="auto", cache_path=default_cache_path())
model_load = 0.0
if sys.argv[2] == "cold":
    # What the embed stage would pay on first use, measured on its own: load the model, one tiny encode.
    t = time.perf_counter()
    langs = sorted({document_language(d) for d in story.documents})
    get_embedder(settings.model, languages=langs).encode(["warm up"])
    model_load = time.perf_counter() - t
comparison = compare_story(story, settings)
stages = dict(comparison.meta["timings"])
for fmt in ("json", "html", "pdf"):
    t = time.perf_counter()
    render_all(comparison, (fmt,), page_size=settings.page_size)
    stages["render_" + fmt] = time.perf_counter() - t
print(json.dumps({"imports": imports, "model_load": model_load, **stages,
                  "events": len(comparison.events), "statements": len(comparison.statements),
                  "documents": len(comparison.documents), "model": comparison.meta.get("model")}))
"""


def demo_story() -> tuple[Path, str]:
    """corpora/kupyansk when it is there, else the small fixture story (and say which)."""
    for candidate in (ROOT / "corpora" / "kupyansk", ROOT / "tests" / "fixtures" / "tiny"):
        if (candidate / "story.toml").is_file():
            return candidate, str(candidate.relative_to(ROOT))
    raise SystemExit("no demo story found (corpora/kupyansk or tests/fixtures/tiny)")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, child CPU seconds (user+sys) and stdout of one subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def progress(result: dict) -> None:
    """One JSON line of what is measured so far, so a run cut short by the bench budget still reports it."""
    if __name__ == "__main__":
        print(json.dumps(result), flush=True)


def run(repeats: int = 1) -> dict:
    story, label = demo_story()
    result: dict = {"story": label}
    with tempfile.TemporaryDirectory(prefix="storydiff-bench-") as tmp:
        base_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

        # --help, beside a bare interpreter start (the floor any Python CLI pays).
        helps = [timed([str(STORYDIFF), "--help"], base_env)[0] for _ in range(repeats)]
        bare = [timed([sys.executable, "-c", "pass"], base_env)[0] for _ in range(repeats)]
        result["help_s"] = min(helps)
        result["python_startup_s"] = min(bare)
        progress(result)

        # CLI end to end: cold (empty cache) then warm (cache filled), each in a fresh process.
        out = Path(tmp) / "out"
        cli = [str(STORYDIFF), "compare", str(story), "-o", str(out), "--format", "html,pdf,json", "-q"]
        colds, warms = [], []
        env = {**base_env, "STORYDIFF_CACHE": str(Path(tmp) / "cold" / "embeddings.sqlite")}
        colds.append(timed(cli, env)[:2])  # one cold run: each costs a model load
        for _ in range(repeats):
            warms.append(timed(cli, env)[:2])
        result["cold_s"], result["cold_cpu_s"] = min(colds)
        result["warm_s"], result["warm_cpu_s"] = min(warms)
        progress(result)

        # Stage breakdown (driver doing the same steps, with timers between them).
        env = {**base_env, "STORYDIFF_CACHE": str(Path(tmp) / "stages" / "embeddings.sqlite")}
        driver = [sys.executable, "-c", DRIVER, str(story)]
        wall, _, stdout = timed([*driver, "cold"], env)
        result["cold_stages"] = {**json.loads(stdout.strip().splitlines()[-1]), "process_wall": wall}
        wall, _, stdout = timed([*driver, "warm"], env)
        result["warm_stages"] = {**json.loads(stdout.strip().splitlines()[-1]), "process_wall": wall}
    return result


if __name__ == "__main__":
    print(json.dumps(run()))
