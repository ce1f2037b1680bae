"""The query encoders' layers as an ONNX Runtime graph, for processes that embed many queries.

NumPy's BLAS packs every weight matrix again for every product, and with a query's few dozen
tokens that packing costs more than the arithmetic: e5's 12 layers took about 27 ms a query
here. ONNX Runtime packs the weights once, when the session is made, and its kernels are made
for products this thin: the same products take about a third of the time. ONNX Runtime is
already ours (the OCR runs on it); the `onnx` package that writes model files is not, and its
whole use here would be a few messages, so `model_bytes` writes them itself (protobuf's wire
format, the fields of onnx.proto; tests/test_query_engines.py reads the result back with
`onnx`'s checker where it is installed).

The graph is the encoder of `numpy_encoder.encode` (post-LayerNorm BERT, exact GELU), in float32,
one window [tokens, hidden] in, its last hidden states out.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .numpy_encoder import Layer

#: ONNX 1.15's IR version and operator set 20 (the first with Gelu): ONNX Runtime 1.17 and later.
IR_VERSION = 9
OPSET = 20
_FLOAT, _UINT8, _INT64 = 1, 2, 7  # TensorProto.DataType
#: ONNX Runtime's own operators (MatMulNBits).
_MICROSOFT = "com.microsoft"
_ATTR_FLOAT, _ATTR_INT, _ATTR_STRING, _ATTR_INTS = 1, 2, 3, 7  # AttributeProto.AttributeType


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int64 as its two's complement
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, value: int | float | str | bytes) -> bytes:
    """One field of a message: a varint, a float (fixed32), or length-delimited bytes."""
    if isinstance(value, bool | int):
        return _varint(number << 3) + _varint(int(value))
    if isinstance(value, float):
        return _varint(number << 3 | 5) + struct.pack("<f", value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


@dataclass(frozen=True)
class Q4Matrix:
    """A [rows, cols] weight matrix in 4-bit blocks of 32 along `cols`, as ONNX Runtime's
    MatMulNBits reads them: `packed` [rows, cols / 32, 16] (element 2i in a byte's low nibble,
    2i + 1 in its high one; value = (nibble - 8) * scale) and one `scale` per block [rows * cols /
    32]. e5's Q4_0 blocks are the same numbers (e5_file), so the graph holds them as shipped:
    an eighth of the float32 bytes, computed in float32 (the products equal NumPy's on the
    dequantized matrix, tested)."""

    packed: np.ndarray
    scales: np.ndarray
    rows: int
    cols: int


def _tensor(name: str, array: np.ndarray) -> bytes:
    kind = {"i": _INT64, "u": _UINT8}.get(array.dtype.kind, _FLOAT)
    dtype = {_INT64: "<i8", _UINT8: "u1"}.get(kind, "<f4")
    data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    dims = b"".join(_field(1, d) for d in array.shape)
    return dims + _field(2, kind) + _field(8, name) + _field(9, data)


def _attribute(name: str, value: int | float | str | Sequence[int]) -> bytes:
    if isinstance(value, str):
        return _field(1, name) + _field(4, value) + _field(20, _ATTR_STRING)
    if isinstance(value, float):
        return _field(1, name) + _field(2, value) + _field(20, _ATTR_FLOAT)
    if isinstance(value, int):
        return _field(1, name) + _field(3, value) + _field(20, _ATTR_INT)
    return _field(1, name) + b"".join(_field(8, v) for v in value) + _field(20, _ATTR_INTS)


def _value_info(name: str, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, _FLOAT) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self._count = 0

    def const(self, array: np.ndarray) -> str:
        name = f"c{len(self.initializers)}"
        self.initializers.append(_tensor(name, array))
        return name

    def op(
        self, op_type: str, *inputs: str, domain: str = "", **attributes: int | float | str | Sequence[int]
    ) -> str:
        self._count += 1
        output = f"t{self._count}"
        node = b"".join(_field(1, i) for i in inputs) + _field(2, output) + _field(4, op_type)
        node += b"".join(_field(5, _attribute(k, v)) for k, v in attributes.items())
        self.nodes.append(node + (_field(7, domain) if domain else b""))
        return output


def model_bytes(layers: Iterable[Layer], hidden: int, heads: int, eps: float) -> bytes:
    """A serialized ONNX model of the encoder: input "x" [tokens, hidden], output "y". `layers`
    may be an iterator: each layer is written as it comes and not held after."""
    g = _Graph()
    size = hidden // heads
    split = g.const(np.array([-1, 3, heads, size], dtype=np.int64))
    merge = g.const(np.array([-1, hidden], dtype=np.int64))
    picks = [g.const(np.array(i, dtype=np.int64)) for i in range(3)]
    scale = g.const(np.array(1 / np.sqrt(size), dtype=np.float32))

    def linear(x: str, weight: np.ndarray | Q4Matrix, bias: np.ndarray) -> str:
        if isinstance(weight, Q4Matrix):
            product = g.op(
                "MatMulNBits",
                x,
                g.const(weight.packed),
                g.const(weight.scales),
                domain=_MICROSOFT,
                K=weight.cols,
                N=weight.rows,
                bits=4,
                block_size=32,
            )  # accuracy_level left at 0: float32 arithmetic (4 would round x to 8 bits)
        else:
            product = g.op("MatMul", x, g.const(weight.T))
        return g.op("Add", product, g.const(bias))

    def norm(x: str, weights: tuple[np.ndarray, np.ndarray]) -> str:
        return g.op("LayerNormalization", x, g.const(weights[0]), g.const(weights[1]), axis=-1, epsilon=eps)

    h = "x"
    for layer in layers:
        qkv = g.op(
            "Transpose", g.op("Reshape", linear(h, layer.qkv, layer.qkv_bias), split), perm=[1, 2, 0, 3]
        )
        q, k, v = (g.op("Gather", qkv, pick, axis=0) for pick in picks)  # each [heads, tokens, size]
        scores = g.op("Mul", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 2, 1])), scale)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[1, 0, 2]), merge)
        h = norm(g.op("Add", h, linear(context, layer.attn_out, layer.attn_out_bias)), layer.attn_norm)
        inner = g.op("Gelu", linear(h, layer.ffn_in, layer.ffn_in_bias), approximate="none")
        h = norm(g.op("Add", h, linear(inner, layer.ffn_out, layer.ffn_out_bias)), layer.out_norm)
    g.nodes.append(_field(1, h) + _field(2, "y") + _field(4, "Identity"))
    graph = [_field(1, n) for n in g.nodes] + [_field(2, "encoder")]
    graph += [_field(5, t) for t in g.initializers]
    g.initializers.clear()
    graph += [
        _field(11, _value_info("x", ["tokens", hidden])),
        _field(12, _value_info("y", ["tokens", hidden])),
    ]
    head = (
        _field(1, IR_VERSION)
        + _field(2, "r1-assistant")
        + _varint(7 << 3 | 2)
        + _varint(sum(map(len, graph)))
    )
    # One join: the weights are copied once into the model, not once more per enclosing message.
    opsets = _field(8, _field(1, "") + _field(2, OPSET)) + _field(8, _field(1, _MICROSOFT) + _field(2, 1))
    return b"".join([head, *graph, opsets])


def onnx_encoder(
    layers: Iterable[Layer], hidden: int, heads: int, eps: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a window's embeddings [tokens, hidden] to its last hidden states, run by
    ONNX Runtime on one thread. Raises whatever ONNX Runtime raises when it cannot (the caller
    keeps the NumPy engine then)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as the NumPy engine: threads cost more than they give here
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    model = model_bytes(layers, hidden, heads, eps)
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    del model
    _return_freed_memory()

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(["y"], {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]

    return run


def _return_freed_memory() -> None:
    """Give the heap freed by the build back to the system (glibc keeps it otherwise): the model
    bytes and ONNX Runtime's parsed copy of them are three times the session's own size (e5:
    the process stays at about +90 MB instead of +240 MB)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim): nothing to give back
        pass
