"""Fetching remote responses for the network sources: patient, bounded, and polite.

Remote services fail in ordinary ways (a dropped connection, a 502 from a proxy, arXiv's
``503 Retry-After`` when it wants harvesters to slow down), so every request is retried with
exponential backoff before paperstand gives up with a one-line :class:`FetchError`. A response
is read in chunks and refused past ``max_bytes``, so a runaway payload cannot exhaust memory.
The sources get the whole body back: the pages they read (an OAI-PMH page, an Atom feed, one
day of Hugging Face papers) are small, and parsing from bytes keeps the parsers simple.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx

from paperstand.errors import FetchError, SourceError

if TYPE_CHECKING:
    from paperstand.settings import Settings

USER_AGENT = "paperstand/0.1"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes


@dataclass
class Fetcher:
    """GET with retries. One per run: it keeps the connection pool and the pacing clock.

    ``retries`` counts attempts after the first; waits double from ``backoff`` seconds. A
    ``Retry-After`` header is obeyed, but never for longer than ``max_retry_after`` seconds.
    ``min_interval`` spaces out the requests of this one fetcher. ``pace``, when given,
    spaces out the requests of every fetcher sharing it, in any thread or process: it is
    called before each request, reserves the request's slot and returns how many seconds to
    wait for it (arXiv asks for three seconds between requests from one installation; the
    ingest service passes a pacer backed by the store).
    """

    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_retry_after: float = 120.0
    max_bytes: int = 256 * 1024 * 1024
    min_interval: float = 0.0
    pace: Callable[[], float] | None = None
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    _last_request: float = field(default=0.0, init=False, repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        min_interval: float = 0.0,
        pace: Callable[[], float] | None = None,
    ) -> Fetcher:
        return cls(
            timeout=settings.http_timeout,
            retries=settings.http_retries,
            backoff=settings.http_backoff,
            max_retry_after=settings.http_max_retry_after,
            min_interval=min_interval,
            pace=pace,
        )

    def get(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        *,
        accept: Collection[int] = (200,),
    ) -> Response:
        """The response to ``GET url?params`` once its status is in ``accept``.

        Connection failures and 429/5xx statuses are retried; any other status, or running out
        of retries, raises :class:`FetchError`; a body over ``max_bytes`` raises
        :class:`SourceError`.
        """
        shown = _shown(url, params)
        problem = ""
        wait = 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(wait)
            self._pace()
            wait = self.backoff * 2**attempt
            try:
                response = self._get_once(url, params, shown)
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout:g}s"
                continue
            except httpx.TransportError as exc:
                problem = _transport_problem(exc)
                continue
            if response.status in accept:
                return response
            if response.status not in _RETRY_STATUSES:
                raise FetchError(f"{shown}: HTTP {response.status}{_excerpt(response.content)}")
            problem = f"HTTP {response.status}"
            retry_after = _retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                wait = min(retry_after, self.max_retry_after)
        raise FetchError(f"{shown}: {problem} (gave up after {self.retries + 1} attempts)")

    def _get_once(self, url: str, params: Mapping[str, str | int] | None, shown: str) -> Response:
        with self._http().stream("GET", url, params=params) as reply:
            declared = reply.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_big(shown)
            body = bytearray()
            for chunk in reply.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_big(shown)
            return Response(str(reply.url), reply.status_code, reply.headers, bytes(body))

    def _too_big(self, shown: str) -> SourceError:
        return SourceError(f"{shown}: response larger than {self.max_bytes:,} bytes, refused")

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=True,
            )
        return self._client

    def _pace(self) -> None:
        if self.pace is not None:
            pause = self.pace()
            if pause > 0:
                time.sleep(pause)
        if self.min_interval > 0:
            pause = self._last_request + self.min_interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self._last_request = time.monotonic()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _transport_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection dropped before the response was complete"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _shown(url: str, params: Mapping[str, str | int] | None) -> str:
    return str(httpx.URL(url, params=params)) if params else url


def _excerpt(content: bytes) -> str:
    """A short, one-line hint of what an error page said."""
    text = " ".join(content[:200].decode("utf-8", "replace").split())
    return f" ({text})" if text else ""
