"""What one touched story costs a scheduled run: comparison (segmentation with cues, alignment,
difference typing) plus HTML and JSON rendering, per 10-article story like those of
benchmarks/scheduled_runs.py, with vectors precomputed (embedding is measured elsewhere).

Prints CPU and wall seconds per story as JSON. Run it from the root of each tree to compare, alternating
(`cd OTHER_TREE && python /path/to/benchmarks/story_cost.py` imports that tree's `compare`).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd() / "benchmarks"))
import scheduled_runs as sr

from compare import pipeline
from compare.config import Settings
from compare.corpus.base import Story
from compare.embed.backends import get_embedder
from compare.model import Document
from compare.report.render import render_all

STORIES = 12


class Precomputed:
    """Serves vectors computed before the timed part."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray]) -> None:
        self.name = name
        self.vectors = vectors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def main() -> None:
    rng = random.Random(5)

    def story(n: int) -> Story:
        invented = sr.generate_story(n, rng)
        docs = tuple(Document(doc_id=f"o{o:02d}", outlet=f"Outlet {o:02d}", title="t", language="en",
                              text=sr.article_text(invented, o, rng)[1]) for o in range(10))
        return Story(story_id=f"s{n}", title="t", description="d", documents=docs, source="bench")

    stories = [story(n) for n in range(STORIES + 1)]
    embedder = get_embedder("minilm")
    texts = sorted({s.text for st in stories for s in pipeline.segment_documents(st.documents)})
    fixed = Precomputed(embedder.name, dict(zip(texts, embedder.encode(texts), strict=True)))
    if hasattr(pipeline, "_segmented"):
        pipeline._segmented.cache_clear()  # time segmentation too, as for a story met the first time
    settings = Settings(model="minilm", cache_path=None)
    render_all(pipeline.compare_story(stories[0], settings, embedder=fixed), ["html", "json"])  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    for one in stories[1:]:
        render_all(pipeline.compare_story(one, settings, embedder=fixed), ["html", "json"])
    print(json.dumps({"stories": STORIES, "cpu_per_story": (time.process_time() - cpu) / STORIES,
                      "wall_per_story": (time.perf_counter() - wall) / STORIES}))


if __name__ == "__main__":
    main()
