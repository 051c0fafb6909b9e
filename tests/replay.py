"""A real local HTTP server that replays the recorded arXiv and Hugging Face responses.

The recordings live in ``tests/data``: ``arxiv-oai`` and ``arxiv-atom`` (each with an
``index.json`` of request URLs, statuses and files) and ``hf/responses/DATE.json`` (whole
``/api/daily_papers?date=DATE`` answers). Requests are matched on path plus query parameters
(empty ones ignored, order ignored), so the sources under test talk real HTTP to it.

Tests can also add routes and queue faults in front of a route, each used once, in order:
``"503"`` (arXiv's recorded 503 page with a short ``Retry-After``), ``"drop"`` (the
connection closes halfway through the body) and ``"truncate"`` (a complete response whose
body is cut in half).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

OAI_PATH = "/oai2"
ATOM_PATH = "/api/query"
HF_PATH = "/api/daily_papers"
FAULTS = ("503", "drop", "truncate")
# arXiv's real "Retry after 10 seconds" page, recorded with ``Retry-After: 10``.
OAI_503_PAGE = "paperhive__listrecords---should-list-identifiers-from-arxiv__0_503.html"

Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Reply:
    body: bytes
    status: int = 200
    content_type: str = "text/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def route_key(path: str, params: Mapping[str, object]) -> Key:
    return path, tuple(sorted((k, str(v)) for k, v in params.items() if str(v) != ""))


class Replay:
    """The server: ``url`` is its base URL (``http://127.0.0.1:PORT``)."""

    def __init__(self, data: Path, retry_after: int = 1) -> None:
        self.data = data
        self.retry_after = retry_after
        self.routes: dict[Key, Reply] = {}
        self.faults: dict[Key, deque[str]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()
        self._load_oai()
        self._load_atom()
        self._load_hf()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for it, at the end of every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def oai_url(self) -> str:
        return self.url + OAI_PATH

    @property
    def atom_url(self) -> str:
        return self.url + ATOM_PATH

    def start(self) -> Replay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- set-up -------------------------------------------------------------------------

    def add(self, path: str, params: Mapping[str, object], reply: Reply) -> None:
        self.routes[route_key(path, params)] = reply

    def add_oai(self, params: Mapping[str, object], file_name: str) -> None:
        """Answer an OAI-PMH request with one of the recorded files."""
        self.add(OAI_PATH, params, Reply(self.oai_file(file_name)))

    def oai_file(self, file_name: str) -> bytes:
        return (self.data / "arxiv-oai" / file_name).read_bytes()

    def inject(self, path: str, params: Mapping[str, object], *faults: str) -> None:
        """Queue faults for the next requests of this route (the route answers afterwards)."""
        assert all(f in FAULTS for f in faults), faults
        with self._lock:
            self.faults[route_key(path, params)].extend(faults)

    def asked(self, path: str) -> list[dict[str, str]]:
        """Query parameters of every request made to ``path``, in order."""
        return [params for p, params in self.requests if p == path]

    def _load_oai(self) -> None:
        folder = self.data / "arxiv-oai"
        for entry in json.loads((folder / "index.json").read_text()):
            if entry.get("url"):
                if entry["status"] != 200:
                    continue  # the recorded 503 is served by the "503" fault instead
                parts = urlsplit(entry["url"])
                params = dict(parse_qsl(parts.query))
            else:
                params = _request_params(entry["request"])
                if "verb" not in params:
                    continue  # error pages recorded without their request: tests add them
            self.add_oai(params, entry["file"])

    def _load_atom(self) -> None:
        folder = self.data / "arxiv-atom"
        for entry in json.loads((folder / "index.json").read_text()):
            parts = urlsplit(entry["url"])
            body = (folder / entry["file"]).read_bytes()
            reply = Reply(body, entry["status_code"], "application/atom+xml; charset=utf-8")
            self.add(parts.path, dict(parse_qsl(parts.query)), reply)

    def _load_hf(self) -> None:
        for path in sorted((self.data / "hf" / "responses").glob("*.json")):
            reply = Reply(path.read_bytes(), content_type="application/json")
            self.add(HF_PATH, {"date": path.stem}, reply)

    # --- serving ------------------------------------------------------------------------

    def answer(self, path: str, params: dict[str, str]) -> tuple[Reply, str | None]:
        key = route_key(path, params)
        with self._lock:
            self.requests.append((path, params))
            queued = self.faults.get(key)
            fault = queued.popleft() if queued else None
        if fault == "503":
            body = self.oai_file(OAI_503_PAGE)
            headers = {"Retry-After": str(self.retry_after)}
            return Reply(body, 503, "text/html", headers), None
        reply = self.routes.get(key)
        if reply is None:
            return Reply(f"no recording for {key}".encode(), 404, "text/plain"), None
        return reply, fault


def _request_params(request_element: str) -> dict[str, str]:
    """The request an OAI-PMH page was recorded for, from its ``<request>`` element."""
    return dict(etree.fromstring(request_element.encode()).attrib)


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            parts = urlsplit(self.path)
            replay.user_agents.add(self.headers.get("User-Agent", ""))
            reply, fault = replay.answer(parts.path, dict(parse_qsl(parts.query)))
            body = reply.body
            if fault == "truncate":
                body = body[: len(body) // 2]
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault == "drop":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler
