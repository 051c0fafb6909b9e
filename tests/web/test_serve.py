"""``paperstand serve``: the real command line starts a server that answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PAPERSTAND = str(Path(sys.executable).parent / "paperstand")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_on_the_given_port_and_prints_the_url(web_home, workers):
    port = free_port()
    server = subprocess.Popen(
        [PAPERSTAND, "--home", str(web_home), "serve", "--port", str(port), "--workers", workers],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(300):  # poll until it listens (or give up after many tries)
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/daily_papers?limit=1")
                break
            except httpx.ConnectError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        assert response.status_code == 200 and len(response.json()) == 1
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in stderr


def test_serve_without_a_store_says_so_in_one_line(tmp_path):
    run = subprocess.run(
        [PAPERSTAND, "--home", str(tmp_path / "nothing"), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "paperstand init" in run.stderr and "Traceback" not in run.stderr
