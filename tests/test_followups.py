"""A chat's follow-up retrieves with the conversation only when it depends on it (issue 18, item 3):
a change of topic is searched like a new question, a question that refers back is searched with
the questions it continues, and the web only ever sees the question itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chat.followups import carries_a_noun, contextual_query, depends_on_conversation, fuse_turn
from assistant.chat.pipeline import retrieve_turn
from assistant.chat.prompt import Turn
from assistant.retrieval.sources import Source

DEPENDENT = [
    "它的作者是谁？",
    "那秋天的诗呢？",
    "他还写了哪些诗？",
    "她的丈夫是谁？",
    "违反它要承担什么法律责任？",
    "其中的删除权是什么？",
    "第二个具体怎么做？",
    "该漫画是由谁创作的？",
    "此鱼分布在哪些地区？",
    "自1981年起至2012年6月，他一直担任什么职务？",
    "秋天的呢？",
    "详细说说",
    "为什么？",
    "what about the second one?",
    "Who wrote it?",
    "When was it published?",
    "What are its advantages?",
    "How does it compare with conventional trailing-edge flaps at low subsonic speeds?",
    "And the English version?",
    "tell me more",
    "why?",
]
STANDALONE = [
    "杜甫的《登高》写了什么？",
    "数据安全法规定的数据处理者有哪些义务？",
    "个人信息处理者应当履行哪些义务？",
    "杨丽音和她的丈夫是如何认识的？",
    "当马来穿山甲感到威胁时，它们会如何做？",
    "在茨柏克沃斯基担任开发经理期间，他做出了什么创作？",
    "其他国家的数据出境规则是什么？",
    "应该如何申请数据出境安全评估？",
    "数据处理者因此产生的损害由谁承担？",
    "佛教僧团中的第一位阿罗汉是谁？",
    "《This Is Where I Came In》是Bee Gees的第几张原创专辑？",
    "What is a duckling?",
    "Construct a Toeplitz matrix.",
    "Evaluate a polynomial specified by its roots at points x.",
    "is it possible to find an analytical solution of the strong blast wave problem?",
    "it is known that turbulent skin friction depends on viscosity; by how much?",
    "will apex located controls be effective at low subsonic speeds and how do they compare with flaps?",
]


@pytest.mark.parametrize("question", DEPENDENT)
def test_a_question_that_refers_back_depends_on_the_conversation(question: str) -> None:
    assert depends_on_conversation(question)


@pytest.mark.parametrize("question", STANDALONE)
def test_a_question_that_names_its_topic_stands_alone(question: str) -> None:
    assert not depends_on_conversation(question)


def test_a_topic_change_is_searched_alone_and_a_follow_up_with_what_it_continues() -> None:
    history = [Turn("数据安全法规定的数据处理者有哪些义务？", "……")]
    assert contextual_query("杜甫的《登高》写了什么？", history) == "杜甫的《登高》写了什么？"
    assert contextual_query("违反它要承担什么法律责任？", history) == (
        "数据安全法规定的数据处理者有哪些义务？ 违反它要承担什么法律责任？"
    )
    # A chain of follow-ups goes back to the last question that stood on its own, and no further.
    chain = [Turn("个人信息保护法规定了什么？", ""), Turn("杜甫是谁？", ""), Turn("他写过哪些诗？", "")]
    assert contextual_query("那秋天的呢？", chain) == "杜甫是谁？ 他写过哪些诗？ 那秋天的呢？"
    assert contextual_query("它的作者是谁？", []) == "它的作者是谁？"


def _source(chunk_id: str) -> Source:
    return Source("kb", chunk_id, f"/{chunk_id}.md", "text", 0.0, chunk_id)


def test_fusing_lifts_what_both_searches_find() -> None:
    contextual = [_source(i) for i in ("a", "b", "c", "d")]
    alone = [_source(i) for i in ("d", "x", "y")]
    fused = fuse_turn(contextual, alone, k=4)
    assert [s.chunk_id for s in fused] == ["d", "a", "x", "b"]  # found by both first; ties: the question's
    assert [s.label for s in fused] == ["K1", "K2", "K3", "K4"]


@pytest.mark.parametrize(
    "question,noun",
    [
        ("该漫画是由谁创作的？", True),
        ("此鱼分布在哪些地区？", True),
        ("这部作品使用什么作为魔法的描绘？", True),
        ("What did this paper find?", True),
        ("它分布在哪些地区？", False),
        ("违反它要承担什么法律责任？", False),
        ("What does it return?", False),
    ],
)
def test_a_reference_with_a_noun_of_its_own_is_told_from_a_bare_pronoun(question: str, noun: bool) -> None:
    assert carries_a_noun(question) is noun


class _Recorder:
    """A retriever that records its searches and finds documents by the words of the query."""

    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents
        self.searches: list[tuple[str, bool, str | None]] = []

    def search(self, query: str, *, k: int = 6, web: bool = False, web_query: str | None = None):
        from assistant.retrieval import Retrieval

        self.searches.append((query, web, web_query or query if web else None))
        hits = [name for name, text in self.documents.items() if any(ch in query for ch in text)]
        return Retrieval(query=query, sources=[_source(Path(h).stem) for h in hits][:k], web=web)


def test_a_chat_turn_sends_the_web_the_question_alone() -> None:
    retriever = _Recorder({"law.md": "数据安全法", "poem.md": "登高"})
    history = [Turn("数据安全法规定的数据处理者有哪些义务？", "……")]
    retrieve_turn(retriever, "杜甫的《登高》写了什么？", history, k=4, web=True)
    assert retriever.searches == [("杜甫的《登高》写了什么？", True, "杜甫的《登高》写了什么？")]

    retriever.searches.clear()
    retrieve_turn(retriever, "违反它要承担什么法律责任？", history, k=4, web=True)
    assert retriever.searches == [  # a bare pronoun: the question alone would find nothing
        (
            "数据安全法规定的数据处理者有哪些义务？ 违反它要承担什么法律责任？",
            True,
            "违反它要承担什么法律责任？",
        )
    ]

    retriever.searches.clear()
    retrieve_turn(retriever, "该法的罚款有多少？", history, k=4, web=True)
    contextual, alone = retriever.searches  # a noun of its own: searched alone too, and fused
    assert contextual == (
        "数据安全法规定的数据处理者有哪些义务？ 该法的罚款有多少？",
        True,
        "该法的罚款有多少？",
    )
    assert alone == ("该法的罚款有多少？", False, None)
