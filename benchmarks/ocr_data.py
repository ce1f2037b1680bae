"""Pages for the OCR benchmark (benchmarks/ocr.py): the scanned samples in ../shared/data/scanned
with their references, Chinese pages rendered from real text (../shared/data/docs/zh) with a CJK
font from PyPI, skewed, blurred and specked, and photograph-like variants of ch_en_num.jpg."""

from __future__ import annotations

import random
import re
import unicodedata
from importlib.resources import files

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from .common import SHARED_DATA

SCANNED = SHARED_DATA / "scanned"
ZH = SHARED_DATA / "docs" / "zh"
FONT = files("cvttf_NotoSansCJK_Regular") / "NotoSansCJKtc-Regular.otf"
WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi

#: Where linn.txt (an earlier OCR's output) is plainly wrong, and what the page shows instead.
#: Bullets it read as "0" are not listed: normalisation drops bullets on both sides.
LINN_CORRECTIONS = [
    ("state—of—the-art", "state-of-the-art"),
    ("synthesizers !", "synthesizers!"),
    ("3 1/2 ”", '3½"'),
    ("real—time", "real-time"),
    ("adjusted 0r defeated", "adjusted or defeated"),
    ("the ﬁrst‘track", "the first track"),
    ("sequence-—", "sequence—"),
    ("INSERT/ COPY", "INSERT/COPY"),
    ("FOOTSWIT CH", "FOOTSWITCH"),
    ("PLAY/ STOP", "PLAY/STOP"),
    ("high—speed", "high-speed"),
    ("BEATS-PER—MINUTE", "BEATS-PER-MINUTE"),
    ("FRAMES-PER—BEAT", "FRAMES-PER-BEAT"),
    ("\nEDI]\n", "\nLinn\n"),  # the logo
    ("func-\ntion", "function"),  # a line-end hyphen, joined as the ingest joins it
]

#: ch_en_num.jpg as printed (transcribed by eye), for an order-free character error rate.
CH_EN_NUM = (
    "正品促销 大桶装 更划算 强力去污 符合国标 -40℃深度防冻不结冰 日常价 10.0起 直击底价 "
    "日常价 10.0起 券后价 ¥ 5.8 起 惊喜福利 不容错过 极速发货 冰点标准 破损就赔 假一赔十"
)


def normalise(text: str, *, cjk: bool = False) -> str:
    """Both sides of a comparison alike: NFKC, one kind of quote and dash, no bullets, single
    spaces (none at all for Chinese, where the engines differ in spacing)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[‘’`´]", "'", text)
    text = re.sub(r"[“”]", '"', text)
    text = re.sub(r"[‐‑‒–]", "-", text)
    text = re.sub(r"(?m)^\s*(?:[•·●▪]|0(?= ))\s*", "", text)
    text = re.sub(r"\s*[•·●▪]\s*", " ", text)
    return re.sub(r"\s+", "" if cjk else " ", text).strip()


def linn_reference() -> str:
    text = (SCANNED / "linn.txt").read_text(encoding="utf-8")
    for wrong, right in LINN_CORRECTIONS:
        assert wrong in text, wrong
        text = text.replace(wrong, right)
    return text


def _zh_paragraphs() -> list[str]:
    out = []
    for path in sorted(ZH.glob("*.md")):
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            block = re.sub(r"[#*>`\-|]+", "", block).strip()
            if sum("\u4e00" <= ch <= "\u9fff" for ch in block) > 40:
                out.append(re.sub(r"\s+", "", block))
    return out


def render_page(paragraphs: list[str], *, size: int = 26, per_line: int = 40) -> tuple[Image.Image, str]:
    """A page of Chinese paragraphs, and its text as set."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(FONT), size)
    y, written = 110, []
    for paragraph in paragraphs:
        lines = [paragraph[i : i + per_line] for i in range(0, len(paragraph), per_line)]
        for line in lines:
            if y > HEIGHT - 140:
                return image, "".join(written)
            draw.text((100, y), line, font=face, fill="black")
            written.append(line)
            y += int(size * 1.6)
        y += size
    return image, "".join(written)


def render_vertical(text: str, *, size: int = 30, per_column: int = 34) -> tuple[Image.Image, str]:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(FONT), size)
    x, written = WIDTH - 110, []
    for start in range(0, len(text), per_column):
        if x < 100:
            break
        column = text[start : start + per_column]
        for i, ch in enumerate(column):
            draw.text((x, 110 + i * int(size * 1.4)), ch, font=face, fill="black")
        written.append(column)
        x -= int(size * 1.8)
    return image, "".join(written)


def degrade(image: Image.Image, *, angle=0.0, blur=0.0, noise=0.0, seed=0) -> Image.Image:
    out = image.rotate(angle, expand=True, fillcolor="white", resample=Image.BICUBIC) if angle else image
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        rng = random.Random(seed)
        out = out.copy()
        px = out.load()
        for _ in range(int(out.width * out.height * noise)):
            px[rng.randrange(out.width), rng.randrange(out.height)] = (
                (0, 0, 0) if rng.random() < 0.5 else (255,) * 3
            )
    return out


def chinese_pages() -> list[tuple[str, Image.Image, str]]:
    """(name, image, reference) for rendered Chinese pages: clean, skewed and noised, blurred,
    small type, and vertical."""
    paras = _zh_paragraphs()
    pages = []
    for i, start in enumerate(range(0, 24, 4)):
        image, ref = render_page(paras[start : start + 4], size=26 if i % 3 else 22)
        variant = ("clean", "skew+noise", "blur", "clean", "skew+noise", "blur")[i]
        if variant == "skew+noise":
            image = degrade(image, angle=(-2.5, 3.0)[i // 3], noise=0.01, seed=i)
        elif variant == "blur":
            image = degrade(image, blur=1.0, noise=0.003, seed=i)
        pages.append((f"zh-{i + 1}-{variant}", image, ref))
    image, ref = render_vertical("".join(paras[30:34]))
    pages.append(("zh-vertical", image, ref))
    return pages


def photo_variants() -> list[tuple[str, Image.Image]]:
    """ch_en_num.jpg as a phone would take it again: turned, darker, blurred, recompressed."""
    base = Image.open(SCANNED / "ch_en_num.jpg").convert("RGB")
    out = [("photo-original", base)]
    out.append(
        ("photo-turned-8", base.rotate(8, expand=True, fillcolor=(200, 200, 200), resample=Image.BICUBIC))
    )
    out.append(
        ("photo-dim-blur", ImageEnhance.Brightness(base.filter(ImageFilter.GaussianBlur(1.2))).enhance(0.6))
    )
    big = base.resize((base.width * 2, base.height * 2), Image.BICUBIC)
    out.append(("photo-upscaled-noisy", degrade(big, noise=0.01, seed=3)))
    return out
