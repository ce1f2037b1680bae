"""Text normalisation and word segmentation for lexical search, Chinese first.

SQLite's FTS5 tokenizers split on spaces and punctuation, which leaves a Chinese sentence as one
giant "word". We segment with jieba (search mode, which also emits the sub-words of long words)
and fold traditional characters to simplified with OpenCC, on both the indexed text and the
query, so 登高 finds 登高 written either way. English is lower-cased; FTS5's porter tokenizer
stems it.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import unicodedata
from typing import Any

_lock = threading.Lock()
_converter = None
_word_table: Any = None
_table_uses = 0
#: Texts up to this long (queries), and only so many of them per process, are segmented from the
#: word table when there is a cache folder and jieba's own dictionary is not loaded: a reader of
#: many texts (an ingest, a long chat) is quicker with the whole dictionary loaded once.
WORD_TABLE_TEXT = 1000
WORD_TABLE_TEXTS = 64

# Characters of the CJK scripts (Han, kana, hangul) and their punctuation.
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_TOKEN_RE = re.compile(r"\w", re.UNICODE)

# Words too common to help ranking; dropping them keeps OR queries small and fast.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 有 也 就 都 而 被 把 对 从 于 之 其 这 那 个 为 以 等 中 上 下
    吗 呢 吧 啊 什么 哪些 哪个 怎么 怎样 如何 为什么 多少 几 请 问 是否 一个
    a an and are as at be by for from has have how in is it its of on or that the this to was
    were what when where which who why will with do does did""".split()
)


def _t2s(text: str) -> str:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                from opencc_purepy import OpenCC

                _converter = OpenCC("t2s")
    return _converter.convert(text)


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, traditional to simplified."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _t2s(text) if CJK_RE.search(text) else text


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _table() -> Any:
    """The table of jieba's dictionary (vectorstore.word_table) in the cache folder, if any."""
    global _word_table
    from .lookup_table import cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    if _word_table is None or _word_table.folder != folder:
        from .word_table import WordTable

        _word_table = WordTable(folder)
    return _word_table


def _cut_for_search(text: str) -> list[str]:
    """jieba's search-mode words; a query's from the table of its dictionary when there is a
    cache folder (vectorstore.lookup_table) and the dictionary is not loaded: the same words."""
    jieba = _jieba()
    if _table_serves(len(text), jieba) and (table := _table()) is not None:
        try:
            return list(table.tokenizer(text).cut_for_search(text))
        except (OSError, sqlite3.Error):  # an unwritable cache folder, a damaged table: jieba's own
            pass
    return list(jieba.cut_for_search(text))


def _table_serves(length: int, jieba: Any) -> bool:
    global _table_uses
    if length > WORD_TABLE_TEXT or jieba.dt.initialized or _table_uses >= WORD_TABLE_TEXTS:
        return False
    _table_uses += 1
    return True


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def _bigrams(text: str) -> list[str]:
    return [run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]


def segment(text: str) -> list[str]:
    """Normalised search tokens of `text`: jieba words (with the sub-words of long ones) plus
    overlapping CJK character bigrams.

    jieba alone segments the same phrase differently in different contexts (风急天高 alone is
    风急/天高, inside a poem line 风急天/高), and then a query cannot match its own source text.
    Bigrams, as in Lucene's CJK analyzer, always match; the words keep ranking precise.
    """
    text = normalise(text)
    words = [t for t in (w.strip() for w in _cut_for_search(text)) if t and _TOKEN_RE.search(t)]
    return words + _bigrams(text)


def query_terms(text: str) -> list[str]:
    """Distinct tokens of a query, stopwords dropped (kept if nothing else is left)."""
    tokens = list(dict.fromkeys(segment(text)))
    kept = [t for t in tokens if t not in STOPWORDS]
    return kept or tokens


def query_words(text: str) -> list[str]:
    """Distinct normalised words of a query (jieba search mode: long words and their sub-words),
    without the CJK bigrams, stopwords dropped (kept if nothing else is left)."""
    text = normalise(text)
    words = [t for t in (w.strip() for w in _cut_for_search(text)) if t and _TOKEN_RE.search(t)]
    words = list(dict.fromkeys(words))
    kept = [w for w in words if w not in STOPWORDS]
    return kept or words
