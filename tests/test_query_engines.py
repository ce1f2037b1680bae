"""The light query engines (NumPy, no PyTorch) against the engines that embed the passages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vectorstore.embedders import EmbedderError, make_embedder
from vectorstore.embedders.e5_file import E5File, packaged_model_path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "retrieval"

ODD_TEXTS = [
    "",
    " ",
    "query: ",
    "<unk>",
    "query: <unk> and <s></s>",
    "  Tabs\tand   runs of spaces,\nnew lines, 全角ＡＢＣ and ﬁ ligatures, emoji 😀, rare 閦 chars.",
    "𠀀𠀁𠀂 unknown runs ☃☃☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "before\x00after the NUL",
    "杜甫的《登高》写了什么？風急天高猿嘯哀",
    "ÅÄÖ åäö ß ǅ Ω ﬀ ¼ ² ㎏ ｶﾀｶﾅ",
]


@pytest.fixture(scope="module")
def e5_file() -> E5File:
    return E5File(packaged_model_path())


def _dev_queries() -> list[str]:
    cmrc = json.loads((SHARED / "cmrc2018_trial.json").read_text(encoding="utf-8"))["data"]
    questions = [qa["question"] for a in cmrc for p in a["paragraphs"] for qa in p["qas"]]
    pairs = json.loads((SHARED / "tatoeba_cmn_eng.json").read_text(encoding="utf-8"))["pairs"]
    return questions + [p["en"] for p in pairs] + [p["zh"] for p in pairs]


@pytest.mark.parametrize("pieces", ["from the vocabulary", "from a lookup table"])
def test_the_query_tokenizer_gives_the_whole_vocabularys_ids(
    e5_file: E5File, pieces: str, tmp_path: Path, monkeypatch
) -> None:
    from vectorstore import lookup_table
    from vectorstore.embedders.e5_query import QueryTokenizer
    from vectorstore.embedders.e5_tokenizer import E5Tokenizer

    monkeypatch.setattr(lookup_table, "_folder", tmp_path if "table" in pieces else None)
    full, light = E5Tokenizer(e5_file.vocabulary), QueryTokenizer(e5_file)
    texts = [f"query: {q}" for q in _dev_queries()] + ODD_TEXTS + [" ".join(ODD_TEXTS) * 40]
    assert len(texts) > 3000
    expected = full.content_ids(texts)
    differ = [t for t, ids in zip(texts, expected, strict=True) if light.content_ids(t) != ids]
    assert differ == []
    written = [p.name for p in tmp_path.iterdir()]
    assert written == ([f"e5-pieces-{e5_file.vocabulary_digest}.sqlite"] if "table" in pieces else [])


def test_e5_queries_without_pytorch_match_its_engine(e5_file: E5File) -> None:
    from vectorstore.embedders.e5_query import E5QueryEncoder
    from vectorstore.embedders.e5_tokenizer import E5Tokenizer
    from vectorstore.embedders.e5_torch import E5Runner

    texts = ["query: " + t for t in ["what do otters eat", "个人信息保护法什么时候施行", *ODD_TEXTS]]
    texts.append("passage: " + "长文本，" * 700)  # more than one 510-token window
    light = E5QueryEncoder(e5_file).embed_many(texts)
    ids = E5Tokenizer(e5_file.vocabulary).content_ids(texts)
    fp32 = E5Runner(e5_file, precision="fp32").embed(ids)
    bf16 = E5Runner(e5_file, precision="bf16").embed(ids)
    assert np.einsum("ij,ij->i", light, fp32).min() >= 0.99999
    assert np.einsum("ij,ij->i", light, bf16).min() >= 0.9999
    assert np.allclose(np.linalg.norm(light, axis=1), 1.0, atol=1e-5)


def test_minilm_queries_without_pytorch_match_sentence_transformers(monkeypatch) -> None:
    from vectorstore.embedders.minilm_query import MiniLMQueryEncoder

    minilm = make_embedder("minilm")
    texts = ["When was IBM founded?", "Who invented the punched card tabulator?", *ODD_TEXTS, "word " * 400]
    light = np.array([MiniLMQueryEncoder(minilm.path).embed(t) for t in texts])
    model = minilm.documents
    engine = np.array([model.embed_query(t) for t in texts])  # bfloat16 where the CPU has it
    assert np.einsum("ij,ij->i", light, engine).min() >= 0.999
    assert minilm.embed_query(texts[0]) == pytest.approx(engine[0].tolist(), abs=1e-6)  # loaded: its own
    import vectorstore.embedders.sentence_transformers as st

    monkeypatch.setattr(st, "cpu_has_native_bf16", lambda: False)
    fp32 = st.SentenceTransformerEmbedder(str(minilm.path))
    engine = np.array([fp32.embed_query(t) for t in texts])
    assert np.einsum("ij,ij->i", light, engine).min() >= 0.99999


def test_e5_embeds_queries_and_few_passages_without_pytorch_then_switches_to_it() -> None:
    from vectorstore.embedders.e5 import E5Embedder

    embedder = E5Embedder(device="cpu", precision="fp32")
    texts = ["红烧肉：五花肉切块，焯水后加冰糖炒出糖色。", "Ducks swim."]
    query = np.array(embedder.embed_query("怎么做红烧肉"))
    passages = np.array(embedder.embed_documents(texts))
    assert embedder._loaded is None and embedder._light is not None
    assert embedder.embed_batch_size() > 0  # what an ingest asks first: PyTorch loads
    assert float(query @ np.array(embedder.embed_query("怎么做红烧肉"))) >= 0.99999
    again = np.array(embedder.embed_documents(texts))
    assert np.einsum("ij,ij->i", passages, again).min() >= 0.99999


def test_a_query_loads_neither_pytorch_nor_sentence_transformers() -> None:
    script = (
        "import sys\n"
        "from vectorstore.embedders import make_embedder\n"
        "for spec, q in (('e5', '个人信息保护法什么时候施行'), ('minilm', 'When was IBM founded?')):\n"
        "    assert len(make_embedder(spec).embed_query(q)) == 384\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("damage", ["truncated", "zeroed", "bad magic"])
def test_a_damaged_e5_model_file_is_an_embedder_error(tmp_path: Path, damage: str) -> None:
    from vectorstore.embedders.e5_query import E5QueryEncoder

    data = bytearray(packaged_model_path().read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 3]
    elif damage == "zeroed":
        data[36 : 36 + 400_000] = bytes(400_000)  # the vocabulary's header and offsets
    else:
        data[:4] = b"GGUF"
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(EmbedderError, match=str(path)):
        E5QueryEncoder(E5File(path)).embed_many(["query: ducks"])


def test_a_damaged_minilm_model_is_an_embedder_error(tmp_path: Path) -> None:
    from vectorstore.embedders.minilm_query import MiniLMQueryEncoder

    minilm = make_embedder("minilm")
    folder = tmp_path / "minilm"
    folder.mkdir()
    for name in ("config.json", "sentence_bert_config.json", "tokenizer.json"):
        (folder / name).write_bytes((minilm.path / name).read_bytes())
    (folder / "model.safetensors").write_bytes((minilm.path / "model.safetensors").read_bytes()[:5000])
    with pytest.raises(EmbedderError, match="minilm"):
        MiniLMQueryEncoder(folder).embed("ducks")


def test_query_engines_keep_their_layers_from_the_second_query_on(e5_file: E5File) -> None:
    """A one-shot search streams the layers (one held at a time); a process that asks many
    queries keeps them after the second, in an ONNX Runtime session, and every query's vector is
    the same either way (to float32's rounding)."""
    from vectorstore.embedders.e5_query import E5QueryEncoder
    from vectorstore.embedders.minilm_query import MiniLMQueryEncoder

    e5 = E5QueryEncoder(e5_file)
    minilm = MiniLMQueryEncoder(make_embedder("minilm").path)
    for encoder in (e5, minilm):
        reads: list[str] = []
        kept = encoder._encoder
        for attribute in ("_read", "_graph_layers"):
            original = getattr(kept, attribute)

            def counted(original=original, reads=reads, attribute=attribute):
                reads.append(attribute)
                return original()

            setattr(kept, attribute, counted)
        embed = (lambda t, e=encoder: e.embed_many(["query: " + t])[0]) if encoder is e5 else encoder.embed
        first = embed("what do otters eat")
        assert kept.engine == "streamed"
        second, third = embed("what do otters eat"), embed("what do otters eat")
        assert kept.engine == "onnxruntime"
        assert reads == ["_read", "_graph_layers"]  # streamed, then read once more into the graph
        assert float(first @ second) > 0.99999 and np.array_equal(second, third)


def test_a_process_that_expects_many_queries_keeps_the_engines_from_the_first(
    e5_file: E5File, home: Path
) -> None:
    """The chat app and the MCP server warm up with one search: that search, not the user's
    first question, builds the kept engines."""
    from assistant.session import Session
    from assistant.settings import load_settings
    from vectorstore.embedders import MANY_QUERIES, expect_many_queries
    from vectorstore.embedders.e5_query import E5QueryEncoder

    assert not MANY_QUERIES.is_set()  # a one-shot command's default
    Session(load_settings()).warm_up()  # no base yet: nothing searched, but the process is marked
    assert MANY_QUERIES.is_set()
    expect_many_queries()
    encoder = E5QueryEncoder(e5_file)
    encoder.embed_many(["query: otters"])
    assert encoder._encoder.engine == "onnxruntime"


def test_the_query_encoder_graph_is_a_valid_onnx_model_that_matches_numpy(e5_file: E5File) -> None:
    """The ONNX messages are written by hand (onnx_graph): `onnx`'s checker reads them, and
    ONNX Runtime's hidden states match the NumPy encoder's on a window of real embeddings."""
    onnx = pytest.importorskip("onnx")
    from vectorstore.embedders.e5_query import E5QueryEncoder
    from vectorstore.embedders.numpy_encoder import encode
    from vectorstore.embedders.onnx_graph import model_bytes, onnx_encoder

    encoder = E5QueryEncoder(e5_file)
    cfg = e5_file.config
    layers = list(encoder._dequantized())
    model = onnx.load_from_string(model_bytes(layers[:2], cfg.hidden, cfg.heads, cfg.layer_norm_eps))
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node].count("LayerNormalization") == 4
    quantized = list(encoder._quantized())[:1]
    model = onnx.load_from_string(model_bytes(quantized, cfg.hidden, cfg.heads, cfg.layer_norm_eps))
    onnx.checker.check_model(model)  # ONNX's checker knows no com.microsoft schemas: not full
    assert [n.op_type for n in model.graph.node].count("MatMulNBits") == 4
    ids = [
        e5_file.specials.bos,
        *encoder.tokenizer.content_ids("query: 水调歌头 who wrote it?"),
        e5_file.specials.eos,
    ]
    x = encoder._embedded(ids)
    expected = encode(x, layers, cfg.heads, cfg.layer_norm_eps)
    # As float32 matrices, and as the file's 4-bit blocks (MatMulNBits): the same hidden states.
    for graph_layers in (layers, encoder._quantized()):
        run = onnx_encoder(graph_layers, cfg.hidden, cfg.heads, cfg.layer_norm_eps)
        assert run(x).shape == expected.shape
        assert np.abs(run(x) - expected).max() < 1e-4


