"""Recognising text that tries to give the model orders ("prompt injection").

Source text is always quoted as data in the prompt; a flag only marks it, for the model (a
warning in the source's header) and for the user (shown next to the source). The patterns cover
a class of phrasings, not a list of sentences: a verb of dismissal, then within a few words
something that points at earlier or other instructions; role changes ("you are now"); talk of
the system prompt. English and Chinese, simplified and traditional; the text is normalised first
(width, case, invisible characters, spacing), so "ＩＧＮＯＲＥ" or "Ig\u200bnore" still match.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def _any(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


_EN_DISMISS = _any(
    "ignore", "disregard", "forget", "override", "overrule", "skip", "bypass", "drop", "abandon",
    "discard", "neglect", "stop following", "do not follow", "don'?t follow",
)  # fmt: skip
_EN_EARLIER = _any(
    "previous", "prior", "preceding", "above", "earlier", "foregoing", "former", "original",
    "initial", "old", "system", "existing", "everything", "anything", "all",
)  # fmt: skip
_EN_ORDERS = _any(
    "instructions?", "prompts?", "directions?", "directives?", "rules?", "guidelines?", "commands?",
    "orders?", "context", "messages?", "constraints?", "restrictions?",
)  # fmt: skip
_ZH_DISMISS = _any(
    "忽略", "忽视", "忽視", "无视", "無視", "漠视", "漠視", "不要理会", "不要理會", "别理会", "別理會",
    "不用理会", "不用理會", "忘记", "忘記", "忘掉", "抛开", "拋開", "不要遵守", "不要遵循", "不要听从",
    "不要聽從", "停止遵守", "绕过", "繞過",
)  # fmt: skip
_ZH_ORDERS = _any(
    "指令", "指示", "提示词", "提示詞", "提示", "命令", "规则", "規則", "要求", "设定", "設定", "说明",
    "說明", "约束", "約束", "限制", "内容", "內容", "对话", "對話",
)  # fmt: skip
_ZH_EARLIER = _any(
    "上面", "上述", "以上", "之前", "先前", "前面", "此前", "前述", "原来", "原來", "原先", "一切", "所有",
    "全部", "系统", "系統",
)  # fmt: skip

INJECTION = re.compile(
    "|".join(
        [
            # "Ignore (all of) the previous instructions", "disregard everything above".
            rf"\b{_EN_DISMISS}\b(?:\W+\w+){{0,4}}?\W+{_EN_EARLIER}\b(?:\W+\w+){{0,3}}?\W*(?:{_EN_ORDERS}|above|before)\b",
            rf"\b{_EN_DISMISS}\s+(?:all|everything|anything)\s+(?:above|before|said|else)\b",
            rf"\b{_EN_DISMISS}\s+(?:your|the|my)\s+{_EN_ORDERS}\b",
            r"\byou are now\b|\bfrom now on,? you\b|\byou (?:must|will) now act\b",
            r"\bact as (?:an?|the) \w+ (?:without|with no)\b",
            r"\bpretend (?:to be|you are)\b|\broleplay as\b|\bdan mode\b",
            r"\bsystem prompt\b|\bnew instructions?\s*:|\bupdated instructions?\s*:",
            r"\breveal (?:your|the) (?:prompt|instructions|system)\b",
            r"\bdo not (?:tell|inform) the user\b",
            # Chinese: 忽略上面的指令, 忽略之前的所有指示, 無視以上規則, 请忘记前面的设定.
            rf"{_ZH_DISMISS}.{{0,8}}?{_ZH_EARLIER}.{{0,8}}?{_ZH_ORDERS}",
            rf"{_ZH_DISMISS}(?:你的|你)?{_ZH_ORDERS}",
            r"你现在是|你現在是|从现在开始你|從現在開始你|从现在起你|從現在起你|你的新身份",
            r"系统提示词|系統提示詞|系统指令|系統指令|新的指令[:：]|新指令[:：]|新的任务[:：]|新的任務[:：]",
            r"(?:泄露|洩露|透露|显示|顯示|输出|輸出).{0,4}(?:你的|系统|系統)(?:提示|指令|设定|設定)",
            r"不要告诉用户|不要告訴用戶|不要告訴使用者",
        ]
    ),
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    """Drop invisible characters that can hide instructions from a human reader."""
    return _INVISIBLE.sub("", text)


def normalise(text: str) -> str:
    """The text as the patterns see it: NFKC (full-width letters), no invisibles, one space."""
    text = unicodedata.normalize("NFKC", clean_text(text)).casefold()
    text = text.replace("\u2019", "'")
    return re.sub(r"\s+", " ", text)


def looks_like_injection(text: str) -> bool:
    """True when `text` contains a phrase that tries to instruct the model."""
    return INJECTION.search(normalise(text)) is not None
