"""Packed abstracts, old format against new: bytes and microseconds per abstract.

Packs arXiv abstracts the dictionary was not trained on (``abstract_dict.held_out``) as the
store did before (a bare ISA-L level 1 deflate stream) and as it does now
(``schema.pack_text``: a zstd frame with the shipped dictionary), each timed in one process,
one after the other, best of a few rounds (CPU seconds of this thread: the machine is
shared), then unpacks each (``schema.unpack_text``, which reads both). Bytes are the packed
values as SQLite keeps them; PostgreSQL adds one marker byte to each.

Usage: python benchmarks/pack.py [--data DIR] [--limit N] [--rounds R]
Last line: {"abstracts": N, "raw_bytes": B, "deflate_bytes": B, "zstd_bytes": B,
"deflate_pack_us": U, "zstd_pack_us": U, "deflate_unpack_us": U, "zstd_unpack_us": U}
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from isal import isal_zlib

from paperstand.store.schema import pack_text, unpack_text

from _shared_data import SHARED_DATA, require
from abstract_dict import held_out


def best_us(work: Callable[[Any], Any], items: list[Any], rounds: int) -> tuple[list, float]:
    """``work`` applied to each item, and its best round's CPU microseconds per item."""
    best = float("inf")
    out: list = []
    for _ in range(rounds):
        start = time.thread_time()
        out = [work(item) for item in items]
        best = min(best, time.thread_time() - start)
    return out, best / len(items) * 1e6


def deflate(text: str) -> bytes:
    """The format before zstd, as ``schema`` wrote it."""
    return isal_zlib.compress(text.encode(), 1, -15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "arxiv")
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = held_out(require(args.data, "--data", "a folder of listings-*.jsonl.gz"), args.limit)
    result: dict[str, float] = {
        "abstracts": len(texts),
        "raw_bytes": sum(len(t.encode()) for t in texts) / len(texts),
    }
    for name, pack in (("deflate", deflate), ("zstd", pack_text)):
        packed, pack_us = best_us(pack, texts, args.rounds)
        unpacked, unpack_us = best_us(lambda v: unpack_text(v, "sqlite"), packed, args.rounds)
        assert unpacked == texts, name
        size = sum(len(v) for v in packed) / len(packed)
        print(f"{name:>8}: {size:6.1f} B, pack {pack_us:5.2f} µs, unpack {unpack_us:5.2f} µs")
        result.update(
            {f"{name}_bytes": size, f"{name}_pack_us": pack_us, f"{name}_unpack_us": unpack_us}
        )
    print(json.dumps({key: round(value, 2) for key, value in result.items()}))


if __name__ == "__main__":
    main()
