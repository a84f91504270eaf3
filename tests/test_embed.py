"""Embedding backends behind one interface: shapes, normalisation, cross-language neighbours, `auto`,
errors for bad model paths, and a cache that never embeds a sentence twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compare.embed import (
    BACKEND_NAMES,
    EmbeddingCache,
    get_embedder,
    is_multilingual,
    needs_multilingual,
    resolve_backend,
)
from compare.errors import ModelLoadError

# Russian / Ukrainian sentences and their English translations, in shuffled order.
EN = ["Ukraine's General Staff denied on Friday that the town had fallen.",
      "Evacuation buses arrived in Kharkiv in the afternoon.",
      "A drone strike on a substation left thousands of homes without power.",
      "Schools in the district will switch to online classes."]
RU = ["Школы района перейдут на дистанционное обучение.",
      "Генштаб Украины в пятницу опроверг сообщения о падении города.",
      "Удар беспилотника по подстанции оставил без света тысячи домов.",
      "Автобусы с эвакуированными прибыли в Харьков днем."]
UK = ["Удар дрона по підстанції залишив без світла тисячі будинків.",
      "Школи району перейдуть на дистанційне навчання.",
      "Евакуаційні автобуси прибули до Харкова вдень.",
      "Генштаб України в п’ятницю заперечив, що місто впало."]
RU_GOLD = [1, 3, 2, 0]  # EN[i] translates RU[RU_GOLD[i]]
UK_GOLD = [3, 2, 0, 1]


@pytest.mark.model
@pytest.mark.parametrize("backend, dim", [("minilm", 384), ("use", 512), ("e5", 384)])
def test_every_backend_returns_normalised_float32_rows(backend: str, dim: int) -> None:
    vectors = get_embedder(backend).encode(EN[:3])
    assert vectors.shape == (3, dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert get_embedder(backend).encode([]).shape == (0, dim)


@pytest.mark.model
@pytest.mark.parametrize("backend", ["use", "e5"])
def test_multilingual_backends_find_the_translation_as_nearest_neighbour(backend: str) -> None:
    embedder = get_embedder(backend)
    en, ru, uk = embedder.encode(EN), embedder.encode(RU), embedder.encode(UK)
    assert (en @ ru.T).argmax(axis=1).tolist() == RU_GOLD
    assert (en @ uk.T).argmax(axis=1).tolist() == UK_GOLD
    assert is_multilingual(embedder)


@pytest.mark.model
def test_the_english_model_does_not_match_across_scripts() -> None:
    """Why `auto` switches: MiniLM scores a Russian sentence and its translation like unrelated text."""
    embedder = get_embedder("minilm")
    en, ru = embedder.encode(EN), embedder.encode(RU)
    assert not is_multilingual(embedder)
    assert (en @ ru.T).argmax(axis=1).tolist() != RU_GOLD


def test_auto_picks_english_for_english_stories_and_multilingual_otherwise() -> None:
    assert resolve_backend("auto", languages=["en", "en"]) == "minilm"
    assert resolve_backend(None, languages=[]) == "minilm"
    assert resolve_backend("auto", languages=["en", "ru"]) in ("e5", "use")
    assert resolve_backend("auto", languages=["uk"]) in ("e5", "use")
    assert needs_multilingual(["de"]) and not needs_multilingual(["en", "EN"])


def test_model_accepts_short_names_and_embedder_names() -> None:
    for backend, name in BACKEND_NAMES.items():
        assert resolve_backend(backend) == backend
        assert resolve_backend(name) == backend
        assert resolve_backend(name.upper()) == backend


def test_a_missing_model_folder_is_a_clear_input_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="model folder not found"):
        get_embedder(str(tmp_path / "nowhere"))
    with pytest.raises(ModelLoadError, match="not a backend"):
        get_embedder("labse")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not a sentence-transformers model folder"):
        get_embedder(str(tmp_path / "empty"))


class CountingEmbedder:
    name = "counting-test"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.seen += list(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_no_statement_is_embedded_twice(tmp_path: Path) -> None:
    EmbeddingCache.clear_memory()
    embedder = CountingEmbedder()
    first = EmbeddingCache(tmp_path / "cache.sqlite").encode(embedder, ["a", "bb", "a"])
    assert embedder.seen == ["a", "bb"] and first.shape == (3, 2)
    again = EmbeddingCache(None).encode(embedder, ["bb", "a", "ccc"])  # memory layer, another object
    assert embedder.seen == ["a", "bb", "ccc"]
    assert np.array_equal(again[:2], first[[1, 0]])
    EmbeddingCache.clear_memory()
    EmbeddingCache(tmp_path / "cache.sqlite").encode(embedder, ["a", "bb"])  # disk layer
    assert embedder.seen == ["a", "bb", "ccc"]
