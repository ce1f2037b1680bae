"""jieba's dictionary as a lookup table (vectorstore.lookup_table), read a text's words at a time.

Segmenting a text consults jieba's dictionary only for the text's own substrings (the DAG of
words, the HMM's check of unknown runs, search mode's 2- and 3-grams), so a tokenizer given just
those entries, and the total count that turns frequencies into probabilities, segments the text
exactly as the whole dictionary does, without loading its 500,000 entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .lookup_table import Contents, LookupTable, substrings


class WordTable:
    """The table of the installed jieba's dictionary in `folder` (written on first use)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._table: LookupTable | None = None

    @property
    def path(self) -> Path:
        """Named for jieba's version and its dictionary's size: a new jieba writes a new table."""
        import jieba

        try:
            size = (Path(jieba.__file__).parent / "dict.txt").stat().st_size
        except OSError:
            size = 0
        return self.folder / f"jieba-words-{jieba.__version__}-{size}.sqlite"

    def tokenizer(self, text: str) -> Any:
        """A jieba Tokenizer that knows the dictionary's entries for the substrings of `text`."""
        import jieba

        if self._table is None:
            self._table = LookupTable(self.path, ("freq",), _contents)
        meta = self._table.meta()
        found = self._table.find(substrings(text, int(meta["longest"])))
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = {word: values[0] for word, values in found.items()}
        tokenizer.total, tokenizer.initialized = float(meta["total"]), True
        return tokenizer


def _contents() -> Contents:
    import jieba

    jieba.dt.check_initialized()  # the whole dictionary, loaded once to write the table
    freq = jieba.dt.FREQ
    return freq.items(), {"total": jieba.dt.total, "longest": max(map(len, freq), default=1)}
