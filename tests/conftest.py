"""Shared fixtures: paths to the shared evaluation data and a tiny real story."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the user's embedding cache."""
    os.environ["STORYDIFF_CACHE"] = str(tmp_path_factory.mktemp("cache") / "embeddings.sqlite")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    path = SHARED / "eval"
    if not (path / "ecbplus_topics_dev.jsonl").is_file():
        pytest.skip(f"{path}: shared evaluation data not present")
    return path


@pytest.fixture(scope="session")
def seed_article() -> Path:
    seeds = sorted((SHARED / "seeds").glob("*.txt")) if (SHARED / "seeds").is_dir() else []
    if not seeds:
        pytest.skip(f"{SHARED / 'seeds'}: seed article not present")
    return seeds[0]


@pytest.fixture(scope="session")
def tiny_story() -> Path:
    return FIXTURES / "tiny"
