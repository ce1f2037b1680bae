"""The OCR engine: RapidOCR's PP-OCRv6 (small) detection and recognition models and its
angle classifier, run by ONNX Runtime on the CPU. The models ship inside the `rapidocr` wheel,
so nothing is downloaded; they are loaded once per process (a reader) on first use.

Chosen by measurement against rapidocr-onnxruntime 1.4 (PP-OCRv4), PP-OCRv6 tiny and Tesseract
(benchmarks/ocr.py, numbers in benchmarks/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Detection runs on the page scaled so that its longer side is at most this many pixels:
#: enough for 8-point text on a 150-dpi page, and 3x cheaper than full size (measured).
DET_SIDE = 1280
#: Lines the angle classifier looks at to decide whether a page is upside down.
CLS_SAMPLE = 16
#: Lines recognised both ways round when the classifier's vote needs checking, each cut to at
#: most this many times its height (a dozen characters tell which way up a line reads, and the
#: whole lines cost a vertical page a third of its CPU).
VERIFY_SAMPLE = 4
VERIFY_SPAN = 12


@dataclass(frozen=True)
class TextLine:
    """One detected line: its corner points (top-left, top-right, bottom-right, bottom-left, in
    reading direction as detected), its text and the recogniser's confidence (0-1)."""

    box: np.ndarray  # shape (4, 2), float32, page pixels
    text: str
    score: float
    #: The angle classifier turned this line's crop upside down before recognising it.
    flipped: bool = False


class OcrEngine:
    """Detects text lines on a page image and recognises them."""

    def __init__(self, *, threads: int | None = None, det_side: int = DET_SIDE, models: dict | None = None):
        from rapidocr import RapidOCR

        # One thread: the ingest runs two or more readers at once, and a second ONNX Runtime
        # thread per reader cost 51-74% more CPU per page for little wall time (benchmarks/ocr.py).
        threads = threads or 1
        params = {
            "Global.log_level": "error",
            # Lines are kept down to 0.5 and those under LOW_CONFIDENCE are reported (ingest.ocr.page).
            "Global.text_score": 0.5,
            "Det.limit_type": "max",
            "Det.limit_side_len": det_side,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # ONNX Runtime's memory arena reuses buffers between the many differently shaped
            # inputs of a page (5-10% less CPU, measured).
            "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
            # One line per recognition run: a batch pads every line to its widest, and batching
            # equal lines saved nothing (recognition CPU per page 25-50% lower than batches of 6,
            # same text; benchmarks/RESULTS.md).
            "Rec.rec_batch_num": 1,
            **_shipped_models(),
            **(models or {}),
        }
        self._ocr = RapidOCR(params=params)

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """The text-line boxes on `image` (an RGB array), each (4, 2) in page pixels."""
        result = self._ocr(image, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            return []
        return [np.asarray(b, dtype=np.float32) for b in boxes]

    def recognize(self, image: np.ndarray, boxes: list[np.ndarray]) -> list[TextLine]:
        """Crop each box (straightened) and recognise it. The page, not each line, is turned:
        the angle classifier votes on the longest lines, and only a majority turns them all
        (line by line it flips numbers and short words wrongly)."""
        if not boxes:
            return []
        crops = self._ocr.crop_text_regions(image, np.array(boxes))
        tall = sum(_is_tall(b) for b in boxes) > len(boxes) / 2
        flipped = self._upside_down(crops)
        if flipped or tall:
            # The classifier is unsure of vertical CJK and of turned pages: let the recogniser
            # say which way round a sample of lines reads better.
            flipped = self._reads_better_flipped(crops)
        if flipped:
            crops = [np.ascontiguousarray(np.rot90(crop, 2)) for crop in crops]
        result = self._ocr.recognize_txt(crops)
        return [
            TextLine(box, text.strip(), float(score), flipped)
            for box, text, score in zip(boxes, result.txts, result.scores, strict=True)
        ]

    def _upside_down(self, crops: list[np.ndarray]) -> bool:
        longest = sorted(crops, key=lambda c: c.shape[1] / max(1, c.shape[0]), reverse=True)[:CLS_SAMPLE]
        _, classes = self._ocr.cls_and_rotate(longest)
        votes = [score if label == "180" else -score for label, score in classes.cls_res or []]
        return sum(votes) > 0

    def _reads_better_flipped(self, crops: list[np.ndarray]) -> bool:
        longest = sorted(crops, key=lambda c: c.shape[1], reverse=True)[:VERIFY_SAMPLE]
        sample = [np.ascontiguousarray(c[:, : VERIFY_SPAN * c.shape[0]]) for c in longest]
        upright = self._ocr.recognize_txt(sample).scores
        turned = self._ocr.recognize_txt([np.ascontiguousarray(np.rot90(c, 2)) for c in sample]).scores
        return sum(turned) > sum(upright)


def _is_tall(box: np.ndarray) -> bool:
    return np.linalg.norm(box[3] - box[0]) > 1.5 * np.linalg.norm(box[1] - box[0])


#: The detector quantized to int8 (benchmarks/ocr_quantize.py builds it from the wheel's float
#: model): a third of the detection CPU, the same lines found (benchmarks/RESULTS.md).
DET_INT8 = Path(__file__).parent / "models" / "PP-OCRv6_det_small_int8.onnx"


def _shipped_models() -> dict[str, str]:
    """Paths of the models inside the rapidocr wheel (the detector: ours, when installed), so that
    RapidOCR never looks online."""
    import rapidocr

    folder = Path(rapidocr.__file__).parent / "models"
    detector = DET_INT8 if DET_INT8.is_file() else folder / "PP-OCRv6_det_small.onnx"
    return {
        "Det.model_path": str(detector),
        "Rec.model_path": str(folder / "PP-OCRv6_rec_small.onnx"),
        "Cls.model_path": str(folder / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
    }


_engine: OcrEngine | None = None


def shared_engine() -> OcrEngine:
    """This process's engine, loaded on first use (a reader loads its models once)."""
    global _engine
    if _engine is None:
        _engine = OcrEngine()
    return _engine
