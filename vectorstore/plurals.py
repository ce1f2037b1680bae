"""Counts as people write them: "1 file", "2 files", "1 entry", "0 entries".

Every layer prints counts (the CLI, the chat app, ingest's and the shared base's messages), so
this lives in the lowest one.
"""

from __future__ import annotations

_VOWELS = frozenset("aeiou")


def plural(word: str) -> str:
    """The English plural of a (regular) noun or noun phrase: its last word takes the ending."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def counted(n: int, word: str, many: str | None = None) -> str:
    """`n` and `word`, in the plural unless `n` is 1: counted(1, "file") is "1 file",
    counted(1200, "chunk") is "1,200 chunks". `many` gives an irregular plural."""
    return f"{n:,} {word if n == 1 else many or plural(word)}"
