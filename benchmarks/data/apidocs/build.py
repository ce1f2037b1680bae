"""Build apidocs.json.gz: an English retrieval set from the reference documentation of NumPy,
SciPy and scikit-learn (see README.md beside this file).

Each public function or class with a NumPy-style docstring gives one pair: the docstring's
one-line summary is the query ("Compute the Kolmogorov-Smirnov statistic on 2 samples.") and
the rest of its description is the document (extended summary, parameters, returns, notes; no
examples, no cross-references). Deterministic for given package versions:

    python benchmarks/data/apidocs/build.py   # rewrites apidocs.json.gz
"""

from __future__ import annotations

import gzip
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

import numpy
import scipy
import sklearn

MODULES = (
    "numpy",
    "numpy.fft",
    "numpy.linalg",
    "numpy.polynomial.polynomial",
    "scipy.cluster.hierarchy",
    "scipy.cluster.vq",
    "scipy.fft",
    "scipy.integrate",
    "scipy.interpolate",
    "scipy.linalg",
    "scipy.ndimage",
    "scipy.optimize",
    "scipy.signal",
    "scipy.sparse.csgraph",
    "scipy.sparse.linalg",
    "scipy.spatial",
    "scipy.spatial.distance",
    "scipy.special",
    "scipy.stats",
    "sklearn.calibration",
    "sklearn.cluster",
    "sklearn.compose",
    "sklearn.covariance",
    "sklearn.cross_decomposition",
    "sklearn.decomposition",
    "sklearn.discriminant_analysis",
    "sklearn.ensemble",
    "sklearn.feature_extraction.text",
    "sklearn.feature_selection",
    "sklearn.gaussian_process",
    "sklearn.impute",
    "sklearn.inspection",
    "sklearn.isotonic",
    "sklearn.kernel_approximation",
    "sklearn.linear_model",
    "sklearn.manifold",
    "sklearn.metrics",
    "sklearn.mixture",
    "sklearn.model_selection",
    "sklearn.naive_bayes",
    "sklearn.neighbors",
    "sklearn.neural_network",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.random_projection",
    "sklearn.semi_supervised",
    "sklearn.svm",
    "sklearn.tree",
    "sklearn.utils",
)
# Sections kept in the document; the others (examples, see also, references...) are dropped.
KEEP = {"", "parameters", "returns", "yields", "notes", "attributes", "raises", "warns"}
MAX_CHARS = 1200
# Boilerplate paragraphs that SciPy repeats in hundreds of docstrings: they say nothing about
# the function and would make every SciPy document look alike.
BOILERPLATE = re.compile(
    r"Array API Standard Support|array arguments are of specified|Array API Standard compatible"
    r"|following combinations of backend and device|^\s*=+(\s+=+)*\s*$|^\s*(CPU|GPU|Library)\s",
    re.MULTILINE,
)
OUT = Path(__file__).with_name("apidocs.json.gz")


def sections(doc: str) -> list[tuple[str, list[str]]]:
    """NumPy-docstring sections: (lower-case title, lines); the text before the first is ''."""
    lines = doc.splitlines()
    out: list[tuple[str, list[str]]] = [("", [])]
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]):
            out.append((lines[i].strip().lower(), []))
            i += 2
            continue
        out[-1][1].append(lines[i])
        i += 1
    return out


def _clean(text: str) -> str:
    return "\n\n".join(p for p in text.split("\n\n") if not BOILERPLATE.search(p))


def pair(doc: str) -> tuple[str, str] | None:
    parts = [(title, _clean("\n".join(lines)).splitlines()) for title, lines in sections(doc)]
    head = "\n".join(parts[0][1]).strip().split("\n\n")
    summary = " ".join(head[0].split())
    words = summary.split()
    if not 4 <= len(words) <= 30 or summary.lower().startswith(("deprecated", "alias", "an alias", "see ")):
        return None
    if ">>>" in summary or "(" in words[0]:  # a signature line, not a summary
        return None
    body = ["\n\n".join(head[1:])] + [
        title.capitalize() + ": " + "\n".join(lines) for title, lines in parts[1:] if title in KEEP
    ]
    text = " ".join(" ".join(body).split())
    text = re.sub(r"\.\. (versionadded|versionchanged|deprecated)::[^.]*\.?", "", text)
    if len(text.split()) < 40 or summary.rstrip(".").lower() in text.lower():
        return None
    return summary, text[:MAX_CHARS].rsplit(" ", 1)[0]


def collect() -> list[dict[str, str]]:
    seen_summaries: set[str] = set()
    seen_texts: set[str] = set()
    items = []
    for name in MODULES:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for attr in sorted(set(names)):
            try:
                obj = getattr(module, attr, None)
            except ImportError:  # experimental names that need an explicit opt-in
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj) or isinstance(obj, numpy.ufunc)):
                continue
            doc = inspect.getdoc(obj)
            made = pair(doc) if doc else None
            if made is None:
                continue
            summary, text = made
            key = summary.lower().rstrip(".")
            if key in seen_summaries or text in seen_texts:
                continue  # re-exports (scipy.fft / numpy.fft) and shared docstrings
            seen_summaries.add(key)
            seen_texts.add(text)
            where = f"{getattr(obj, '__module__', None) or name}.{getattr(obj, '__name__', attr)}"
            items.append({"id": where, "query": summary, "text": text})
    return items


def main() -> None:
    items = collect()
    data = {
        "source": {
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "python": sys.version.split()[0],
        },
        "items": items,
    }
    payload = json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True).encode()
    OUT.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(f"{len(items)} pairs, {OUT.stat().st_size} bytes -> {OUT}")


if __name__ == "__main__":
    main()
