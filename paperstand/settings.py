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
    # Search (index/fusion.py): reciprocal rank fusion constant and the weight of each ranked
    # list; the full-text index lives in ``fulltext_path``.
    fusion_k: int = 60
    fusion_weight_fulltext: float = 1.0
    fusion_weight_dense: float = 1.0
    # The dense model (index/embeddings.py AVAILABLE_MODELS). Changing it re-embeds every
    # paper on the next ``index build``.
    embedding_model: str = "minilm-l6-int8"
    # A pasted arXiv id that is not in the store is fetched from this arXiv API (one quick try)
    # unless this is off, e.g. on a machine without network.
    search_fetch_missing: bool = True
    arxiv_api_url: str = "https://export.arxiv.org/api/query"

    # Background jobs (jobs.py): modules that register more job kinds, comma-separated.
    job_modules: str = ""

    # Community (community.py): a paper may be submitted while at most this many days old
    # (counted from its first arXiv version to the day of submission), by each account at
    # most this many times a day (UTC days).
    submission_max_age_days: int = Field(14, ge=0)
    submission_daily_quota: int = Field(3, ge=0)
    # Trending (trending.py): score = (w_local * local votes + w_hf * Hugging Face upvotes
    # + w_stars * GitHub stars gained + 1) / (age_days + 2) ** gravity, over the curated
    # lists of the last ``trending_days`` days.
    trending_days: int = Field(14, ge=1)
    trending_gravity: float = Field(1.5, ge=0.0)
    trending_weight_local: float = Field(1.0, ge=0.0)
    trending_weight_hf: float = Field(1.0, ge=0.0)
    trending_weight_stars: float = Field(0.1, ge=0.0)

    @property
    def sqlite_path(self) -> Path:
        return self.home / "paperstand.sqlite3"

    @property
    def fulltext_path(self) -> Path:
        return self.home / "fulltext"

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"
