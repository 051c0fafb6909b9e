"""Paper embeddings and the two ways of searching them, one per backend.

Each paper has at most one embedding, of title + abstract, stored with the model's name and
a hash of the text embedded so `index build` can tell stale ones. Vectors are float32,
L2-normalised numpy arrays: sqlite-vec's float32 blobs on SQLite, pgvector ``vector`` (of no
fixed dimension: models differ) on PostgreSQL (:class:`VectorColumn`). Storing, reading and
counting them is written once (:class:`EmbeddingStore`); the nearest-neighbour search is
not, and the store offers the backend's own as ``store.vectors``:

- :class:`BitCodeVectors` (SQLite): the sign bits of each vector (``code``) for a first
  stage held in memory by ``paperstand/index/vectors.py``, exact sqlite-vec distances for
  re-scoring its candidates;
- :class:`HnswVectors` (PostgreSQL): pgvector HNSW indexes, one per model and dimension.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    delete,
    exists,
    func,
    select,
    text,
    update,
)

from paperstand.store.dialect import index_names, insert, lock
from paperstand.store.part import Part
from paperstand.store.records import EmbeddingSource
from paperstand.store.schema import Key, metadata, papers

# Writers of embeddings serialise on this lock (PostgreSQL), so two workers never create a
# model's HNSW index at once.
EMBEDDINGS_LOCK = 0x656D_6265_6464  # "embedd"
CHUNK = 900


class VectorColumn(TypeDecorator[np.ndarray]):
    """A float32 vector: raw little-endian bytes on SQLite (sqlite-vec's layout), pgvector's
    ``vector`` on PostgreSQL; numpy arrays in and out on both."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Vector())
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        vector = np.ascontiguousarray(value, dtype=np.float32)
        return vector if dialect.name == "postgresql" else vector.tobytes()

    def process_result_value(self, value: Any, dialect: Dialect) -> np.ndarray | None:
        if value is None or isinstance(value, np.ndarray):
            return value
        if isinstance(value, bytes | memoryview):
            return np.frombuffer(value, dtype=np.float32)
        return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value, np.float32)


