"""Where PyTorch embedders run: the one place that looks for a GPU."""

from __future__ import annotations

from pathlib import Path


def choose_device() -> str:
    """The device for PyTorch embedders: "cuda" where PyTorch sees a CUDA (or ROCm) GPU,
    "mps" on Apple silicon, else "cpu".
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True where the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX): there bf16 GEMMs
    are about twice as fast as fp32; elsewhere PyTorch emulates them and they are slower."""
    try:
        flags = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
