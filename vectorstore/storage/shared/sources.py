"""Which folders a shared base's sources came from, so a sync never deletes another folder's files.

In a shared base a file is known as `SOURCE/path`, SOURCE being the ingested folder's name (or
`--source`). Two machines can hold different folders of the same name (`docs`); each one's sync
would then remove the other's files as "deleted from the folder". So the record keeps, for each
source, the folders it was ingested from (which machine, which path, by whom), and a sync of a
folder that is not one of them goes ahead only when the user confirms that it is the same folder
(a question at a terminal, or `--source` naming the source explicitly in scripts).

A machine is an assistant home folder: its id is made once, in `HOME/servers/machine-id`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ...errors import KnowledgeBaseError, SourceInUseError
from ...lexical import LexicalIndex
from ...plurals import counted
from ..protocol import Confirm
from .entries import shown
from .lease import holder_name
from .record import Record

#: Folders remembered per source (the oldest are forgotten first).
_MAX_ORIGINS = 20
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Origin:
    """A folder a source was ingested from."""

    machine: str
    who: str
    folder: str
    at: float

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.at).strftime("%Y-%m-%d") if 0 < self.at < 1e11 else "?"
        return f"{shown(self.folder)} on {shown(self.who, 80)} ({when})"


def machine_id(home: Path) -> str:
    """This home folder's id, made on first use."""
    path = home / "servers" / "machine-id"
    try:
        found = path.read_text(encoding="ascii").strip()
        if _ID.match(found):
            return found
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    made = uuid.uuid4().hex
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(made + "\n")
    return made


def check_label(label: str) -> str:
    """A source name that makes keys inside the base (never `..`, never an absolute path)."""
    parts = label.split("/")
    if not label or label.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\x00" in label:
        raise KnowledgeBaseError(
            f"'{shown(label)}' cannot name a source: use a folder name such as team-docs (--source)"
        )
    return label


def _entry_id(label: str) -> str:
    return "s:" + hashlib.sha256(label.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def read_origins(meta: dict[str, Any] | None) -> list[Origin] | None:
    """The folders a source entry lists (None: the entry is missing or malformed)."""
    if not meta or meta.get("type") != "source" or not isinstance(meta.get("origins"), str):
        return None
    try:
        raw = json.loads(meta["origins"]) if len(meta["origins"]) < 100_000 else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(raw, list):
        return None
    origins = []
    for item in raw[-_MAX_ORIGINS:]:
        if not isinstance(item, dict):
            return None
        machine, who, folder, at = (item.get(k) for k in ("machine", "who", "folder", "at"))
        if not all(isinstance(v, str) and len(v) <= 4096 for v in (machine, who, folder)):
            return None
        origins.append(Origin(machine, who, folder, float(at) if type(at) in (int, float) else 0.0))
    return origins


def claim(
    record: Record,
    index: LexicalIndex,
    home: Path,
    label: str,
    folder: Path,
    *,
    confirmed: bool,
    confirm: Confirm | None,
) -> None:
    """Before a sync of `folder` as source `label` (the caller holds the lease): go ahead if the
    source is new or was ingested from this very folder; else only on the user's word, and then
    remember this folder as one of the source's. Raises SourceInUseError otherwise."""
    check_label(label)
    me = Origin(machine_id(home), holder_name().split(" (pid")[0], str(folder), time.time())
    entry_id = _entry_id(label)
    origins = read_origins(record.get_entry(entry_id))
    if origins and any(o.machine == me.machine and o.folder == me.folder for o in origins):
        return
    files = len(index.files(under=label))
    if files and not confirmed:
        question = _question(record.name, label, files, origins, folder)
        if confirm is None or not confirm(question):
            raise SourceInUseError(_refusal(record.name, label, origins, folder))
    kept = [asdict(o) for o in (origins or [])][-(_MAX_ORIGINS - 1) :]
    meta = {"type": "source", "name": label, "origins": json.dumps([*kept, asdict(me)]), "seq": 0}
    record.put_entry(entry_id, meta)


def _from(origins: list[Origin] | None) -> str:
    if not origins:
        return "a folder this version cannot name (added before sources were recorded)"
    return "; ".join(o.describe() for o in origins[-3:])


def _question(name: str, label: str, files: int, origins: list[Origin] | None, folder: Path) -> str:
    return (
        f"'{shown(label)}' in the shared knowledge base '{name}' holds {counted(files, 'file')} from "
        f"{_from(origins)}. Is {shown(folder)} that same folder? If so, this sync removes from the "
        "base, for every machine, the files that are not in it"
    )


def _refusal(name: str, label: str, origins: list[Origin] | None, folder: Path) -> str:
    return (
        f"'{shown(label)}' in the shared knowledge base '{name}' holds files from {_from(origins)}; "
        f"nothing was changed. If {shown(folder)} is that same folder, run the ingest again with "
        f"--source {shown(label)} (or answer yes at a terminal); if it is another folder, give it "
        "its own name with --source NAME"
    )
