"""Byte counts as people read them."""

from __future__ import annotations


def human_bytes(n: int) -> str:
    """`n` bytes as "512 B", "3.4 KiB", "1.2 GiB" (GiB the largest unit)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
