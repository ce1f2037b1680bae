"""From recognised lines to text a person would read: straightened, in reading order, in
paragraphs.

- Skew: the page's angle is the median slant of its long lines; every box is turned back by it.
- Rotation: a page whose lines were mostly turned upside down by the angle classifier is read
  from its far corner; a page whose lines are mostly tall is either vertical CJK text (columns
  right to left, each top to bottom) or a page turned a quarter (the classifier says which way),
  and is turned so that its columns become rows.
- Columns: a region is cut at the widest vertical gap between its narrow lines; lines that
  straddle the gap (a title, a full-width paragraph) split the region into bands read top to
  bottom, so a two-column page reads column by column and a full-width block stays in place.
- Paragraphs: lines are joined unless a gap, an indent, a bullet, a size change or a short
  line ending a sentence starts a new one. English hyphenation at a line end is undone; CJK
  lines are joined without a space.
- Tables: three or more consecutive rows of short cells set apart by wide gaps become a Markdown
  table, its columns where the cells line up (the chunker keeps its rows whole).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import median

import numpy as np

from .engine import TextLine

#: Lines recognised below this confidence are counted as doubtful (reported per page).
LOW_CONFIDENCE = 0.75

_CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_BULLET = re.compile(
    r"^(?:[•·●▪■◆◦‣∙*]|[-–—]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s|[（(][一二三四五六七八九十\d]+[)）]"
    r"|第[一二三四五六七八九十百\d]+[条章节])"
)
_SENTENCE_END = re.compile(r"[.!?:;。！？：；」』”\"')）]$")


@dataclass
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass(frozen=True)
class PageText:
    """A page's recognised text, and how sure the recogniser was of it."""

    text: str
    #: Characters in lines recognised with a confidence below LOW_CONFIDENCE.
    doubtful_chars: int
    chars: int
    #: The page was read as vertical (CJK) text, or turned (0, 90, 180, 270 degrees).
    vertical: bool = False
    rotation: int = 0

    @property
    def doubtful_share(self) -> float:
        return self.doubtful_chars / self.chars if self.chars else 0.0


def arrange(lines: list[TextLine], width: int, height: int) -> PageText:
    """The text of a page from its recognised lines (page pixels `width` x `height`)."""
    lines = [line for line in lines if line.text]
    if not lines:
        return PageText("", 0, 0)
    boxes, vertical, rotation = _upright_boxes(lines, width, height)
    paragraphs = [p for block in _blocks(boxes) for p in _paragraphs(block)]
    text = "\n\n".join(paragraphs)
    chars = sum(len(line.text) for line in lines)
    doubtful = sum(len(line.text) for line in lines if line.score < LOW_CONFIDENCE)
    return PageText(text, doubtful, chars, bool(vertical), int(rotation))


# --- orientation -----------------------------------------------------------------------------
def _upright_boxes(lines: list[TextLine], width: int, height: int) -> tuple[list[_Box], bool, int]:
    """Axis-aligned boxes in a frame where the page reads left to right, top to bottom."""
    edges = [(b[1] - b[0], b[3] - b[0]) for b in (line.box for line in lines)]
    tall = sum(np.linalg.norm(down) > 1.5 * np.linalg.norm(across) for across, down in edges)
    flipped = sum(line.flipped for line in lines)
    vertical = tall > len(lines) / 2
    upside_down = flipped > len(lines) / 2
    points = np.array([line.box for line in lines], dtype=np.float64)  # (n, 4, 2)
    if vertical:
        # Columns become rows: right-to-left columns (vertical CJK, or a page turned clockwise)
        # unless the classifier turned most lines, which means the page was turned the other way.
        x, y = points[..., 0].copy(), points[..., 1].copy()
        if upside_down:
            points[..., 0], points[..., 1] = height - y, x
            rotation = 90
        else:
            points[..., 0], points[..., 1] = y, width - x
            rotation = 270
        width, height = height, width
    elif upside_down:
        points[..., 0], points[..., 1] = width - points[..., 0], height - points[..., 1]
        rotation = 180
    else:
        rotation = 0
    angle = _skew(points)
    if abs(angle) > 0.002:
        cx, cy = width / 2, height / 2
        cos, sin = math.cos(-angle), math.sin(-angle)
        x, y = points[..., 0] - cx, points[..., 1] - cy
        points[..., 0], points[..., 1] = cx + x * cos - y * sin, cy + x * sin + y * cos
    boxes = [
        _Box(p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max(), line.text, line.score)
        for p, line in zip(points, lines, strict=True)
    ]
    return boxes, vertical, rotation


