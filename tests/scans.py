"""Scanned pages for OCR tests, made here: text rendered into images (Pillow), turned, skewed and
noised like a scan or a photo, and saved as image files or image-only PDFs."""

from __future__ import annotations

import io
import random
import textwrap
from importlib.resources import files
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: A CJK font from PyPI (the `dev` extra), so the tests need no system fonts.
CJK_FONT = files("cvttf_NotoSansCJK_Regular") / "NotoSansCJKtc-Regular.otf"

# An A4 page at 150 dpi.
WIDTH, HEIGHT = 1240, 1754


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CJK_FONT), size)


def _wrap(text: str, width_chars: int) -> list[str]:
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return [text[i : i + width_chars] for i in range(0, len(text), width_chars)]
    return textwrap.wrap(text, width_chars)


def page(
    paragraphs: list[str],
    *,
    size: int = 30,
    columns: int = 1,
    title: str | None = None,
    width_chars: int | None = None,
) -> Image.Image:
    """A white page with `paragraphs` set in `columns` columns (and a full-width title)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    margin, y0 = 90, 90
    if title:
        draw.text((margin, y0), title, font=font(size + 12), fill="black")
        y0 += int((size + 12) * 2.2)
    gutter = 50
    col_width = (WIDTH - 2 * margin - gutter * (columns - 1)) // columns
    cjk = any("\u4e00" <= ch <= "\u9fff" for p in paragraphs for ch in p)
    per_line = width_chars or int(col_width / (size * (1.0 if cjk else 0.5)))
    x, y, column = margin, y0, 0
    line_step = int(size * 1.5)
    face = font(size)
    for paragraph in paragraphs:
        for line in _wrap(paragraph, per_line):
            if y + line_step > HEIGHT - 90:
                column += 1
                x, y = margin + column * (col_width + gutter), y0
            draw.text((x, y), line, font=face, fill="black")
            y += line_step
        y += line_step // 2
    return image


def vertical_page(text: str, *, size: int = 34, per_column: int = 28) -> Image.Image:
    """Chinese set in vertical columns, read top to bottom, columns right to left."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    face = font(size)
    x = WIDTH - 120
    for start in range(0, len(text), per_column):
        for i, ch in enumerate(text[start : start + per_column]):
            draw.text((x, 100 + i * int(size * 1.4)), ch, font=face, fill="black")
        x -= int(size * 1.9)
    return image


def scanned(
    image: Image.Image, *, angle: float = 0.0, noise: float = 0.0, blur: float = 0.0, seed: int = 1
) -> Image.Image:
    """`image` as a scanner or camera would give it: turned by `angle` degrees, blurred, specked."""
    out = image.rotate(angle, expand=True, fillcolor="white", resample=Image.BICUBIC) if angle else image
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        rng = random.Random(seed)
        out = out.copy()
        pixels = out.load()
        for _ in range(int(out.width * out.height * noise)):
            x, y = rng.randrange(out.width), rng.randrange(out.height)
            pixels[x, y] = (0, 0, 0) if rng.random() < 0.5 else (255, 255, 255)
    return out


def image_pdf(pages: list[Image.Image]) -> bytes:
    """An image-only PDF (no text layer), one page per image, at 150 dpi."""
    out = io.BytesIO()
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(out, format="PDF", save_all=True, append_images=rest, resolution=150)
    return out.getvalue()


def image_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format=fmt, **options)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
