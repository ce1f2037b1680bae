"""JSON and CSV/TSV: records rendered as readable `key: value` text, one section per record.

Keeping each record (a poem, a row, an object) in its own section stops a chunk from mixing the
end of one record with the start of the next.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from .base import ParsedDocument, UnreadableFileError
from .text import decode_or_fail

_TITLE_KEYS = ("title", "name", "标题", "名称", "题目")


def _render(value: Any, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, str) and _OPAQUE_ID.match(item.strip().lower()):
                continue  # UUIDs and hashes only add noise to search
            if isinstance(item, (dict, list)) and item and not _is_flat_list(item):
                lines.append(f"{pad}{key}:")
                lines.append(_render(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if _is_flat_list(value):
            return pad + _scalar(value)
        return "\n".join(_render(v, indent) for v in value)
    return pad + _scalar(value)


def _is_flat_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value)


_SENTENCE_END = re.compile(r"[。！？；.!?;]$")
_OPAQUE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[0-9a-f]{24,}$")


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        # Lines of a poem or paragraphs stay lines; short tags become a comma list.
        as_lines = any(isinstance(v, str) and (len(v) > 40 or _SENTENCE_END.search(v)) for v in value)
        return ("\n" if as_lines else ", ").join(_scalar(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _record_heading(record: Any, index: int) -> str:
    if isinstance(record, dict):
        for key in _TITLE_KEYS:
            if isinstance(record.get(key), str) and record[key].strip():
                return record[key].strip()
    return f"[{index}]"


def parse_json(path: Path, data: bytes) -> ParsedDocument:
    text, warnings = decode_or_fail(data)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        # JSON Lines is common for data dumps.
        try:
            value = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise UnreadableFileError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    doc = ParsedDocument(title=path.stem, warnings=warnings)
    records = value if isinstance(value, list) else [value]
    if (
        isinstance(value, dict)
        and len(value) > 1
        and all(isinstance(v, (dict, list)) for v in value.values())
    ):
        records = [{k: v} for k, v in value.items()]
    for index, record in enumerate(records):
        doc.add(_render(record), heading=_record_heading(record, index))
    if not doc.text.strip():
        raise UnreadableFileError("the JSON holds no text")
    return doc


def parse_csv(path: Path, data: bytes) -> ParsedDocument:
    text, warnings = decode_or_fail(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    doc = ParsedDocument(title=path.stem, warnings=warnings)
    if not rows:
        raise UnreadableFileError("the table is empty")
    header = [h.strip() for h in rows[0]]
    for number, row in enumerate(rows[1:], start=2):
        cells = [f"{h}: {v.strip()}" for h, v in zip(header, row, strict=False) if v.strip()]
        if cells:
            doc.add("; ".join(cells), heading=f"row {number}")
    if not doc.sections:
        doc.add("\n".join(", ".join(r) for r in rows))
    return doc
