"""Settings from the environment: a value that does not fit stops a command with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperstand.errors import InvalidInput
from paperstand.settings import load_settings

PAPERSTAND = str(Path(sys.executable).parent / "paperstand")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PAPERSTAND_HNSW_EF_SEARCH", "5000", "less than or equal to 1000"),
        ("PAPERSTAND_HNSW_EF_SEARCH", "many", "valid integer"),
        ("PAPERSTAND_TRENDING_DAYS", "0", "greater than or equal to 1"),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = {**os.environ, "PAPERSTAND_HOME": str(tmp_path), variable: value}
    done = subprocess.run(
        [PAPERSTAND, "stats"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: bad setting {variable}={value!r}: ")
    assert message in lines[0]


def test_good_settings_load_and_overrides_win(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PAPERSTAND_HNSW_EF_SEARCH", "400")
    monkeypatch.setenv("PAPERSTAND_HOME", str(tmp_path / "env"))
    settings = load_settings(home=tmp_path)
    assert settings.hnsw_ef_search == 400 and settings.home == tmp_path
    monkeypatch.setenv("PAPERSTAND_HNSW_EF_SEARCH", "9")
    with pytest.raises(InvalidInput, match="PAPERSTAND_HNSW_EF_SEARCH='9'"):
        load_settings()
