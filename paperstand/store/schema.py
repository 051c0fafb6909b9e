"""The database schema, described once for both backends as SQLAlchemy Core ``Table``\\ s.

Every table lives on the one :data:`metadata`: ``papers`` here, as every area refers to it,
the others in the module of the store part that queries them (``papers.py``,
``embeddings.py``, ``jobs.py``, ``checkpoints.py``, ...). Types that differ between SQLite and
PostgreSQL are named here once (:data:`Json`, :data:`Stamp`, :data:`Key`): JSON is text on
SQLite and ``jsonb`` on PostgreSQL, times are ISO 8601 UTC text on SQLite (which sorts in time
order) and ``timestamptz`` on PostgreSQL. What Core cannot describe (the pgvector extension,
per-model HNSW indexes) is written in the Alembic revisions under ``migrations/versions`` or
in ``embeddings.py``, and the few queries whose SQL really differs are in ``dialect.py``.

How a feature adds tables of its own: see the docstring of ``paperstand/store/__init__.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import zstandard
from isal import isal_zlib
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    and_,
    false,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.engine import Dialect

metadata = MetaData()

# JSON documents: text on SQLite, jsonb on PostgreSQL (serialised by orjson, see engine.py).
Json = JSON().with_variant(JSONB(), "postgresql")
# Points in time: ISO 8601 UTC text on SQLite, timestamptz on PostgreSQL.
Stamp = Text().with_variant(TIMESTAMP(timezone=True), "postgresql")
# Surrogate keys: SQLite's rowid (INTEGER PRIMARY KEY), a bigint on PostgreSQL.
Key = BigInteger().with_variant(Integer(), "sqlite")

# Text at least this long is packed (see PackedText). With the dictionary, zstd stores real
# abstracts cut to 40 characters in 36 bytes and to 64 in some 44 (benchmarks/pack.py), so
# below this the gain is a few bytes, not worth a frame's work to write and read.
PACK_FROM = 64
# What the packed bytes start with on PostgreSQL: text never starts with it there (a
# PostgreSQL text value cannot hold NUL, and the writer packs any text that starts so).
_PACKED = b"\x00"
# Every zstd frame starts with these four bytes; see _unpack for why nothing else stored
# in a PackedText column can.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_LEVEL = 3  # zstd's default level
_RAW_DEFLATE = -15  # window bits: a bare deflate stream, no zlib header or checksum
# The shipped dictionary's file name under ``paperstand/data``.
DICTIONARY = "abstracts.zdict"


def _dictionary() -> zstandard.ZstdCompressionDict:
    """The zstd dictionary trained on arXiv abstracts (``benchmarks/abstract_dict.py``),
    shipped in the package, digested once for compressing at :data:`_LEVEL`. Part of the
    stored format: every value packed with it needs it to be read back."""
    content = resources.files("paperstand").joinpath("data", DICTIONARY).read_bytes()
    dictionary = zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_FULLDICT)
    dictionary.precompute_compress(level=_LEVEL)
    return dictionary


_DICTIONARY = _dictionary()


class _Codecs(threading.local):
    """A zstd compressor and decompressor for each thread: neither may be used by two
    threads at once (the web server's, a loader's), and making one per value cost more
    than the compression itself (16 µs against 6). The digested dictionary they refer to
    is read-only, one for all threads."""

    def __init__(self) -> None:
        self.compress = zstandard.ZstdCompressor(level=_LEVEL, dict_data=_DICTIONARY).compress
        self.decompress = zstandard.ZstdDecompressor(dict_data=_DICTIONARY).decompress


_codecs = _Codecs()


def _pack(value: str) -> bytes:
    """``value`` as one zstd frame with the shipped dictionary: what both backends store
    for packed text. The frame keeps zstd's header fields: the dictionary's id, so that a
    value read with any other dictionary fails rather than decoding to garbage, and the
    text's length, so decompression sizes its output at once (some 8 bytes in all)."""
    return _codecs.compress(value.encode())


def _unpack(data: bytes) -> str:
    """The text of packed bytes: a zstd frame (:func:`_pack`), else a bare deflate stream,
    which stores written before zstd hold (ISA-L level 1) and which is read as it is, with
    no migration. The zstd frame's first four bytes tell them apart, and they can start
    nothing else in the column:

    - a deflate stream starting with 0x28 opens a stored block (BFINAL 0, BTYPE 00), whose
      next four bytes are its length and the length's one's complement; B5 2F then FD xx
      are not (the complement of 0x2FB5 is 0xD04A), so no valid deflate stream starts with
      the magic;
    - nor can UTF-8 text (the short values beside packed ones, told apart from them by
      their type on SQLite and by the NUL marker on PostgreSQL): 0xB5 is a continuation
      byte, which never follows "(" (0x28), so the magic would tell a frame from text too."""
    if data.startswith(_ZSTD_MAGIC):
        return _codecs.decompress(data).decode()
    return isal_zlib.decompress(data, _RAW_DEFLATE).decode()


def pack_text(value: str) -> str | bytes:
    """``value`` as SQLite keeps it in a :class:`PackedText` column: packed (a zstd frame)
    when long enough, else as it is."""
    if len(value) < PACK_FROM:
        return value
    return _pack(value)


def pack_bytes(value: str) -> bytes:
    """``value`` as PostgreSQL keeps it in a :class:`PackedText` column (``bytea``):
    :data:`_PACKED` then the packed text when long enough (or when it starts with NUL),
    else the UTF-8 text."""
    if len(value) < PACK_FROM and not value.startswith("\x00"):
        return value.encode()
    return _PACKED + _pack(value)


