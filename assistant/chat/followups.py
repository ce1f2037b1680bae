"""Does a chat question depend on the conversation before it?

A question that names its own topic ("杜甫的《登高》写了什么？" after a question about a law) is
retrieved alone, like a new question: the previous topic's documents must not come along. One that
cannot be understood alone ("它的作者是谁？", "那秋天的诗呢？", "what about the second one?",
"why?") is retrieved together with the questions it continues (`contextual_query`). One that
refers back with a noun of its own ("该漫画是由谁创作的？", "this paper") may as well begin a new
topic: it is also searched alone, and the two rankings are fused (`carries_a_noun`, `fuse_turn`);
a bare pronoun ("它", "it") gives a search nothing to go on alone.

A question depends on the conversation when
- it opens as a follow-up ("what about", "and ...", "那…", "还有…", "另外…");
- it refers back (a pronoun, a demonstrative, "the second one", "第二个", "该", "此", "其") before
  it has named anything itself: in "杨丽音和她的丈夫是如何认识的？" 她 points at a name inside
  the question, in "她的丈夫是谁？" at someone earlier in the chat;
- it refers back and names at most two things of its own ("他还写了哪些诗？");
- it names nothing of its own ("为什么？", "tell me more", "详细说说", "秋天的呢？").

Expletive "it" ("is it possible to ...", "it is likely that ...") refers to nothing. Only the
local knowledge-base search uses the context: the web is always searched for the question alone
(see `pipeline`). `benchmarks/followups.py` measures the rule on two-turn dev sets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from vectorstore.text import STOPWORDS, normalise

from ..retrieval.sources import Source, assign_labels
from .prompt import Turn

#: Earlier questions a follow-up may carry along: it and the ones it continues, back to the last
#: question that stood on its own.
MAX_CONTEXT_QUESTIONS = 3

_OPENERS = re.compile(
    r"^(?:what|how)\s+about\b|^(?:and|also|plus|but|so)\b|^(?:what|which|who)\s+else\b"
    r"|^(?:tell\s+me\s+)?(?:more|go\s+on|continue)\b|^(?:why|how|really|which\s+one)\s*\??$"
    r"|^(?:那|那么|还有|另外|此外|然后|接着|再|同样|以及|而)",
    re.IGNORECASE,
)
_EXPLETIVE = re.compile(
    r"\b(?:is|was|would|will|could|can|isn't|wasn't)\s+it\s+(?:be\s+|not\s+)?"
    r"(?:possible|necessary|true|likely|feasible|known|worth|better|safe|fair|correct|reasonable)\b"
    r"|\bit\s+(?:is|was|seems|appears|has\s+been|would\s+be)\s+(?:not\s+)?"
    r"(?:possible|likely|known|necessary|true|clear|said|reported|worth|believed|assumed|unlikely)\b"
    r"|\bit\s+(?:rains?|snows?)\b",
    re.IGNORECASE,
)
_EN_REFERRING = frozenset(
    """it its itself they them their theirs themselves he him his himself she her hers herself
    this these those former latter above aforementioned""".split()
)
_EN_ORDINAL_ONE = re.compile(
    r"\b(?:the\s+)?(?:first|second|third|fourth|fifth|last|other|previous|next|same|latter|former)"
    r"\s+(?:one|ones|option|item|point|step|case|example)s?\b|\bthat\s+one\b|\bthat\s*\?",
    re.IGNORECASE,
)
_ZH_REFERRING = frozenset(
    """它 它们 他 他们 她 她们 其 其中 该 此 此人 之 上述 前者 后者
    这 那 这里 那里 这样 那样 刚才 上面 前面""".split()
)
_ZH_ORDINAL = re.compile(r"第[一二三四五六七八九十两\d]+(?:个|种|点|首|本|部|篇|位|项|步|部分|条建议)")
#: 《登高》, “This Is Where I Came In”: a quoted title.
_TITLES = re.compile(r"《[^》]*》|“[^”]*”|\"[^\"]*\"")
#: Question and function words that name nothing, beyond the search stopwords.
_FUNCTION_WORDS = STOPWORDS | frozenset(
    """谁 哪 哪里 哪儿 何 何时 何地 何处 怎么样 多大 多长 多久 多远 几个 还 又 再 更 最 很 会 能
    可以 要 应该 呢 吗 吧 么 啊 呀 说 讲 说说 讲讲 介绍 一下 具体 详细 还有 有没有 是不是 为何
    哪一个 哪一年 时候 东西 方面 问题
    年 月 日 号 时 起 至 自 从 到 当 期间 以后 以前 之后 之前 当时 目前 现在 截至 一直 曾 曾经 已经
    i me my you your we us our can could would should shall may might must am been being had
    having not no nor only than then there here about more most some any all each both other others
    such very just also too so but if else tell explain give show describe please detail details
    mean means really one ones same way ways thing things something anything kind sort much many
    lot""".split()
)
_WORD = re.compile(r"\w", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _tokens(text: str) -> list[str]:
    """Words of `text`, Chinese segmented with jieba, English split at non-letters."""
    return [t.strip() for t in _jieba().lcut(text) if t.strip() and _WORD.search(t)]


def _bare_ordinal(text: str) -> bool:
    """ "第二个…" pointing into an earlier answer, not "第一位阿罗汉" (the first of a named kind)."""
    for match in _ZH_ORDINAL.finditer(text):
        following = _tokens(text[match.end() :])[:1]
        if not following or not _is_content(following[0]):
            return True
    return False


def _names_before_reference(text: str) -> bool:
    """Whether a Chinese question names something (a noun, a name) before it first refers back:
    "杨丽音和她的丈夫" does, "违反它要承担…" does not (违反 is a verb). Part-of-speech tags are
    loaded only for such questions."""
    from jieba import posseg

    for pair in posseg.lcut(text):
        word, flag = pair.word.strip(), pair.flag
        if _is_referring(word):
            return False
        if word and _is_content(word) and (flag.startswith("n") or flag in ("j", "eng")):
            return True
    return False


def _is_referring(token: str) -> bool:
    if token in _ZH_REFERRING or token in _EN_REFERRING:
        return True
    # 这首, 这部, 那些, 此鱼, 该书... (but not 那么 "then", an opener handled above)
    return len(token) <= 3 and token[0] in "这那此该" and token not in ("那么", "这么", "此外", "该当")


def _is_content(token: str) -> bool:
    return not _is_referring(token) and token not in _FUNCTION_WORDS and not token.isdigit()


def depends_on_conversation(question: str) -> bool:
    """Whether `question` cannot be understood without the questions before it (see module)."""
    text = normalise(question.strip())
    if not text:
        return False
    text = _TITLES.sub(" 书名 ", text)  # a quoted title names a topic, whatever words it holds
    if _OPENERS.search(text) or _EN_ORDINAL_ONE.search(text) or _bare_ordinal(text):
        return True
    tokens = _tokens(_EXPLETIVE.sub(" ", text))
    content = [t for t in tokens if _is_content(t)]
    if not content:
        return True
    referring = [i for i, t in enumerate(tokens) if _is_referring(t)]
    if referring:
        named_before = any(_is_content(t) for t in tokens[: referring[0]])
        if named_before and _CJK.search(text):
            named_before = _names_before_reference(_EXPLETIVE.sub(" ", text))
        if not named_before or len(content) <= 2:
            return True
    return text.rstrip("?？!！。.").endswith("呢") and len(content) <= 2


def contextual_query(question: str, history: Sequence[Turn]) -> str:
    """What the local knowledge base is searched for: the question alone, or, when it depends on
    the conversation, the earlier questions it continues and then it."""
    if not history or not depends_on_conversation(question):
        return question
    context: list[str] = []
    for turn in reversed(history):
        context.insert(0, turn.question)
        if len(context) >= MAX_CONTEXT_QUESTIONS or not depends_on_conversation(turn.question):
            break
    return " ".join([*context, question])


_BARE_PRONOUNS = frozenset(
    """它 它们 他 他们 她 她们 其 其中 之 it its itself they them their theirs he him his she her hers
    former latter""".split()
)
_CLASSIFIERS = frozenset("个 些 样 么 里 儿 位 种 次 件 条 首 部 本 篇 张 项 点 段 家 所 座 场".split())


def carries_a_noun(question: str) -> bool:
    """Whether the question's first reference back names a kind of thing ("该漫画", "此鱼",
    "这部作品", "this paper") rather than being a bare pronoun ("它", "it")."""
    tokens = _tokens(_EXPLETIVE.sub(" ", normalise(question.strip())))
    for i, token in enumerate(tokens):
        if not _is_referring(token):
            continue
        if token in _BARE_PRONOUNS:
            return False
        if len(token) > 1 and token[0] in "这那此该" and token[-1] not in _CLASSIFIERS:
            return True  # 此鱼, 该院: the noun is in the word
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        return bool(following) and _is_content(following)
    return False


#: Reciprocal-rank fusion of a follow-up's two searches, each counted fully.
RRF_K = 60


def fuse_turn(contextual: Sequence[Source], alone: Sequence[Source], k: int) -> list[Source]:
    """The `k` best of a follow-up's contextual search and its standalone one, relabelled."""
    scores: dict[str, float] = {}
    by_id: dict[str, Source] = {}
    # The question's own ranking goes first, so that on a tie its reading wins: its noun may
    # well name a new topic.
    for ranking in (alone, contextual):
        for rank, source in enumerate(ranking, start=1):
            by_id.setdefault(source.chunk_id, source)
            scores[source.chunk_id] = scores.get(source.chunk_id, 0.0) + 1 / (RRF_K + rank)
    best = sorted(by_id, key=lambda i: -scores[i])[:k]
    return assign_labels([by_id[i] for i in best])
