"""Schema migrations on both backends: stores made by paperstand 0.1 (its SQL migration
scripts, kept in ``tests/data/store/release-0.1``) are upgraded in place, new stores get the
newest schema, and a store newer than the code is refused."""

from __future__ import annotations

import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
import sqlean
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from paperstand.errors import StoreError
from paperstand.models import Paper, Window
from paperstand.store import open_store
from paperstand.store.engine import BASELINE, _with
from paperstand.store.schema import metadata

RELEASE_0_1 = Path(__file__).resolve().parents[1] / "data" / "store" / "release-0.1"
PAPERSTAND = str(Path(sys.executable).parent / "paperstand")

# One paper as paperstand 0.1 wrote it, in the columns both of its backends share.
LEGACY_PAPER = (
    "INSERT INTO papers (id, version, title, authors, abstract, categories, primary_category,"
    " listed, extra) VALUES ('2401.00001', 2, 'Old title', '[\"Zoë Ångström\", \"Li Wei\"]',"
    " 'An abstract.', '[\"cs.LG\", \"stat.ML\"]', 'cs.LG', '2024-01-02', '{}')"
)


def scripts(dialect: str) -> list[str]:
    return [path.read_text() for path in sorted((RELEASE_0_1 / dialect).glob("*.sql"))]


