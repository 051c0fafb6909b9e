"""What accounts cost per request: a password hash, a session or API-token lookup, and a
rate-limit hit in the store (SQLite and, with --postgres, PostgreSQL) against the same hit in
process memory.

Each figure is operations per CPU-second of this process (``time.process_time``) as well as
per wall-clock second: on a shared, loaded machine the first is the steadier. The last line
is one JSON object.

    .venv/bin/python benchmarks/accounts.py [--count 2000] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from paperstand.accounts import credentials
from paperstand.accounts.service import Accounts
from paperstand.ratelimit import Limiter
from paperstand.settings import Settings
from paperstand.store import Store, open_store


def rate(label: str, count: int, action: Callable[[int], object]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        action(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures = {"per_s": round(count / wall, 1), "per_cpu_s": round(count / max(cpu, 1e-9), 1)}
    print(f"{label:<38} {figures['per_s']:>9.0f}/s  {figures['per_cpu_s']:>9.0f}/CPU-s")
    return figures


def measure(store: Store, home: Path, count: int, backend: str) -> dict[str, dict[str, float]]:
    settings = Settings(home=home, rate_vote="1000000/hour", rate_vote_ip="1000000/hour")
    accounts = Accounts(store, settings)
    user = accounts.create(f"bench-{backend}@lab.example")
    session = accounts._start_session(user)
    _, token = accounts.new_api_token(user, "bench")
    in_store = Limiter(settings, store)
    in_memory = Limiter(settings.model_copy(update={"rate_storage": "memory://"}), store)
    return {
        "session_lookup": rate(
            f"{backend}: session lookup", count, lambda _: accounts.user_for_session(session)
        ),
        "token_lookup": rate(
            f"{backend}: API token lookup", count, lambda _: accounts.user_for_api_token(token)
        ),
        "rate_hit_store": rate(
            f"{backend}: rate-limit hit (account + ip)",
            count,
            lambda i: in_store.hit("vote", account=str(i % 200), address="127.0.0.1"),
        ),
        "rate_hit_memory": rate(
            "memory:// rate-limit hit (account + ip)",
            count,
            lambda i: in_memory.hit("vote", account=str(i % 200), address="127.0.0.1"),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL (pgserver)")
    args = parser.parse_args()

    summary: dict[str, object] = {}
    hashes = rate("argon2id password hash", 5, lambda _: credentials.hash_password("x" * 12))
    summary["password_hash_per_cpu_s"] = hashes["per_cpu_s"]
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        with open_store(f"sqlite:///{home / 'paperstand.sqlite3'}") as store:
            summary["sqlite"] = measure(store, home, args.count, "sqlite")
        if args.postgres:
            import pgserver

            server = pgserver.get_server(home / "pg", cleanup_mode="stop")
            try:
                with open_store(server.get_uri()) as store:
                    summary["postgres"] = measure(store, home, args.count, "postgres")
            finally:
                server.cleanup()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
