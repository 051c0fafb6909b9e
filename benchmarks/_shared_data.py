"""Where the benchmarks find their data.

They measure at full size (118,620 arXiv papers, 7,600 Hugging Face papers, BEIR retrieval
sets), far more than the repository ships (``tests/data`` holds the tests' small slices), so
by default they read the project's shared data set, ``../shared/data`` beside the repository,
and each script takes an option naming another copy.
"""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require(path: Path, option: str, what: str) -> Path:
    """``path`` if it exists; else stop with one line saying what to pass instead."""
    if not path.exists():
        raise SystemExit(f"{path}: not found; pass {option} with {what}")
    return path