def db(url: str, command: str) -> subprocess.CompletedProcess[str]:
    """``paperstand --database-url URL db COMMAND``, as an operator runs it."""
    return subprocess.run(
        [PAPERSTAND, "--database-url", url, "db", command],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def legacy_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a store made by paperstand 0.1, holding one paper, one job and one
    schedule."""
    if request.param == "sqlite":
        path = tmp_path / "old.sqlite3"
        conn = sqlean.connect(path, isolation_level=None)
        conn.execute("PRAGMA page_size = 16384")
        conn.execute("PRAGMA journal_mode = WAL")
        for number, script in enumerate(scripts("sqlite"), start=1):
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        conn.execute(
            LEGACY_PAPER.replace("(id,", "(pk, rev, id,").replace("VALUES (", "VALUES (1, 1, ")
        )
        conn.execute(  # 0.1 kept its full-text index in step itself
            "INSERT INTO papers_fts (rowid, title, abstract, authors) "
            "SELECT pk, title, abstract, authors FROM papers"
        )
        conn.execute(
            "INSERT INTO jobs (kind, params, run_after, created_at) VALUES "
            "('ingest', '{\"n\": 1}', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')"
        )
        conn.execute("INSERT INTO schedules (name, kind, every_seconds) VALUES ('s', 'k', 60)")
        conn.close()
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pgserver_uri")
    name = f"legacy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = server.replace("/paperstand?", f"/{name}?")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)")
        for number, script in enumerate(scripts("postgres"), start=1):
            conn.execute(script)  # type: ignore[arg-type] - trusted test data
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        conn.execute(LEGACY_PAPER)
        conn.execute("INSERT INTO jobs (kind, params) VALUES ('ingest', '{\"n\": 1}')")
        conn.execute("INSERT INTO schedules (name, kind, every_seconds) VALUES ('s', 'k', 60)")
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_db_migrate_upgrades_a_store_of_release_0_1_in_place(legacy_url: str) -> None:
    result = db(legacy_url, "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("schema version ")
    with open_store(legacy_url) as store:
        old = store.get_paper("2401.00001")
        assert old is not None
        assert old.title == "Old title" and old.authors == ["Zoë Ångström", "Li Wei"]
        assert old.categories == ["cs.LG", "stat.ML"]
        assert [p.id for p in store.papers_by_author("Li Wei", limit=5)] == ["2401.00001"]
        assert [p.id for p in store.papers_in_category("stat.ML", limit=5)] == ["2401.00001"]
        assert [(j.kind, j.params) for j in store.list_jobs()] == [("ingest", {"n": 1})]
        assert [s.name for s in store.list_schedules()] == ["s"]
        before = store.revision()
        result = store.upsert_papers(
            [Paper(id="2401.00001", version=3, title="New title"), Paper(id="2401.00002")]
        )
        assert (result.added, result.updated) == (1, 1)
        assert store.get_paper("2401.00001").title == "New title"  # type: ignore[union-attr]
        assert store.revision() > before
        assert store.enqueue_job("ingest", {}) is not None
        # The same tables, columns and indexes as a new store (0.1's declared column types
        # stay: SQLite's are affinities only). 0.1's version marker stays too, so that 0.1
        # refuses the upgraded store.
        structural = {d for d in schema_differences(store) if d[0] in STRUCTURE}
        assert structural <= {("remove_table", "schema_version")}


# Papers a store of schema 0012 (the release before the lean author and category rows)
# holds: days, no day, a name twice on one paper, a deleted paper, accents.
RELEASE_PAPERS = [
    ("2401.00002", '["Li Wei", "LI WEI", "Ada Byron"]', '["cs.LG"]', "'2024-01-03'", "false"),
    ("2401.00003", '["Li  Wei"]', '["stat.ML", "cs.LG"]', "NULL", "false"),
    ("2401.00004", '["Zoe Angstrom"]', '["cs.LG"]', "'2023-12-31'", "false"),
    ("2401.00005", '["Li Wei"]', '["cs.LG"]', "'2024-01-05'", "true"),
]


def test_db_migrate_rebuilds_the_author_and_category_rows_of_release_0012(
    legacy_url: str, tmp_path: Path
) -> None:
    """A store at 0012 whose author and category rows were written in that release's
    layout: after ``db migrate`` (and ``db compact``) its author and category pages (whole,
    and page by page) read the same papers as a store that loaded the same papers fresh."""
    with open_store(legacy_url, migrate=False) as store, store.engine.begin() as conn:
        command.stamp(_with(conn), BASELINE)
        command.upgrade(_with(conn), "0012")
        for pid, authors, categories, listed, deleted in RELEASE_PAPERS:
            conn.exec_driver_sql(
                f"INSERT INTO papers (pk, rev, id, version, title, authors, categories, listed,"
                f" extra, deleted) VALUES ({pid[-1]}, {pid[-1]}, '{pid}', 1, 't', '{authors}',"
                f" '{categories}', {listed}, '{{}}', {deleted})"
            )
        # The rows as release 0012 kept them, by the writer of that layout (revision 0003's).
        conn.exec_driver_sql("DELETE FROM paper_authors")
        conn.exec_driver_sql("DELETE FROM paper_categories")
        ScriptDirectory.from_config(_with(conn)).get_revision("0003").module._backfill(conn)
        assert conn.exec_driver_sql("SELECT count(*) FROM paper_authors").scalar() == 7
    result = db(legacy_url, "migrate")
    assert result.returncode == 0, result.stderr
    # The old tables' pages go back to the disk (SQLite keeps them until a VACUUM).
    compacted = db(legacy_url, "compact")
    assert compacted.returncode == 0, compacted.stderr
    freed = int(compacted.stdout.split()[1].replace(",", ""))
    assert (freed > 0) == legacy_url.startswith("sqlite:"), compacted.stdout
    with (
        open_store(legacy_url) as migrated,
        open_store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}") as fresh,
    ):
        fresh.upsert_papers([p for batch in migrated.iter_papers() for p in batch])
        for name in ("li wei", "Ada Byron", "zoë ångström", "nobody"):
            assert pages(migrated.author_window, name) == pages(fresh.author_window, name)
        for category in ("cs.LG", "stat.ML", "math.AG"):
            assert pages(migrated.category_window, category) == pages(
                fresh.category_window, category
            )
        assert ids(migrated.papers_by_author("Li Wei", limit=9)) == [
            "2401.00002",
            "2401.00001",
            "2401.00003",
        ]
        assert ids(migrated.papers_in_category("cs.LG", limit=9)) == [
            "2401.00002",
            "2401.00001",
            "2401.00004",
            "2401.00003",
        ]


# Abstracts of a store of schema 0013 (plain text on both backends): long, unicode, short.
OLD_ABSTRACTS = {
    "2401.00011": "A long abstract with $\\alpha$, Zoë and ∑, written before 0014. " * 20,
    "2401.00012": "Short.",
    "2401.00013": "",
    "2401.00014": "要旨" * 150,
}


def test_db_migrate_keeps_the_abstracts_of_release_0013_and_packs_them_when_written(
    legacy_url: str,
) -> None:
    """A store at 0013 holds its abstracts as text: after ``db migrate`` they read back
    whole (PostgreSQL's long ones deflated by the migration, SQLite's left as text), an
    abstract written again is deflated, and on PostgreSQL a downgrade to 0013 gives text
    back, inflated."""
    insert = sa.text("INSERT INTO papers (pk, rev, id, abstract) VALUES (:pk, :pk, :id, :a)")
    with open_store(legacy_url, migrate=False) as store, store.engine.begin() as conn:
        command.stamp(_with(conn), BASELINE)
        command.upgrade(_with(conn), "0013")
        rows = [{"pk": 10 + n, "id": i, "a": a} for n, (i, a) in enumerate(OLD_ABSTRACTS.items())]
        conn.execute(insert, rows)
    result = db(legacy_url, "migrate")
    assert result.returncode == 0, result.stderr
    expected = {"2401.00001": "An abstract.", **OLD_ABSTRACTS}
    long = OLD_ABSTRACTS["2401.00011"]
    with open_store(legacy_url) as store:
        assert {p.id: p.abstract for b in store.iter_papers() for p in b} == expected
        assert not [d for d in schema_differences(store) if d[1:] == ("papers", "abstract")]
        store.upsert_papers([Paper(id="2401.00012", abstract=long + " Revised.")])
        expected["2401.00012"] = long + " Revised."
        assert {p.id: p.abstract for p in store.get_papers(list(expected))} == expected
        with store.engine.connect() as conn:
            raw = dict(conn.execute(sa.text("SELECT id, abstract FROM papers")).all())
        assert isinstance(raw["2401.00012"], bytes)  # deflated (SQLite: a blob beside text)
        assert len(raw["2401.00012"]) < len(long) / 2
        if store.dialect != "postgresql":
            return
        # Deflated by the migration; short ones are their UTF-8 bytes.
        assert raw["2401.00011"][:1] == b"\x00" and len(raw["2401.00011"]) < len(long) / 2
        assert raw["2401.00001"] == b"An abstract." and raw["2401.00013"] == b""
        with store.engine.begin() as conn:
            command.downgrade(_with(conn), "0013")
        with store.engine.connect() as conn:
            kind = conn.execute(sa.text("SELECT pg_typeof(abstract)::text FROM papers")).scalar()
            text = dict(conn.execute(sa.text("SELECT id, abstract FROM papers")).all())
        assert kind == "text" and text == expected


def ids(papers: list[Paper]) -> list[str]:
    return [p.id for p in papers]


def pages(window: Callable[..., Window], value: str) -> list[list[str]]:
    """Every page of one paper, older then newer again, as ids."""
    found, cursor = [], None
    while True:
        page = window(value, limit=1, before=cursor)
        found.append(ids(page.papers))
        if page.older is None:
            break
        cursor = page.older
    while cursor is not None:
        page = window(value, limit=1, after=cursor)
        found.append(ids(page.papers))
        cursor = page.newer
    return found


def test_opening_a_store_of_release_0_1_upgrades_it_too(legacy_url: str) -> None:
    with open_store(legacy_url) as store:
        version = store.migrate()
        assert store.migrate() == version
        assert store.stats()["papers"] == 1


def test_a_store_newer_than_the_code_is_refused(legacy_url: str) -> None:
    open_store(legacy_url).close()
    if legacy_url.startswith("sqlite:"):
        conn = sqlean.connect(legacy_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.close()
    else:
        with psycopg.connect(legacy_url) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="newer than this paperstand"):
        open_store(legacy_url)


def test_a_new_store_starts_at_the_newest_schema(store) -> None:  # type: ignore[no-untyped-def]
    version = store.migrate()
    assert store.migrate() == version
    assert version >= 1


# SQLite cannot relax NOT NULL in place; only PostgreSQL stores may lack the bit codes.
KNOWN = {("modify_nullable", "embeddings", "code")}
STRUCTURE = {
    f"{verb}_{what}" for verb in ("add", "remove") for what in ("table", "column", "index")
}


def test_the_migrated_schema_is_the_described_one(store) -> None:  # type: ignore[no-untyped-def]
    """Alembic's comparison of the migrated database with the tables on the metadata finds
    nothing missing, extra or of another type: a revision forgotten or mistyped fails here."""
    assert set(schema_differences(store)) <= KNOWN


def schema_differences(store) -> list[tuple]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # expression indexes cannot be reflected on SQLite
        warnings.simplefilter("ignore")
        with store.engine.connect() as conn:
            found = compare_metadata(MigrationContext.configure(conn), metadata)
    flat = [d for item in found for d in (item if isinstance(item, list) else [item])]
    # HNSW indexes are made per embedding model as its first vectors are saved.
    flat = [d for d in flat if not str(getattr(d[1], "name", "")).startswith("embeddings_hnsw_")]
    return [
        (d[0], d[2], d[3]) if d[0].startswith("modify_") else (d[0], getattr(d[1], "name", d[1]))
        for d in flat
    ]


# Author and category rows as a store of schema 0014 kept them, (key, day number, paper id),
# for papers inserted with pk 20 + the id's last digit; and rows a cut-short bulk load staged.
ROWS_0014 = {
    "paper_authors": [("li wei", 19725, "2401.00021"), ("li wei", 19725, "2401.00022")],
    "paper_categories": [("cs.LG", 19725, "2401.00021"), ("cs.LG", 19725, "2401.00022")],
}
STAGED_0014 = {"paper_authors": [("ada byron", -719162, "2401.00023")], "paper_categories": []}


def test_db_migrate_keys_the_author_and_category_rows_of_release_0014_by_pk(
    legacy_url: str,
) -> None:
    """Every row of 0014's tables (paper id in the key) is kept, keyed by its paper's pk,
    rows a bulk load staged are moved into their table, the schema is a new store's, and a
    downgrade to 0014 gives the same rows back with their ids."""
    key = {"paper_authors": "name_key", "paper_categories": "category"}
    with open_store(legacy_url, migrate=False) as store, store.engine.begin() as conn:
        command.stamp(_with(conn), BASELINE)
        command.upgrade(_with(conn), "0014")
        for pid in ("2401.00021", "2401.00022", "2401.00023"):
            conn.exec_driver_sql(
                f"INSERT INTO papers (pk, rev, id, version, title, authors, categories, extra,"
                f" deleted) VALUES (2{pid[-1]}, 2{pid[-1]}, '{pid}', 1, 't', '[]', '[]', '{{}}',"
                " false)"
            )
        for table, rows in ROWS_0014.items():
            for value, day, pid in rows:
                conn.exec_driver_sql(
                    f"INSERT INTO {table} ({key[table]}, day, paper_id, pk)"
                    f" VALUES ('{value}', {day}, '{pid}', 2{pid[-1]})"
                )
            for value, day, pid in STAGED_0014[table]:
                conn.exec_driver_sql(
                    f"INSERT INTO {table}_load (pk, {key[table]}, day, paper_id)"
                    f" VALUES (2{pid[-1]}, '{value}', {day}, '{pid}')"
                )

    def rows(conn: sa.Connection, table: str, columns: str) -> set[tuple]:
        return set(conn.exec_driver_sql(f"SELECT {columns} FROM {table}").all())

    with open_store(legacy_url, migrate=False) as store, store.engine.connect() as conn:
        before = {
            t: rows(conn, f"{t} JOIN papers USING (pk)", f"{k}, day, id, pk")
            for t, k in key.items()
        }
    assert {r[2] for r in before["paper_authors"]} == {"2401.00001", "2401.00021", "2401.00022"}
    result = db(legacy_url, "migrate")
    assert result.returncode == 0, result.stderr
    with open_store(legacy_url) as store:
        staged = {(v, d, pid, 23) for v, d, pid in STAGED_0014["paper_authors"]}
        with store.engine.connect() as conn:
            for table, k in key.items():
                kept = before[table] | (staged if table == "paper_authors" else set())
                assert rows(conn, table, f"{k}, day, pk") == {(v, d, pk) for v, d, _, pk in kept}
                assert rows(conn, f"{table}_load", "*") == set()
        assert not [d for d in schema_differences(store) if "paper_" in str(d)]
        assert [p.id for p in store.papers_by_author("Li Wei", limit=9)] == [
            "2401.00022",
            "2401.00021",
            "2401.00001",
        ]
        assert [p.id for p in store.papers_by_author("Ada Byron", limit=9)] == ["2401.00023"]
        with store.engine.begin() as conn:
            command.downgrade(_with(conn), "0014")
        with store.engine.connect() as conn:
            for table, k in key.items():
                kept = before[table] | (staged if table == "paper_authors" else set())
                assert rows(conn, table, f"{k}, day, paper_id, pk") == kept