def _skew(points: np.ndarray) -> float:
    """The page's slant in radians: the median angle of the long side of its long boxes."""
    angles = []
    for quad in points:
        # The longest side of the quadrilateral runs along the line, whatever its corner order.
        sides = [quad[(i + 1) % 4] - quad[i] for i in range(4)]
        side = max(sides, key=lambda s: s[0] ** 2 + s[1] ** 2)
        length = math.hypot(side[0], side[1])
        other = min(math.hypot(s[0], s[1]) for s in sides)
        if length < 3 * other or length == 0:
            continue
        if side[0] < 0:
            side = -side
        angles.append(math.atan2(side[1], side[0]))
    return median(angles) if angles else 0.0


# --- reading order ---------------------------------------------------------------------------
def _blocks(boxes: list[_Box]) -> list[list[_Box]]:
    """`boxes` cut into column blocks, in reading order."""
    if len(boxes) < 4:
        return [boxes]
    gap = _column_gap(boxes)
    if gap is None:
        return [boxes]
    columns = _in_columns(boxes, gap)
    if len(columns) == len(boxes):
        left = [b for b in boxes if (b.x0 + b.x1) / 2 < gap]
        right = [b for b in boxes if (b.x0 + b.x1) / 2 >= gap]
        return _blocks(left) + _blocks(right)
    # Bands: runs of column lines, and runs of lines that flow across the page between them.
    bands: list[list[_Box]] = []
    kind = None
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        in_columns = id(box) in columns
        if not bands or in_columns != kind:
            bands.append([])
            kind = in_columns
        bands[-1].append(box)
    if len(bands) == 1:
        return bands
    return [block for band in bands for block in _blocks(band)]


def _in_columns(boxes: list[_Box], gap: float) -> set[int]:
    """Ids of the boxes that belong to the columns either side of `gap`: they do not cross it,
    and a line on the other side lies near them (a short last line of a full-width paragraph
    has no such neighbour, so it stays in the flow)."""
    height = median(b.height for b in boxes)
    left = [b for b in boxes if b.x1 <= gap]
    right = [b for b in boxes if b.x0 >= gap]
    found = set()
    for side, other in ((left, right), (right, left)):
        centres = sorted((o.y0 + o.y1) / 2 for o in other)
        for box in side:
            y = (box.y0 + box.y1) / 2
            if any(abs(c - y) < 3 * height for c in centres):
                found.add(id(box))
    return found


def _column_gap(boxes: list[_Box]) -> float | None:
    """The middle of the widest vertical gap between the region's narrow lines, if it separates
    two columns of text (several long-enough lines on each side), else None. A few lines may
    cross it (a full-width line a little shorter than the rest)."""
    x0 = min(b.x0 for b in boxes)
    x1 = max(b.x1 for b in boxes)
    region = x1 - x0
    line_height = median(b.height for b in boxes)
    narrow = [b for b in boxes if b.width < 0.6 * region]
    if len(narrow) < 4 or region <= 0:
        return None
    bins = 400
    scale = bins / region
    cover = np.zeros(bins, dtype=np.int32)
    for b in narrow:
        start = int((b.x0 - x0) * scale)
        cover[start : max(int((b.x1 - x0) * scale), start + 1)] += 1
    allowed = len(narrow) // 10
    best, start = None, None
    for i in range(bins + 1):
        empty = i < bins and cover[i] <= allowed
        if empty and start is None:
            start = i
        elif not empty and start is not None:
            if start > 0 and i < bins and (best is None or i - start > best[1] - best[0]):
                best = (start, i)
            start = None
    # A gutter is at least about a character wide, but the detector pads each line's box by
    # about a third of its height on either side (more on a turned page), so what is left of a
    # narrow gutter between justified columns can be under half a line's height.
    if best is None or (best[1] - best[0]) / scale < 0.4 * line_height:
        return None
    # The emptiest point of the run, so that as few lines as possible cross the cut.
    low = best[0] + int(np.argmin(cover[best[0] : best[1]]))
    high = low
    while high + 1 < best[1] and cover[high + 1] == cover[low]:
        high += 1
    gap = x0 + (low + high + 1) / 2 / scale
    left = [b for b in narrow if b.x1 <= gap]
    right = [b for b in narrow if b.x0 >= gap]
    if len(left) < 2 or len(right) < 2:
        return None
    # Text columns have long lines; a table's narrow cells are read row by row instead.
    if any(median(b.width for b in side) < 6 * line_height for side in (left, right)):
        return None
    return gap


# --- lines and paragraphs --------------------------------------------------------------------
def _rows(block: list[_Box]) -> list[tuple[_Box, list[_Box]]]:
    """Fragments on one visual line joined into one box, top to bottom, each with its fragments
    left to right."""
    rows: list[list[_Box]] = []
    for box in sorted(block, key=lambda b: (b.y0 + b.y1) / 2):
        if rows:
            last = rows[-1]
            top, bottom = min(b.y0 for b in last), max(b.y1 for b in last)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap > 0.5 * min(bottom - top, box.height):
                last.append(box)
                continue
        rows.append([box])
    merged = []
    for row in rows:
        row.sort(key=lambda b: b.x0)
        text = row[0].text
        for box in row[1:]:
            text = _join(text, box.text, same_line=True)
        box = _Box(
            min(b.x0 for b in row),
            min(b.y0 for b in row),
            max(b.x1 for b in row),
            max(b.y1 for b in row),
            text,
            min(b.score for b in row),
        )
        merged.append((box, row))
    return merged


