"""Where a shared base's sources are on this machine: the folder ingested here as each source
(`SOURCE/path` in a base on a Chroma server), kept in HOME/mounts.json, so that the chat app can
open a source's file."""

from __future__ import annotations

import json
from pathlib import Path


class Mounts:
    def __init__(self, home: Path, chroma_url: str | None) -> None:
        self.file = home / "mounts.json"
        self.chroma_url = chroma_url

    def remember(self, path: Path, source: str | None) -> None:
        """For a shared base: which folder here holds the files known as `SOURCE/...`."""
        if not self.chroma_url:
            return
        from ingest.sync import file_keys

        folder = path.parent if path.is_file() else path
        _, label = file_keys(folder, shared=True, source=source)
        mounts = self._read()
        mounts[f"{self.chroma_url} {label}"] = str(folder.resolve())
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self.file.write_text(json.dumps(mounts, ensure_ascii=False, indent=1), encoding="utf-8")
        except OSError:
            pass  # opening sources from this machine is a convenience: the ingest itself succeeded

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def local_copy(self, uri: str) -> Path | None:
        """The file on this machine behind a knowledge-base source's `uri`: an absolute path that
        exists (a base on this machine), or for a shared base's `SOURCE/path` the same file in the
        folder ingested here as SOURCE. None where this machine has no copy."""
        if not uri:
            return None
        candidate: Path | None = None
        if Path(uri).is_absolute():
            candidate = Path(uri)
        elif self.chroma_url and "/" in uri:
            label, rest = uri.split("/", 1)
            folder = self._read().get(f"{self.chroma_url} {label}")
            if folder and ".." not in Path(rest).parts:
                candidate = Path(folder) / rest
        if candidate is None or not candidate.is_file():
            return None
        return candidate