def test_a_query_encoder_that_onnx_runtime_cannot_run_stays_in_numpy(
    e5_file: E5File, monkeypatch, caplog
) -> None:
    from vectorstore.embedders import onnx_graph
    from vectorstore.embedders.e5_query import E5QueryEncoder

    def refused(*args, **kwargs):
        raise RuntimeError("opset 20 is not supported")

    monkeypatch.setattr(onnx_graph, "onnx_encoder", refused)
    encoder = E5QueryEncoder(e5_file)
    vectors = [encoder.embed_many(["query: otters"])[0] for _ in range(3)]
    assert encoder._encoder.engine == "numpy" and "opset 20 is not supported" in caplog.text
    assert np.array_equal(vectors[0], vectors[1]) and np.array_equal(vectors[1], vectors[2])


def test_blas_stays_on_one_thread_until_the_last_of_two_overlapping_embeddings_ends() -> None:
    """e5 and MiniLM embed an English query at once: the first to finish must not lift the limit
    while the other still runs (OpenBLAS would then queue one caller behind the other)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from vectorstore.embedders.numpy_encoder import one_blas_thread

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    if not blas_threads():
        pytest.skip("NumPy reports no BLAS library here")
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        guard = type(one_blas_thread)()  # a controller of the libraries loaded now
        first, second = guard(), guard()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)  # the first embedding ends; the second still runs
        assert set(blas_threads()) == {1}
        second.__exit__(None, None, None)
        assert blas_threads() == before
