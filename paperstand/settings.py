"""Settings read from the environment (``PAPERSTAND_*``, ``DATABASE_URL``) and the CLI.

One object, built once per process by the face that starts the work, then passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from paperstand.errors import InvalidInput


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
    # Search (index/fusion.py): how the full-text and dense rankings are fused ("score":
    # min-max normalised scores, weighted and summed; "rrf": reciprocal rank fusion of the
    # ranks), the RRF constant (also used by similar papers) and the weight of each ranked
    # list. The dense weight, unset, is each method's measured best: 0.5 for "score", 1 for
    # "rrf" (search.DENSE_WEIGHTS). Score fusion ranked SciFact and seed titles above RRF
    # (docs/benchmarks.md, "Fusion"). The full-text index lives in ``fulltext_path``.
    fusion_method: Literal["rrf", "score"] = "score"
    fusion_k: int = 60
    fusion_weight_fulltext: float = 1.0
    fusion_weight_dense: float | None = None
    # The dense model (index/embeddings.py AVAILABLE_MODELS). Changing it re-embeds every
    # paper on the next ``index build``.
    embedding_model: str = "minilm-l6-int8"
    # Where a server keeps a copy of the vectors it searches in memory (SQLite store, models
    # of at most 128 dimensions), so that a restart reads one file instead of reading and
    # clustering every vector again (about a minute of CPU at 2.7M papers): a folder, empty
    # for HOME/vectors, "off" for none.
    vector_cache: str = ""
    # PostgreSQL: candidates pgvector's HNSW search visits per query (its hnsw.ef_search; at
    # most 1000), empty for the store's 200. More finds more of the true nearest papers and
    # costs time: on 2.73 million papers, short text queries' recall@10 rose from 0.72 at 200
    # to 0.85 at 600 for about twice the vector search's time (docs/benchmarks.md).
    hnsw_ef_search: int | None = Field(default=None, ge=10, le=1000)
    # A pasted arXiv id that is not in the store is fetched from this arXiv API (one quick try)
    # unless this is off, e.g. on a machine without network.
    search_fetch_missing: bool = True
    arxiv_api_url: str = "https://export.arxiv.org/api/query"

    # Topic map (topics/): how many clusters a full fit makes; 0 picks about
    # sqrt(papers / 20), at most 60.
    topics_clusters: int = Field(default=0, ge=0, le=500)

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

    # Accounts (accounts/, web/auth.py). The key that signs session and CSRF cookies: when
    # empty, one is made and kept in HOME/secret_key (accounts/credentials.py).
    secret_key: SecretStr = SecretStr("")
    # Anyone may sign up; when off, only admins make accounts (``paperstand user create``).
    signup_open: bool = True
    session_days: int = Field(30, ge=1)
    reset_link_minutes: int = Field(60, ge=1)
    # Cookies are always marked Secure when this is on, else when the request came over
    # HTTPS. X-Forwarded-Proto and X-Forwarded-For are believed only from these addresses
    # (comma-separated; "*" for any), e.g. the reverse proxy in front of paperstand.
    cookie_secure: bool = False
    trusted_proxies: str = "127.0.0.1"
    # Rate limits (accounts/ratelimit.py), in the notation of the ``limits`` package
    # ("10/minute", several separated by ";"; empty: no limit). Each named limit counts per
    # account (``rate_NAME``) and per client address (``rate_NAME_ip``).
    rate_signup_ip: str = "10/hour"
    rate_login: str = "10/minute;50/day"
    rate_login_ip: str = "30/minute"
    rate_reset: str = "3/hour"
    rate_reset_ip: str = "10/hour"
    rate_subscribe: str = "5/hour"
    rate_subscribe_ip: str = "10/hour"
    rate_submit: str = "20/hour"
    rate_submit_ip: str = "60/hour"
    rate_vote: str = "60/minute"
    rate_vote_ip: str = "600/minute"
    rate_comment: str = "10/minute;100/day"
    rate_comment_ip: str = "30/minute"
    rate_follow: str = "60/minute"
    rate_follow_ip: str = "600/minute"
    rate_claim: str = "20/hour"
    rate_claim_ip: str = "60/hour"
    # Where the counters live: "store" (the database, shared by every worker process and
    # machine) or any storage URI of the ``limits`` package, e.g. "memory://" (one process).
    rate_storage: str = "store"

    # Mail (mail/smtp.py): the SMTP server; empty host means mail is not configured.
    smtp_host: str = ""
    smtp_port: int = Field(0, ge=0, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    mail_from: str = ""
    # The address users reach the site at, for links in mail (no trailing slash needed).
    base_url: str = "http://127.0.0.1:8000"

    # Digests (digest/): hours a confirmation link stays valid; the weekday (0 = Monday) whose
    # daily run also sends the weekly digests of its ISO week; the UTC hour after which the
    # schedule ingests and sends a day's digests; how far back it catches up missed days.
    digest_confirm_hours: int = Field(48, ge=1)
    digest_weekly_day: int = Field(4, ge=0, le=6)
    digest_hour: int = Field(7, ge=0, le=23)
    digest_catch_up_days: int = Field(7, ge=1, le=60)
    # Sending: messages per second at most (0: as fast as the server takes them), tries of a
    # message whose server answers "try later" (4xx, a dropped connection), the first pause
    # between them (doubling), and the lease of a claimed ledger row.
    digest_rate: float = Field(0.0, ge=0)
    digest_tries: int = Field(4, ge=1)
    digest_backoff: float = Field(2.0, ge=0)
    digest_lease: float = Field(600.0, ge=1)

    @property
    def sqlite_path(self) -> Path:
        return self.home / "paperstand.sqlite3"

    @property
    def fulltext_path(self) -> Path:
        return self.home / "fulltext"

    @property
    def vector_cache_path(self) -> Path | None:
        if self.vector_cache == "off":
            return None
        return Path(self.vector_cache) if self.vector_cache else self.home / "vectors"

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


def load_settings(**overrides: Any) -> Settings:
    """The settings of the environment with ``overrides`` (the CLI's options); a value that
    does not fit its setting is one :class:`InvalidInput` naming its variable, so a typo in
    ``PAPERSTAND_*`` stops a command with one line instead of a validation traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            variable = name if name.isupper() else f"PAPERSTAND_{name.upper()}"
            problems.append(f"{variable}={error.get('input')!r}: {error['msg']}")
        raise InvalidInput("bad setting " + "; ".join(problems)) from None