embeddings = Table(
    "embeddings",
    metadata,
    Column("pk", Key, ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("model", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("vector", VectorColumn, nullable=False),
    # Sign bits of vector (sqlite-vec's bit layout): BitCodeVectors' first stage, so SQLite
    # only; NULL on PostgreSQL, whose HNSW index never reads them (8 bytes of a static-64
    # row's 372, 56 of a MiniLM row's).
    Column("code", LargeBinary),
    # The embeddings_version that wrote the row: in-memory copies read only newer rows.
    Column("stamp", BigInteger),
)
Index("embeddings_model", embeddings.c.model)
Index("embeddings_stamp", embeddings.c.stamp)

embeddings_version = Table(
    "embeddings_version",
    metadata,
    # Bumped by every write to embeddings: processes holding vectors in memory reload on it.
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    # The version of the last deletion of embeddings: copies loaded before it read all again.
    Column("deleted", BigInteger, nullable=False, server_default="0"),
)

_LIVE = (embeddings.c.pk == papers.c.pk) & ~papers.c.deleted


def sign_bits(vector: np.ndarray) -> bytes:
    return np.packbits(np.asarray(vector) > 0, bitorder="little").tobytes()


class EmbeddingStore(Part):
    # Models whose vector index this process builds at the end of a bulk write
    # (:meth:`bulk_embeddings`), with the dimensions written meanwhile.
    _deferred: dict[str, set[int]] = {}

    def _prepare(self, conn: Connection, model: str, dims: set[int]) -> None:
        """What the backend's vector search needs before a model's vectors are written."""
        if self.dialect == "postgresql":
            if model in self._deferred:
                self._deferred[model] |= dims
                return
            for dim in dims:
                HnswVectors.ensure_index(conn, model, dim)

    @contextmanager
    def bulk_embeddings(self, model: str) -> Iterator[None]:
        """Around many :meth:`save_embeddings` of ``model`` (a whole corpus embedded at
        once). On PostgreSQL the model's HNSW indexes are dropped first and built once when
        the block ends (on error too; an empty block rebuilds them): entry by entry, every
        insert walks the graph to link itself in, many times the cost of one build over rows
        already stored. Meanwhile searches of the model compare every vector exactly
        (correct, slow). If the process dies inside the block, the model's next
        :meth:`save_embeddings` builds the index. SQLite keeps no index of vectors: nothing
        to defer."""
        if self.dialect != "postgresql":
            yield
            return
        prefix = HnswVectors.index_prefix(model)
        dropped = set()
        with self.write() as conn:
            lock(conn, EMBEDDINGS_LOCK)
            for name in sorted(index_names(conn)):
                if name.startswith(prefix):
                    conn.exec_driver_sql(f'DROP INDEX "{name}"')
                    dropped.add(int(name.removeprefix(prefix)))
        self._deferred = {**self._deferred, model: dropped}
        try:
            yield
        finally:
            dims = self._deferred[model]
            self._deferred = {m: d for m, d in self._deferred.items() if m != model}
            with self.write() as conn:
                lock(conn, EMBEDDINGS_LOCK)
                for dim in sorted(dims):
                    HnswVectors.build_index(conn, model, dim)

    def save_embeddings(self, model: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (paper id, content hash, vector) rows of ``model``, replacing the papers'
        previous embeddings, in one transaction. Ids not in the store are ignored."""
        if not rows:
            return
        statement = insert(self.dialect, embeddings).from_select(
            ["pk", "model", "content_hash", "vector", "code", "stamp"],
            select(
                papers.c.pk,
                bindparam("model", type_=Text),
                bindparam("hash", type_=Text),
                cast(bindparam("vector", type_=VectorColumn), VectorColumn),
                cast(bindparam("code", type_=LargeBinary), LargeBinary),
                bindparam("stamp", type_=BigInteger),
            ).where(papers.c.id == bindparam("paper_id")),
        )
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[embeddings.c.pk],
            set_={
                "model": new.model,
                "content_hash": new.content_hash,
                "vector": new.vector,
                "code": new.code,
                "stamp": new.stamp,
            },
        )
        with self.write() as conn:
            lock(conn, EMBEDDINGS_LOCK)
            self._prepare(conn, model, {len(v) for _, _, v in rows})
            # The version this transaction's bump makes: readers that saw the one before
            # read these rows as new.
            stamp = conn.execute(select(embeddings_version.c.version)).scalar_one() + 1
            codes = self.dialect != "postgresql"
            values = [
                {
                    "model": model,
                    "hash": h,
                    "vector": v,
                    "code": sign_bits(v) if codes else None,
                    "paper_id": pid,
                    "stamp": stamp,
                }
                for pid, h, v in rows
            ]
            conn.execute(statement, values)
            _bump(conn)

    def get_embeddings(self, model: str, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``model`` among ``paper_ids`` (others are left out)."""
        found: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(paper_ids))
        query = select(papers.c.id, embeddings.c.vector).join_from(
            embeddings, papers, embeddings.c.pk == papers.c.pk
        )
        with self.read() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                found.update(
                    conn.execute(
                        query.where(embeddings.c.model == model, papers.c.id.in_(chunk))
                    ).all()
                )
        return found

    def delete_embeddings(self, paper_ids: Sequence[str]) -> int:
        """Forget the embeddings of these papers; returns how many were deleted."""
        deleted = 0
        wanted = list(dict.fromkeys(paper_ids))
        with self.write() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                of_papers = select(papers.c.pk).where(papers.c.id.in_(chunk))
                deleted += conn.execute(
                    delete(embeddings).where(embeddings.c.pk.in_(of_papers))
                ).rowcount
            _bump(conn, deleting=True)
        return deleted

    def embedding_counts(self) -> dict[str, int]:
        """How many embeddings of papers not deleted each model has."""
        with self.read() as conn:
            rows = conn.execute(
                select(embeddings.c.model, func.count())
                .join_from(embeddings, papers, _LIVE)
                .group_by(embeddings.c.model)
            )
            return dict(rows.all())

    def iter_embedding_sources(self, batch_size: int = 1000) -> Iterator[list[EmbeddingSource]]:
        """Every paper not deleted, with the model and content hash of its stored embedding
        (None when it has none), in a stable order."""
        query = (
            select(
                papers.c.pk,
                papers.c.id,
                papers.c.title,
                papers.c.abstract,
                embeddings.c.model,
                embeddings.c.content_hash,
            )
            .join_from(papers, embeddings, embeddings.c.pk == papers.c.pk, isouter=True)
            .where(~papers.c.deleted)
            .order_by(papers.c.pk)
            .limit(batch_size)
        )
        last = 0
        while True:
            with self.read() as conn:
                rows = list(conn.execute(query.where(papers.c.pk > last)))
            if not rows:
                return
            last = rows[-1][0]
            yield [EmbeddingSource(*row[1:]) for row in rows]


def _bump(conn: Connection, *, deleting: bool = False) -> None:
    bumped = embeddings_version.c.version + 1
    values = {"version": bumped, "deleted": bumped} if deleting else {"version": bumped}
    conn.execute(update(embeddings_version).values(**values))


# Asked before every dense search: built once (see papers._REVISION).
_EMBEDDINGS_VERSION = select(embeddings_version.c.version, embeddings_version.c.deleted)


class BitCodeVectors(Part):
    """SQLite: what ``SQLiteVecIndex`` (``paperstand/index/vectors.py``) searches with."""

    def embeddings_version(self) -> tuple[int, int]:
        """(version, version of the last deletion). The version changes whenever any
        process writes embeddings: an in-memory copy then reads the rows stamped after the
        version it holds (``embedding_codes(since=...)``), or all of them again when
        embeddings were deleted since."""
        with self.read() as conn:
            row = conn.execute(_EMBEDDINGS_VERSION).one()
        return int(row[0]), int(row[1])

    def embedding_code_width(self, model: str) -> int:
        """Bytes of one sign-bit code of ``model`` (dimensions / 8; 0 without embeddings):
        says whether its vectors are small enough to hold, before reading them all."""
        with self.read() as conn:
            width = conn.execute(
                select(func.length(embeddings.c.code)).where(embeddings.c.model == model).limit(1)
            ).scalar()
        return int(width or 0)

    def embedding_codes(
        self, model: str, *, with_vectors: bool = False, since: int | None = None
    ) -> tuple[list[int], list[str], bytes, bytes | None]:
        """Row keys, paper ids, the concatenated sign-bit codes and (``with_vectors``) the
        concatenated float32 vectors of ``model``'s embeddings of papers not deleted, in
        key order: one scan. With ``since`` (an :meth:`embeddings_version`), only those
        written after that version (through the ``stamp`` index)."""
        vector = cast(embeddings.c.vector, LargeBinary) if with_vectors else None
        query = (
            select(embeddings.c.pk, papers.c.id, embeddings.c.code, vector)
            .join_from(embeddings, papers, _LIVE)
            .where(embeddings.c.model == model)
            .order_by(embeddings.c.pk)
        )
        if since is not None:
            query = query.where(embeddings.c.stamp > since)
        with self.read() as conn:
            rows = list(conn.execute(query))
        vectors = b"".join(r[3] for r in rows) if with_vectors else None
        return [r[0] for r in rows], [r[1] for r in rows], b"".join(r[2] for r in rows), vectors

    def embedding_distances(
        self, model: str, vector: np.ndarray, keys: Sequence[int]
    ) -> list[tuple[int, float]]:
        """Exact cosine distances (sqlite-vec) from ``vector`` to the embeddings of these
        row keys: the re-scoring stage after the bit-code first stage."""
        query_blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        distance = func.vec_distance_cosine(
            cast(embeddings.c.vector, LargeBinary), bindparam("q", query_blob, LargeBinary)
        )
        found: list[tuple[int, float]] = []
        wanted = list(keys)
        with self.read() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                found.extend(
                    conn.execute(
                        select(embeddings.c.pk, distance).where(
                            embeddings.c.model == model, embeddings.c.pk.in_(chunk)
                        )
                    )
                )
        return found


# Memory for building one HNSW index (PostgreSQL's maintenance_work_mem, for that build
# only): the graph must fit in it, or pgvector goes on building on disk, several times
# slower. Each vector took its 4 bytes a dimension plus about 520 bytes of graph (2.3M
# vectors of 64 dimensions filled 1.8 GB, docs/benchmarks.md); a fifth more is asked for,
# at least 64 MB (PostgreSQL's default) and at most HNSW_BUILD_MEMORY_MAX_MB, which a
# server dedicated to the database can spare beside its shared buffers.
HNSW_GRAPH_BYTES = 520
HNSW_BUILD_MEMORY_MAX_MB = 8192

# Candidates HNSW visits per vector search (at least twice the rows asked for) unless the
# caller asks for another number (PAPERSTAND_HNSW_EF_SEARCH): it returns at most this many,
# and recall against exact search rises with it, as does the time. On 118k real papers of the
# 64-d model, recall@10 for similar-paper queries was 0.96 at 100 and 0.985 at 200; for short
# text queries 0.75 and 0.85 (docs/benchmarks.md, benchmarks/hnsw_recall.py for 384-d). On
# 2.73 million distinct vectors, 0.96 and 0.72 at 200, 0.85 for text at 600.
HNSW_EF_SEARCH = 200
# Candidates each insert into the graph weighs when it picks its links (pgvector's default is
# 64). On 400,000 distinct 64-d vectors, 128 raised recall@10 at ef_search 200 from 0.83 to
# 0.87 for text queries and from 0.92 to 0.95 for papers at the same search time, for a build
# about 1.5 times as long; more links (m 24) gave the same recall with searches 40% slower
# (docs/benchmarks.md, "HNSW at 2.73M distinct vectors"). An index already built keeps its
# parameters until it is built again.
HNSW_EF_CONSTRUCTION = 128


class HnswVectors(Part):
    """PostgreSQL: pgvector HNSW indexes in the database, shared by every process."""

    @staticmethod
    def index_prefix(model: str) -> str:
        """The names of ``model``'s HNSW indexes start so (then the dimension)."""
        return f"embeddings_hnsw_{hashlib.sha1(model.encode()).hexdigest()[:10]}_"

    @staticmethod
    def build_index(conn: Connection, model: str, dim: int) -> None:
        """:meth:`ensure_index` over rows already stored, with the memory to build the
        graph of that many vectors in (``HNSW_GRAPH_BYTES``) for this transaction."""
        rows = conn.execute(
            select(func.count()).select_from(embeddings).where(embeddings.c.model == model)
        ).scalar_one()
        wanted = 1.2 * rows * (4 * dim + HNSW_GRAPH_BYTES) / 2**20
        megabytes = int(min(max(wanted, 64), HNSW_BUILD_MEMORY_MAX_MB))
        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{megabytes}MB'")
        HnswVectors.ensure_index(conn, model, dim)

    @staticmethod
    def ensure_index(conn: Connection, model: str, dim: int) -> None:
        """One HNSW index (cosine) per model and dimension, on the model's rows only; the
        caller holds EMBEDDINGS_LOCK, so two workers cannot create it at once."""
        name = f"{HnswVectors.index_prefix(model)}{dim}"
        if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
            return  # CREATE INDEX IF NOT EXISTS would still lock the table first
        literal = model.replace("'", "''")
        conn.exec_driver_sql(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON embeddings '
            f"USING hnsw ((vector::vector({int(dim)})) vector_cosine_ops) "
            f"WITH (m = 16, ef_construction = {HNSW_EF_CONSTRUCTION}) WHERE model = '{literal}'"
        )

    def has_embeddings(self, model: str) -> bool:
        """Whether any paper has an embedding of ``model`` (asked before every search)."""
        with self.read() as conn:
            return conn.execute(select(exists().where(embeddings.c.model == model))).scalar_one()

    def nearest_embeddings(
        self,
        model: str,
        vector: np.ndarray,
        limit: int,
        *,
        among: Sequence[str] | None = None,
        exact: bool = False,
        ef_search: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``limit`` papers (not deleted) whose ``model`` embeddings are nearest to
        ``vector``, as (paper id, cosine distance), nearest first. Uses the model's HNSW
        index, visiting ``ef_search`` candidates (``HNSW_EF_SEARCH`` if None), unless
        ``exact`` (every row: for measuring the index's recall) or ``among`` (only these
        papers, compared exactly)."""
        dim = int(len(vector))
        # The expression of the model's HNSW index, so the planner uses it.
        distance = f"e.vector::vector({dim}) <=> CAST(:q AS vector({dim}))"
        if among is None:
            sql = (
                f"SELECT p.id, n.distance FROM (SELECT pk, {distance} AS distance "
                "FROM embeddings e WHERE model = :model ORDER BY distance LIMIT :k) n "
                "JOIN papers p ON p.pk = n.pk WHERE NOT p.deleted ORDER BY n.distance"
            )
        else:
            sql = (
                f"SELECT p.id, {distance} AS distance FROM embeddings e "
                "JOIN papers p ON p.pk = e.pk WHERE e.model = :model "
                f"AND p.id = ANY(:among) AND NOT p.deleted ORDER BY ({distance}) + 0 LIMIT :k"
            )
            # "+ 0" keeps the planner off the HNSW index here: its approximate order,
            # filtered to ``among`` afterwards, can return fewer rows than asked for.
        query = text(sql).bindparams(bindparam("q", type_=VectorColumn))
        params = {"q": vector, "model": model, "k": limit, "among": list(among or ())}
        # HNSW returns at most ef_search rows; deleted papers are filtered after it.
        ef_search = max(ef_search or HNSW_EF_SEARCH, 2 * int(limit))
        with self.write() if exact else self.read() as conn:
            if exact:
                conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {ef_search}")
                conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
            else:
                # Two round trips, not four (no BEGIN, no COMMIT): the setting stays on
                # the pooled connection, and every search sets its own before it reads.
                conn.exec_driver_sql(f"SET hnsw.ef_search = {ef_search}")
            rows = conn.execute(query, params)
            return [(pid, float(d)) for pid, d in rows]
