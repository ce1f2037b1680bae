"""Builds the int8 text detector the OCR ships (ingest/ocr/models/PP-OCRv6_det_small_int8.onnx).

    python -m benchmarks.ocr_quantize          # rewrites the model; then python -m benchmarks.ocr

RapidOCR's PP-OCRv6 small detector (float32, in the `rapidocr` wheel) is quantized statically:
weights to int8 per channel, activations to uint8 with ranges calibrated on pages rendered at
150 dpi that the OCR benchmark does not score: the PDFs of ../shared/data/docs (English, one and
two columns, tables, figures) and Chinese pages set from paragraphs of ../shared/data/docs/zh
after those the benchmark uses. The model is first converted from opset 11 to 17, which
ONNX Runtime's quantization needs. The same inputs give the same model (min-max calibration).
Detection costs about a third of the CPU with it (benchmarks/RESULTS.md); recognition stays float
(quantized, it read the photos worse and was hardly faster).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .common import REPO, SHARED_DATA
from .ocr_data import _zh_paragraphs, degrade, render_page

TARGET = REPO / "ingest" / "ocr" / "models" / "PP-OCRv6_det_small_int8.onnx"
#: English pages: (file, pages) rendered for calibration.
ENGLISH = [("autogen.pdf", 3), ("redp5110_sampled.pdf", 3), ("2305.03393v1-pg9.pdf", 1)]
#: The OCR benchmark sets its Chinese pages from the first 34 paragraphs; these come after.
ZH_FIRST = 40


def calibration_pages() -> list:
    import pypdfium2 as pdfium

    pages = []
    for name, count in ENGLISH:
        pdf = pdfium.PdfDocument(SHARED_DATA / "docs" / name)
        try:
            for i in range(min(count, len(pdf))):
                pages.append(pdf[i].render(scale=150 / 72).to_pil().convert("RGB"))
        finally:
            pdf.close()
    paras = _zh_paragraphs()[ZH_FIRST:]
    for i, start in enumerate(range(0, min(len(paras), 24), 4)):
        image, _ = render_page(paras[start : start + 4], size=(18, 22, 26)[i % 3])
        if i % 3 == 1:
            image = degrade(image, blur=0.8, noise=0.002, seed=i)
        elif i % 3 == 2:
            image = degrade(image, angle=2.0, noise=0.01, seed=i)  # specked: cleaned as read_image does
        pages.append(image)
    return pages


def _inputs(pages: list) -> list:
    """The detector's input tensors for `pages`, prepared as the engine prepares them."""
    import numpy as np

    from ingest.ocr import despeckle
    from ingest.ocr.engine import OcrEngine

    engine = OcrEngine(models={"Det.model_path": str(_float_model())})
    engine.detect(np.asarray(pages[0]))  # loads the detector
    detector = engine._ocr.text_det
    return [detector.get_preprocess()(np.asarray(despeckle(page))) for page in pages]


def _float_model() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).parent / "models" / "PP-OCRv6_det_small.onnx"


def quantize(target: Path = TARGET) -> None:
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    tensors = _inputs(calibration_pages())

    class Pages(CalibrationDataReader):
        def __init__(self, name: str) -> None:
            self.feed = iter([{name: tensor} for tensor in tensors])

        def get_next(self):
            return next(self.feed, None)

    with tempfile.TemporaryDirectory() as tmp:
        model = onnx.load(str(_float_model()))
        name = model.graph.input[0].name
        converted, prepared = Path(tmp) / "det17.onnx", Path(tmp) / "det17-pre.onnx"
        onnx.save(version_converter.convert_version(model, 17), str(converted))
        quant_pre_process(str(converted), str(prepared), skip_symbolic_shape=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        quantize_static(
            str(prepared),
            str(target),
            Pages(name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
        )
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB) from {len(tensors)} pages")


if __name__ == "__main__":
    quantize()
