"""Settings read from the environment (``PAPERSTAND_*``, ``DATABASE_URL``) and the CLI.

One object, built once per process by the face that starts the work, then passed down.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("paperstand", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERSTAND_", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default_factory=default_home)
    # Empty means the embedded SQLite store in ``home``. Read from DATABASE_URL as well,
    # the name every PostgreSQL host already sets.
    database_url: str = Field(
        default="", validation_alias=AliasChoices("DATABASE_URL", "PAPERSTAND_DATABASE_URL")
    )
    # Network sources (sources/http.py): seconds per request, retries after the first try,
    # first backoff wait (doubling), longest Retry-After obeyed, and the pause between two
    # requests to arXiv, which asks harvesters for three seconds.
    http_timeout: float = 30.0
    http_retries: int = 4
    http_backoff: float = 1.0
    http_max_retry_after: float = 120.0
    arxiv_delay: float = 3.0

    @property
    def sqlite_path(self) -> Path:
        return self.home / "paperstand.sqlite3"

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"
