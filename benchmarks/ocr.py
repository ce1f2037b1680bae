"""OCR benchmark (issue 21): accuracy, speed and memory of the OCR the ingest uses.

    python -m benchmarks.ocr                       # everything, the product's engine
    python -m benchmarks.ocr --only cer --variant default --variant det-float --variant before
    python -m benchmarks.ocr --only cer --variant det960 --variant det-full --variant threads2
    python -m benchmarks.ocr --only cer --rec-model R.onnx [--rec-keys K.txt] [--det-model D.onnx]
    python -m benchmarks.ocr --only cer --tesseract

- English CER on ../shared/data/scanned/linn.pdf against linn.txt (corrected where plainly wrong:
  benchmarks/ocr_data.LINN_CORRECTIONS), upright and turned 90 degrees, and c02-22.pdf's speed;
  both sides normalised.
- Chinese CER on pages rendered from ../shared/data/docs/zh (clean, skewed and specked, blurred,
  vertical) and an order-free CER on photograph-like variants of ch_en_num.jpg.
- recall@5 of questions answered only by scanned pages, through `Session.ingest` and `search`.
- pages/s, per-page seconds and peak memory for a 20-page scan read in a fresh process.

Reading the pages goes through the product's functions (ingest.ocr.read_image, ingest.formats
.parse), so the numbers are the ingest's. The machine is shared: each table says the load.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from .common import REPO
from .ocr_data import (
    CH_EN_NUM,
    SCANNED,
    chinese_pages,
    linn_reference,
    normalise,
    photo_variants,
    render_page,
)

RESULTS = REPO / "benchmarks" / "results"

#: RapidOCR's float32 detector, inside its wheel (the engine uses our int8 copy of it).
FLOAT_DET = "rapidocr:PP-OCRv6_det_small.onnx"
#: The engine's settings before the speed work: float detector, recognition in batches of 6.
BEFORE = {
    "Det.model_path": FLOAT_DET,
    "Rec.rec_batch_num": 6,
    "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,
}
#: Engine settings measured against the default (ingest.ocr.engine): detection size, threads,
#: the detector's precision, recognition batches.
VARIANTS = {
    "default": {},
    "det960": {"det_side": 960},
    "det-full": {"det_side": 4000},
    "threads2": {"threads": 2},
    "det-float": {"models": {"Det.model_path": FLOAT_DET}},
    "before": {"models": BEFORE},
}


def cer(reference: str, hypothesis: str) -> float:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(reference, hypothesis) / max(1, len(reference))


def bag_cer(reference: str, hypothesis: str) -> float:
    """Characters missing plus characters extra, over the reference's: for a poster whose
    reading order is a matter of taste."""
    ref, hyp = Counter(reference), Counter(hypothesis)
    return (sum((ref - hyp).values()) + sum((hyp - ref).values())) / max(1, sum(ref.values()))


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


class Reader:
    """Reads page images with one engine configuration; times each page (wall and CPU)."""

    def __init__(self, variant: dict, tesseract: bool = False) -> None:
        self.tesseract = tesseract
        self.engine = None
        if not tesseract:
            from ingest.ocr.engine import OcrEngine

            self.engine = OcrEngine(**_resolve(variant))

    def __call__(self, image, lang: str = "en") -> tuple[str, float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        if self.tesseract:
            text = _tesseract(image, "chi_sim+eng" if lang == "zh" else "eng")
        else:
            from ingest.ocr import OcrOptions, read_image

            text = read_image(image, OcrOptions(page_timeout=600), engine=self.engine).text
        return text, time.perf_counter() - wall, time.process_time() - cpu


def _resolve(variant: dict) -> dict:
    """`variant` with "rapidocr:NAME" model paths pointing into the rapidocr wheel."""
    import rapidocr

    folder = Path(rapidocr.__file__).parent / "models"
    models = {
        key: str(folder / value.removeprefix("rapidocr:"))
        if isinstance(value, str) and value.startswith("rapidocr:")
        else value
        for key, value in variant.get("models", {}).items()
    }
    return {**variant, "models": models} if models else variant


def _tesseract(image, langs: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        image.save(path)
        done = subprocess.run(
            ["tesseract", str(path), "stdout", "-l", langs, "--psm", "3"],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        return done.stdout


def render_pdf_page(name: str, dpi: int = 150):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(SCANNED / name)
    try:
        return pdf[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def accuracy(reader: Reader) -> dict:
    """English and Chinese CER, with each page's seconds (wall and CPU)."""
    rows = []
    text, wall, cpu = reader(render_pdf_page("linn.pdf"))
    rows.append(("linn.pdf (two columns)", cer(normalise(linn_reference()), normalise(text)), wall, cpu))
    # The same sheet scanned sideways (a page fed turned into the scanner): not in the means.
    text, wall, cpu = reader(render_pdf_page("linn.pdf").rotate(90, expand=True))
    rows.append(("linn.pdf turned 90 degrees", cer(normalise(linn_reference()), normalise(text)), wall, cpu))
    _, wall, cpu = reader(render_pdf_page("c02-22.pdf"))
    rows.append(("c02-22.pdf (book page, no reference)", None, wall, cpu))
    zh = []
    for name, image, reference in chinese_pages():
        text, wall, cpu = reader(image, "zh")
        score = cer(normalise(reference, cjk=True), normalise(text, cjk=True))
        zh.append(score)
        rows.append((name, score, wall, cpu))
    photos = []
    for name, image in photo_variants():
        text, wall, cpu = reader(image, "zh")
        score = bag_cer(normalise(CH_EN_NUM, cjk=True), normalise(text, cjk=True))
        photos.append(score)
        rows.append((name + " (order-free)", score, wall, cpu))
    return {
        "english_cer": rows[0][1],
        "chinese_cer": statistics.fmean(zh),
        "photo_cer": statistics.fmean(photos),
        "pages": [{"page": n, "cer": c, "wall_s": w, "cpu_s": u} for n, c, w, u in rows],
        "median_wall_s": statistics.median(r[2] for r in rows),
        "load": load(),
    }


