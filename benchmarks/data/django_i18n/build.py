"""Build pairs.json: English-Chinese parallel sentences from Django's message catalogues (see
README.md beside this file).

Django's wheel ships its user-interface messages translated by people (Transifex teams) into
simplified (`zh_Hans`) and traditional (`zh_Hant`) Chinese. Every message with at least four
English words, one translation in each script and no fuzzy flag gives one pair. Deterministic
for a given wheel:

    pip download --no-deps django==5.2.19 -d /tmp/django
    python benchmarks/data/django_i18n/build.py /tmp/django/django-5.2.19-py3-none-any.whl
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).with_name("pairs.json")
_ENTRY = re.compile(r'^(msgid|msgstr) "(.*)"$|^"(.*)"$')


def catalogue(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file's singular, non-fuzzy, translated entries."""
    out: dict[str, str] = {}
    for block in text.split("\n\n"):
        if "#, fuzzy" in block or "msgid_plural" in block or "msgctxt" in block:
            continue
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            m = _ENTRY.match(line)
            if m and m.group(1):
                current = m.group(1)
                fields[current] = m.group(2)
            elif m and current:
                fields[current] += m.group(3)
        if fields.get("msgid") and fields.get("msgstr"):
            out[_unescape(fields["msgid"])] = _unescape(fields["msgstr"])
    return out


_PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdr]|%[sdr]|\{[a-z_0-9]*\}")


def _unescape(s: str) -> str:
    """The message as a reader sees it: escapes undone, placeholders (%(name)s, {obj}) dropped."""
    s = s.replace('\\"', '"').replace("\\n", " ").replace("\\\\", "\\")
    return " ".join(_PLACEHOLDER.sub("", s).split())


def main(wheel: str) -> None:
    simplified: dict[str, str] = {}
    traditional: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            if name.endswith("/zh_Hans/LC_MESSAGES/django.po"):
                simplified.update(catalogue(z.read(name).decode("utf-8")))
            elif name.endswith("/zh_Hant/LC_MESSAGES/django.po"):
                traditional.update(catalogue(z.read(name).decode("utf-8")))
    pairs = []
    seen: set[str] = set()
    for english in sorted(simplified):
        words = re.findall(r"[A-Za-z]+", english)
        zh, zh_hant = simplified[english], traditional.get(english)
        if len(words) < 4 or not zh_hant or zh in seen or english.lower() in seen:
            continue
        seen.update((zh, english.lower()))
        pairs.append({"en": english, "zh_Hans": zh, "zh_Hant": zh_hant})
    source = {"package": Path(wheel).name, "licence": "BSD-3-Clause (Django)"}
    OUT.write_text(json.dumps({"source": source, "pairs": pairs}, ensure_ascii=False, indent=0) + "\n")
    print(f"{len(pairs)} pairs -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
