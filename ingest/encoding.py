"""Decode text files in any common encoding: UTF-8 (with or without BOM), UTF-16/32, GB18030
(and so GBK/GB2312), Big5, and the single-byte encodings charset-normalizer knows.

charset-normalizer alone misreads short Chinese notes (a 47-byte Big5 file has too little
statistics), so Chinese candidates are tried strictly first and told apart by how common the
characters they produce are; charset-normalizer handles the rest.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from vectorstore.text import CJK_RE


class NotTextError(ValueError):
    """The bytes are not text in any encoding we know (a binary file)."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    #: Set when some bytes could not be decoded and were replaced (U+FFFD).
    replaced: int = 0


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# The 500 most frequent Chinese characters, simplified and traditional forms (Jun Da's list).
# Text decoded with the right codec is dense in these; the wrong codec gives rare characters.
_COMMON_HANZI = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改"
    "收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列"
    "們這個來國說時會對發後裡動麼學現當沒開從實軍無與長機兩間問紀過經種還進樣點麼體關雖見產將處變應結義"
    "總電數員報齊間麼東聲業親讓識帶門詩詞書錢類樂歲舊詩風聞雲華龍語認氣寫從實驗車馬鳥魚為當這"
)


def _hanzi_score(text: str) -> float:
    han = CJK_RE.findall(text)
    if not han:
        return 0.0
    return sum(ch in _COMMON_HANZI for ch in han) / len(han)


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(b < 32 and b not in (9, 10, 12, 13, 27) for b in sample)
    return controls > len(sample) * 0.02


def _utf16_without_bom(data: bytes) -> str | None:
    # Many NULs in alternating positions: UTF-16 text without a BOM.
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    for ratio_nul, codec in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if ratio_nul > 0.3:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    return None


def _cjk_utf16(data: bytes) -> str | None:
    # All-CJK UTF-16 without a BOM has no NUL bytes to spot; it decodes to common hanzi, and
    # random or GBK bytes decoded as UTF-16 do not.
    if len(data) < 4 or len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _hanzi_score(text) >= 0.5 and len(CJK_RE.findall(text)) >= len(text) / 2:
            return text
    return None


def decode_text(data: bytes) -> Decoded:
    """Decode `data`; raise NotTextError for binary content."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec.replace("-sig", " (BOM)"))
            except UnicodeDecodeError:
                break
    # Before UTF-8: ASCII in UTF-16 is NUL-interleaved bytes that are also valid UTF-8.
    if (text := _utf16_without_bom(data)) is not None:
        return Decoded(text, "utf-16")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if (text := _cjk_utf16(data)) is not None:
        return Decoded(text, "utf-16")
    if _looks_binary(data):
        raise NotTextError("binary content (not text in any known encoding)")

    # Chinese candidates, decoded strictly, best by how common their characters are.
    candidates = []
    for codec in ("gb18030", "big5"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        candidates.append((_hanzi_score(text), codec, text))

    # Mostly valid UTF-8 with a few broken bytes: keep it as UTF-8 and say what was replaced.
    loose = data.decode("utf-8", errors="replace")
    bad = loose.count("\ufffd")
    if bad and _utf8_multibyte_count(data) >= 2 * bad:
        return Decoded(loose, "utf-8", replaced=bad)

    if candidates:
        score, codec, text = max(candidates)
        if score >= 0.3:
            return Decoded(text, codec)

    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise NotTextError("binary content (not text in any known encoding)")
    return Decoded(str(best), best.encoding)


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _utf8_multibyte_count(data: bytes) -> int:
    # Well-formed multi-byte UTF-8 sequences far outnumbering the broken bytes mean the file was
    # written as UTF-8 and damaged; in GBK or Big5 text such sequences are rare accidents.
    return len(_UTF8_MULTIBYTE.findall(data))