# --- 20-page scan: speed and peak memory, in a fresh process as a reader would be ----------------
def _twenty_pages() -> bytes:
    import io

    from .ocr_data import _zh_paragraphs

    images = [render_pdf_page("linn.pdf"), render_pdf_page("c02-22.pdf")] * 5
    paras = _zh_paragraphs()
    images += [render_page(paras[i : i + 4])[0] for i in range(0, 40, 4)]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def _read_scan(path: str, queue) -> None:
    from ingest.formats import parse
    from ingest.ocr import OcrOptions

    started = time.perf_counter()
    _, doc = parse(Path(path), Path(path).read_bytes(), OcrOptions(page_timeout=600))
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "pages": doc.ocr_pages,
            "seconds": seconds,
            "cpu_s": usage.ru_utime + usage.ru_stime,  # all of it: imports and model loading too
            "peak_rss_mb": usage.ru_maxrss / 1024,
        }
    )


def speed() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scan20.pdf"
        path.write_bytes(_twenty_pages())
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        before = os.getloadavg()[0]
        process = ctx.Process(target=_read_scan, args=(str(path), queue))
        process.start()
        result = queue.get(timeout=3600)
        process.join()
    result["pages_per_s"] = result["pages"] / result["seconds"]
    result["cpu_s_per_page"] = result["cpu_s"] / result["pages"]
    result["load"] = f"load average {before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    return result


# --- recall@5 of questions only scanned pages answer ---------------------------------------------
QUESTIONS = [
    ("How many MIDI channels can each track of the LinnSequencer be assigned to?", "linn.pdf"),
    ("What does the CREATE SONG function of the sequencer do?", "linn.pdf"),
    ("How many notes does one disk of the sequencer hold?", "linn.pdf"),
    ("Who was setting in the kitchen door when they passed?", "c02-22.pdf"),
    ("What began to itch while they were hiding near the kitchen?", "c02-22.pdf"),
    ("防冻液多少度不结冰？", "ch_en_num.jpg"),
    ("这款产品券后价多少钱？", "ch_en_num.jpg"),
]
DISTRACTORS = ["wiki.md", "blog.html", "autogen.pdf", "word_sample.docx", "wiki_duck.html"]


