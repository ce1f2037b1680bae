"""A bench report folder: results (JSON), a Markdown summary, and a quality-against-speed chart
(SVG), plus comparing two reports."""

from __future__ import annotations

import html
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .runner import Record, load_records, summarize


def new_report_folder(home: Path) -> Path:
    """Where a run's report goes unless told: `HOME/bench/` and the time it started."""
    return home / "bench" / time.strftime("%Y%m%d-%H%M%S")


def write_report(out: Path, records: list[Record] | None = None) -> dict[str, Any]:
    records = records if records is not None else load_records(out)
    summary = summarize(records)
    (out / "results.json").write_text(
        json.dumps(
            {"summary": summary, "records": [asdict(r) for r in records]}, ensure_ascii=False, indent=2
        ),
        encoding="utf-8",
    )
    (out / "summary.md").write_text(markdown(summary), encoding="utf-8")
    (out / "chart.svg").write_text(chart(summary), encoding="utf-8")
    return summary


def _fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "–" if value is None else pattern.format(value)


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "# Bench report",
        "",
        "| model | quality | pass rate | tokens/s | peak memory |",
        "|---|---|---|---|---|",
    ]
    for model, s in summary.items():
        memory = f"{s['peak_memory_bytes'] / 2**30:.1f} GiB" if s["peak_memory_bytes"] else "–"
        speed = _fmt(s["tokens_per_second"])
        lines.append(f"| {model} | {s['quality']:.2f} | {s['pass_rate']:.0%} | {speed} | {memory} |")
    for model, s in summary.items():
        lines += [
            "",
            f"## {model}",
            "",
            "| task | pass rate | score | stability | first token s | thinking s | tokens/s | detail |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for task, t in s["tasks"].items():
            note = t["detail"] + (f" (unverified: {'; '.join(t['unverified'])})" if t["unverified"] else "")
            lines.append(
                f"| {task} | {t['pass_rate']:.0%} | {t['score']:.2f} | {t['stability']:.2f} | "
                f"{_fmt(t['time_to_first_token'])} | {_fmt(t['reasoning_seconds'])} | "
                f"{_fmt(t['tokens_per_second'])} | {note.replace('|', '/')} |"
            )
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, Any], width: int = 640, height: int = 420) -> str:
    """Quality (mean score) against generation speed, one labelled point per model."""
    pad = 60
    points = [(m, s["tokens_per_second"] or 0.0, s["quality"]) for m, s in summary.items()]
    top_speed = max([p[1] for p in points] + [1.0]) * 1.15

    def xy(speed: float, quality: float) -> tuple[float, float]:
        return pad + speed / top_speed * (width - 2 * pad), height - pad - quality * (height - 2 * pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 20}" text-anchor="middle">answer tokens per second</text>',
        f'<text x="18" y="{height / 2}" transform="rotate(-90 18 {height / 2})" '
        'text-anchor="middle">quality (mean score)</text>',
    ]
    for q in (0, 0.25, 0.5, 0.75, 1.0):
        _, y = xy(0, q)
        parts.append(f'<text x="{pad - 8}" y="{y + 4}" text-anchor="end">{q:.2f}</text>')
        parts.append(f'<line x1="{pad}" y1="{y}" x2="{width - pad}" y2="{y}" stroke="#ddd"/>')
    for i in range(5):
        speed = top_speed * i / 4
        x, _ = xy(speed, 0)
        parts.append(f'<text x="{x}" y="{height - pad + 16}" text-anchor="middle">{speed:.0f}</text>')
    for model, speed, quality in points:
        x, y = xy(speed, quality)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#3b6fd8"/>')
        parts.append(f'<text x="{x + 9:.1f}" y="{y - 8:.1f}">{html.escape(model)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def compare(new: Path, old: Path) -> str:
    """A Markdown table of quality and speed per model: this report against an earlier one."""
    a, b = summarize(load_records(new)), summarize(load_records(old))
    lines = [
        f"# {new.name} against {old.name}",
        "",
        "| model | quality | Δ | tokens/s | Δ |",
        "|---|---|---|---|---|",
    ]
    for model in sorted(set(a) | set(b)):
        qa, qb = (a.get(model) or {}).get("quality"), (b.get(model) or {}).get("quality")
        sa, sb = (a.get(model) or {}).get("tokens_per_second"), (b.get(model) or {}).get("tokens_per_second")
        dq = f"{qa - qb:+.2f}" if qa is not None and qb is not None else "–"
        ds = f"{sa - sb:+.1f}" if sa and sb else "–"
        lines.append(f"| {model} | {_fmt(qa, '{:.2f}')} | {dq} | {_fmt(sa)} | {ds} |")
    return "\n".join(lines) + "\n"
