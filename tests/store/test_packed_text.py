"""Packed text (``schema.PackedText``): zstd frames with the shipped dictionary, the deflated
values older stores hold, and the dictionary as a fixed part of the stored format."""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import orjson
import pytest
import zstandard
from isal import isal_zlib

from paperstand.sources import jsonl
from paperstand.store import Store
from paperstand.store.schema import DICTIONARY, PACK_FROM, pack_text, text_packer, unpack_text
from tests.conftest import DATA
from tests.store.test_contract import paper

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
FROZEN = DATA / "store" / "abstract-2606.30647.zst"  # see tests/data/README.md


def _first_abstract() -> str:
    """The abstract of 2606.30647 as the store receives it."""
    with gzip.open(DATA / "arxiv" / "listings-2026-07.jsonl.gz") as lines:
        found = jsonl.parse_record(orjson.loads(lines.readline()))
    assert found.id == "2606.30647"
    return found.abstract


def _shipped_dictionary_id() -> int:
    content = resources.files("paperstand").joinpath("data", DICTIONARY).read_bytes()
    return zstandard.ZstdCompressionDict(content).dict_id()


def _write_raw(store: Store, paper_id: str, value: str | bytes) -> None:
    """Store ``value`` as the abstract's column value itself, bypassing its type."""
    mark = "?" if store.dialect == "sqlite" else "%s"
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE papers SET abstract = {mark} WHERE id = {mark}", (value, paper_id)
        )


def _read_raw(store: Store, paper_id: str) -> object:
    mark = "?" if store.dialect == "sqlite" else "%s"
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(
            f"SELECT abstract FROM papers WHERE id = {mark}", (paper_id,)
        ).scalar_one()


TEXTS = {
    "2401.00001": "",
    "2401.00002": "Short.",
    "2401.00003": "x" * (PACK_FROM - 1),
    "2401.00004": "x" * PACK_FROM,
    "2401.00005": "\x00 an abstract starting with NUL, long enough to be packed " * 3,
    "2401.00006": "\x00",
    "2401.00007": "Zoë's ∑ over $x_t$, 日本語の要旨, and an emoji 🧪. " * 12,
    "2401.00008": "(\u00b5 starts like the zstd magic in Latin-1, not in UTF-8) " * 4,
}


def test_text_round_trips_through_the_store_as_zstd_frames(store: Store) -> None:
    store.upsert_papers([paper(pid, abstract=text) for pid, text in TEXTS.items()])
    assert {p.id: p.abstract for p in store.get_papers(list(TEXTS))} == TEXTS
    marker = b"" if store.dialect == "sqlite" else b"\x00"
    for pid, text in TEXTS.items():
        raw = _read_raw(store, pid)
        # PostgreSQL packs text starting with NUL whatever its length (see pack_bytes).
        if len(text) >= PACK_FROM or (marker and text.startswith("\x00")):
            assert isinstance(raw, bytes) and raw.startswith(marker + ZSTD_MAGIC), pid
            frame = zstandard.get_frame_parameters(raw[len(marker) :])
            assert frame.dict_id == _shipped_dictionary_id()
        elif store.dialect == "sqlite":
            assert raw == text
        else:
            assert bytes(raw) == text.encode()


def test_abstracts_deflated_by_an_older_version_still_read(store: Store) -> None:
    """Stores written before zstd hold bare ISA-L deflate streams (after a NUL byte on
    PostgreSQL): read as they are, beside zstd frames, with no migration."""
    abstract = _first_abstract()
    store.upsert_papers([paper("2401.00001"), paper("2401.00002", abstract=abstract)])
    deflated = isal_zlib.compress(abstract.encode(), 1, -15)
    old = deflated if store.dialect == "sqlite" else b"\x00" + deflated
    _write_raw(store, "2401.00001", old)
    assert bytes(_read_raw(store, "2401.00001")) == old
    assert [p.abstract for p in store.get_papers(["2401.00001", "2401.00002"])] == [abstract] * 2
    assert {p.id: p.abstract for b in store.iter_papers() for p in b} == {
        "2401.00001": abstract,
        "2401.00002": abstract,
    }
    # Rewritten by an update, the old value becomes a zstd frame.
    store.upsert_papers([paper("2401.00001", abstract=abstract + " Revised.", version=2)])
    assert ZSTD_MAGIC in bytes(_read_raw(store, "2401.00001"))[:5]
    assert store.get_paper("2401.00001").abstract == abstract + " Revised."


def test_the_shipped_dictionary_reads_the_frozen_sample() -> None:
    """A value packed once with the shipped dictionary and checked in: retraining or
    replacing the dictionary would fail here before it made existing stores unreadable."""
    frame = FROZEN.read_bytes()
    assert zstandard.get_frame_parameters(frame).dict_id == _shipped_dictionary_id()
    for dialect, stored in (("sqlite", frame), ("postgresql", b"\x00" + frame)):
        assert unpack_text(stored, dialect) == _first_abstract()


def test_a_frame_of_another_dictionary_fails_loudly() -> None:
    """The frame's dictionary id makes a value packed with any other dictionary an error,
    never garbage text."""
    samples = [
        f"Sample {i} of a corpus that is not arXiv: {i * 7 % 13} apples, {i % 5} pears.".encode()
        for i in range(2000)
    ]
    other = zstandard.train_dictionary(4096, samples)
    assert other.dict_id() != _shipped_dictionary_id()
    frame = zstandard.ZstdCompressor(dict_data=other).compress(_first_abstract().encode())
    with pytest.raises(zstandard.ZstdError, match="Dictionary mismatch"):
        unpack_text(frame, "sqlite")


def test_packing_from_many_threads_at_once() -> None:
    """Each thread packs and unpacks with its own compressor (the web server's threads, a
    loader's): concurrent use returns every text whole."""
    texts = [
        f"Abstract number {i}: " + "diffusion models denoise " * (i % 40 + 3) for i in range(400)
    ]

    def round_trip(text: str) -> str | None:
        for dialect in ("sqlite", "postgresql"):
            assert unpack_text(text_packer(dialect)(text), dialect) == text
        return unpack_text(pack_text(text), "sqlite")

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(round_trip, texts * 5)) == texts * 5