def recall_at_5() -> dict:
    from assistant.session import Session
    from assistant.settings import load_settings

    from .common import SHARED_DATA
    from .ocr_data import degrade

    questions = list(QUESTIONS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for name in ("linn.pdf", "c02-22.pdf", "ch_en_num.jpg"):
            shutil.copy(SCANNED / name, folder / name)
        for name in DISTRACTORS:
            shutil.copy(SHARED_DATA / "docs" / name, folder / name)
        for name, image, reference in chinese_pages()[:5]:
            degrade(image, noise=0.002, seed=1).save(
                folder / f"scan-{name}.pdf", format="PDF", resolution=150
            )
            questions.append((reference[80:98], f"scan-{name}.pdf"))  # a phrase from the page
        session = Session(load_settings({"home": str(Path(tmp) / "home")}, environ={}))
        started = time.perf_counter()
        summary = session.ingest(folder, "bench")
        ingest_s = time.perf_counter() - started
        found = []
        for question, expected in questions:
            sources = session.search(question, kb="bench", k=5).sources
            names = [Path(s.uri).name for s in sources if s.kind == "kb"]
            found.append(
                {"question": question, "expected": expected, "top5": names, "hit": expected in names}
            )
        session.close()
    return {
        "recall_at_5": sum(f["hit"] for f in found) / len(found),
        "questions": found,
        "ingest_s": ingest_s,
        "files_failed": [f.path for f in summary.files_failed],
        "load": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["cer", "speed", "recall"], action="append")
    parser.add_argument("--variant", choices=sorted(VARIANTS), action="append")
    parser.add_argument("--tesseract", action="store_true", help="also Tesseract (Debian tesseract-ocr)")
    parser.add_argument("--rec-model", help="another recognition model (ONNX) for the rapidocr engine")
    parser.add_argument("--rec-keys", help="its character list, if the model does not carry one")
    parser.add_argument("--det-model", help="another detection model (ONNX)")
    parser.add_argument("--out", default=str(RESULTS / "ocr.json"))
    args = parser.parse_args()
    only = set(args.only or ["cer", "speed", "recall"])
    report: dict = {}
    if "cer" in only:
        variants = {name: VARIANTS[name] for name in args.variant or ["default"]}
        if args.rec_model or args.det_model:
            models = {"Rec.model_path": args.rec_model, "Rec.rec_keys_path": args.rec_keys}
            models["Det.model_path"] = args.det_model
            variants["models"] = {"models": {k: v for k, v in models.items() if v}}
        report["accuracy"] = {name: accuracy(Reader(v)) for name, v in variants.items()}
        if args.tesseract and shutil.which("tesseract"):
            report["accuracy"]["tesseract"] = accuracy(Reader({}, tesseract=True))
        _print_accuracy(report["accuracy"])
    if "speed" in only:
        report["speed"] = speed()
        print("20-page scan:", json.dumps(report["speed"]))
    if "recall" in only:
        report["recall"] = recall_at_5()
        _print_recall(report["recall"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


def _print_accuracy(results: dict) -> None:
    for name, r in results.items():
        print(
            f"{name}: English CER {r['english_cer']:.4f}, Chinese CER {r['chinese_cer']:.4f}, "
            f"photo CER {r['photo_cer']:.4f}, median {r['median_wall_s']:.2f} s/page ({r['load']})"
        )
        for row in r["pages"]:
            score = "-" if row["cer"] is None else f"{row['cer']:.4f}"
            print(
                f"    {row['page']:<40} CER {score:>7}  wall {row['wall_s']:6.2f} s"
                f"  cpu {row['cpu_s']:6.2f} s"
            )


def _print_recall(r: dict) -> None:
    print(
        f"recall@5 {r['recall_at_5']:.3f} over {len(r['questions'])} questions; ingest {r['ingest_s']:.1f} s"
    )
    for q in r["questions"]:
        print(f"    {'hit ' if q['hit'] else 'MISS'} {q['expected']:<28} {q['question']}")


if __name__ == "__main__":
    main()