def text_packer(dialect: str) -> Callable[[str], str | bytes]:
    """How a writer that bypasses the column's type (the bulk writers, ``papers._row``)
    packs text for a :class:`PackedText` column of ``dialect``."""
    return pack_bytes if dialect == "postgresql" else pack_text


def unpack_text(value: str | bytes | None, dialect: str) -> str | None:
    """The text of a :class:`PackedText` value as ``dialect`` stores it. On SQLite a blob
    is packed text (:func:`_unpack`) and text is itself (short values, stores written
    before packing); on PostgreSQL every value is bytes, packed after a NUL byte, else
    UTF-8."""
    if not isinstance(value, bytes):
        return value
    if dialect != "postgresql":
        return _unpack(value)
    if value.startswith(_PACKED):
        return _unpack(value[1:])
    return value.decode()


class PackedText(TypeDecorator[str]):
    """Long prose (abstracts), packed as zstd frames with a dictionary trained on arXiv
    abstracts and shipped in the package (:data:`DICTIONARY`): abstracts are most of what
    a store of arXiv holds, and this stores them in a third of their size (1.32 kB to
    0.46 kB on average, where ISA-L deflate, the format before, took 0.68 kB), for some
    7.5 µs of CPU to pack one at ingest and 3.5 µs to unpack one when a page shows it
    (deflate: 9.5 and 5.7; ``benchmarks/pack.py``). A dictionary of its own stays with
    the data: a stored value names it (the frame's dictionary id), and it is never
    retrained in place, since every value packed with it needs it to be read. Neither
    backend would do it by itself: PostgreSQL compresses only rows over 2 kB, and
    abstracts are shorter; and an abstract alone is too short for a compressor to learn
    its words, which the dictionary brings. Values deflated by older versions are read as
    they are (:func:`_unpack`).

    - SQLite keeps the blobs in the same TEXT column beside plain text (short values and
      stores written before packing), told apart by their type: those stores need no
      migration.
    - PostgreSQL's ``text`` cannot hold packed bytes, so the column is ``bytea``
      (revision 0014): a value that starts with a NUL byte is packed text after it, any
      other is UTF-8 text, which never starts with NUL there. A marker rather than every
      value packed: short text gains nothing, and the UTF-8 form let revision 0014
      convert an older store's short abstracts in SQL alone (it packs the long ones in
      Python, in the same rewrite of the table, and its downgrade finds them by the NUL).

    Nothing filters or sorts on such a column in SQL (on PostgreSQL it is bytes); the bulk
    writers (``papers._row``) pack with :func:`text_packer` themselves."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(LargeBinary())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | bytes | None:
        if value is None:
            return value
        return text_packer(dialect.name)(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unpack_text(value, dialect.name)


papers = Table(
    "papers",
    metadata,
    # pk is the surrogate key other tables refer to; id the canonical paper id (ids.py).
    Column("pk", Key, primary_key=True),
    Column("id", Text, nullable=False, unique=True),
    Column("version", Integer),
    Column("title", Text, nullable=False, server_default=""),
    Column("authors", Json, nullable=False, server_default="[]"),  # names, in order
    Column("abstract", PackedText, nullable=False, server_default=""),
    Column("categories", Json, nullable=False, server_default="[]"),  # primary first
    Column("primary_category", Text),
    Column("comment", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("license", Text),
    # Dates stay ISO 8601 text on both backends, so they sort and compare alike.
    Column("published", Text),
    Column("updated", Text),
    Column("listed", Text),
    Column("upvotes", Integer),
    Column("submitted_by", Text),
    Column("submitted_on", Text),
    Column("github_repo", Text),
    Column("github_stars", Integer),
    Column("project_page", Text),
    Column("ai_summary", Text),
    Column("ai_keywords", Json, nullable=False, server_default="[]"),
    Column("extra", Json, nullable=False, server_default="{}"),  # source-specific extras
    Column("deleted", Boolean(create_constraint=False), nullable=False, server_default="0"),
    # Every insert or update takes the next revision, so indexes kept outside the database
    # (the tantivy full text) catch up by asking for what changed after the last they saw.
    Column("rev", BigInteger, nullable=False, server_default="0"),
)
Index("papers_listed", papers.c.listed)
# Only the papers Hugging Face featured: the curated lists' ranges and "not null" use it.
Index(
    "papers_submitted_on",
    papers.c.submitted_on,
    sqlite_where=papers.c.submitted_on.isnot(None),
    postgresql_where=papers.c.submitted_on.isnot(None),
)
Index("papers_rev", papers.c.rev)
# A paper's day on the daily lists: the Hugging Face day when it has one, else the listing.
Index("papers_day", func.coalesce(papers.c.submitted_on, papers.c.listed))
Index(
    "papers_doi",
    func.lower(papers.c.doi),
    sqlite_where=papers.c.doi.isnot(None),
    postgresql_where=papers.c.doi.isnot(None),
)


# Papers an admin hid (the community's moderation). Here beside ``papers``, not with the
# community part, because every list of papers leaves them out (:func:`visible`).
hidden_papers = Table(
    "hidden_papers",
    metadata,
    Column("paper_pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column(
        "user_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),  # the admin who hid it
    Column("created", Stamp, nullable=False),
)


def visible() -> ColumnElement[bool]:
    """A paper anyone may see: not withdrawn from arXiv and not hidden by an admin. Every
    query that lists papers for readers filters on it."""
    return and_(papers.c.deleted == false(), ~is_hidden())


def is_hidden() -> ColumnElement[bool]:
    """Whether an admin hid the paper of the row (a column for reads of whole papers)."""
    return select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == papers.c.pk).exists()


def stamp_text(value: Any) -> Any:
    """A ``Stamp`` value as ISO 8601 UTC text, whichever way the backend returned it (a
    ``datetime`` from PostgreSQL, text from SQLite); None stays None."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return value