def _paragraphs(block: list[_Box]) -> list[str]:
    """The block's paragraphs, a grid of short cells over three rows or more as a Markdown table."""
    rows = _rows(block)
    if not rows:
        return []
    height = median(r.height for r, _ in rows)
    out: list[str] = []
    text_rows: list[_Box] = []
    for is_table, run in _runs(rows, height):
        if is_table and (table := _grid(run, height)):
            out.extend(_text(text_rows))
            text_rows = []
            out.append(table)
        else:
            text_rows.extend(r for r, _ in run)
    out.extend(_text(text_rows))
    return out


def _runs(rows: list[tuple[_Box, list[_Box]]], height: float):
    """Consecutive rows split into runs of table-like rows (two or more short cells apart) and
    the others."""
    runs: list[tuple[bool, list]] = []
    for row in rows:
        _, cells = row
        gaps = [b.x0 - a.x1 for a, b in zip(cells, cells[1:], strict=False)]
        cellular = len(cells) >= 2 and min(gaps) > height and max(c.width for c in cells) < 14 * height
        if runs and runs[-1][0] == cellular:
            runs[-1][1].append(row)
        else:
            runs.append((cellular, [row]))
    return [(kind and len(run) >= 3, run) for kind, run in runs]


def _grid(run: list[tuple[_Box, list[_Box]]], height: float) -> str | None:
    """The run as a Markdown table, its columns where the cells of every row line up."""
    spans: list[list[float]] = []
    for x0, x1 in sorted((c.x0, c.x1) for _, cells in run for c in cells):
        if spans and x0 <= spans[-1][1] + 0.5 * height:
            spans[-1][1] = max(spans[-1][1], x1)
        else:
            spans.append([x0, x1])
    if len(spans) < 2:
        return None
    lines = []
    for _, cells in run:
        row = [""] * len(spans)
        for cell in cells:
            i = next(i for i, (a, b) in enumerate(spans) if a <= (cell.x0 + cell.x1) / 2 <= b)
            row[i] = _join(row[i], cell.text, same_line=True) if row[i] else cell.text
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    lines.insert(1, "|" + "---|" * len(spans))
    return "\n".join(lines)


def _text(rows: list[_Box]) -> list[str]:
    if not rows:
        return []
    height = median(r.height for r in rows)
    steps = [b.y0 - a.y0 for a, b in zip(rows, rows[1:], strict=False)]
    step = median(steps) if steps else height
    left = min(r.x0 for r in rows)
    right = max(r.x1 for r in rows)
    paragraphs: list[str] = []
    text = ""
    previous: _Box | None = None
    for row in rows:
        if previous is not None and _breaks(previous, row, height, step, left, right):
            paragraphs.append(text)
            text = ""
        text = _join(text, row.text) if text else row.text
        previous = row
    paragraphs.append(text)
    return [p for p in paragraphs if p.strip()]


def _breaks(prev: _Box, row: _Box, height: float, step: float, left: float, right: float) -> bool:
    """Whether `row` starts a new paragraph after `prev`."""
    if row.y0 - prev.y0 > max(1.4 * step, 1.8 * height):
        return True  # a blank line
    if abs(row.height - prev.height) > 0.35 * max(row.height, prev.height):
        return True  # a heading, or body text after one
    if _BULLET.match(row.text):
        return True
    indent = row.x0 - left
    hanging = _BULLET.match(prev.text)  # a bullet's next lines are indented under its text
    if indent > 0.8 * height and prev.x0 - left < 0.4 * height and not hanging:
        return True  # a first-line indent
    short = right - prev.x1 > 4 * height
    return short and bool(_SENTENCE_END.search(prev.text))


def _is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def _join(a: str, b: str, *, same_line: bool = False) -> str:
    """Two consecutive pieces of text as one: no space between CJK, English hyphenation undone."""
    a, b = a.rstrip(), b.lstrip()
    if not a or not b:
        return a + b
    if _is_cjk(a[-1]) or _is_cjk(b[0]):
        return a + b
    if not same_line and a[-1] in "-\u00ad" and len(a) > 1 and a[-2].isalpha() and b[0].islower():
        return a[:-1] + b  # "func-" + "tion"
    if a[-1] in "—–/" or b[0] in "—–":
        return a + b
    return f"{a} {b}"
