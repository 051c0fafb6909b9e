"""How the zstd dictionary of packed abstracts (``paperstand/data/abstracts.zdict``) was
trained, and what each dictionary size would store: its provenance, kept to be run again.

The dictionary is part of the stored format (``schema.PackedText``): every abstract written
with it needs it to be read back, so it is trained once and shipped, never retrained in
place: a better one would be shipped beside it, each frame naming its own by the
dictionary id in its header. It is trained on the arXiv listings of ../shared/data/arxiv as
the store keeps them (``jsonl.parse_record``: squashed spacing), on one paper in
:data:`EVERY` chosen by a hash of its id, so the sample spans every month's topics rather
than one; the sizes printed are those of papers left out (:func:`held_out`), which the
dictionary never saw. ``make bench`` runs it without ``--write``: it then only measures.

Usage: python benchmarks/abstract_dict.py [--data DIR] [--sizes 32768,65536,114688]
       [--level 3] [--write PATH --size 65536]
Prints, for each size, the held-out abstracts' mean bytes raw and packed, and with
``--write`` saves the dictionary of ``--size`` bytes to PATH. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import zstandard

from paperstand.sources import jsonl

from _shared_data import SHARED_DATA, require

EVERY = 8  # one paper in EVERY trains the dictionary
SAMPLE_LIMIT = 10_000  # held-out abstracts measured


def abstracts(data: Path) -> Iterator[tuple[str, str]]:
    """(paper id, abstract as stored) of every paper in the listings under ``data``."""
    for path in sorted(data.glob("*.jsonl.gz")):
        with path.open("rb") as raw, jsonl.decompressed(raw) as lines:
            for line in lines:
                paper = jsonl.parse_record(orjson.loads(line))
                yield paper.id, paper.abstract


def in_training(paper_id: str) -> bool:
    """Whether the paper's abstract is in the training sample: a hash of its id, so the
    choice spans every month and does not depend on the order the files are read in."""
    return zlib.crc32(paper_id.encode()) % EVERY == 0


def held_out(data: Path, limit: int = SAMPLE_LIMIT) -> list[str]:
    """Up to ``limit`` non-empty abstracts the dictionary was not trained on, spread over
    every month (each ``EVERY``-th of them, in file order)."""
    kept = [a for pid, a in abstracts(data) if a and not in_training(pid)]
    step = max(1, len(kept) // limit)
    return kept[::step][:limit]


def train(samples: list[bytes], size: int) -> zstandard.ZstdCompressionDict:
    """A dictionary of ``size`` bytes by zstd's default trainer (fast COVER, one thread):
    the same samples give the same dictionary, and the same id (a hash of its content)."""
    return zstandard.train_dictionary(size, samples, threads=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "arxiv")
    parser.add_argument("--sizes", default="32768,65536,114688")
    parser.add_argument("--level", type=int, default=3)
    parser.add_argument("--write", type=Path, help="save the dictionary of --size here")
    parser.add_argument("--size", type=int, default=65536)
    args = parser.parse_args()
    data = require(args.data, "--data", "a folder of listings-*.jsonl.gz")
    samples = [a.encode() for pid, a in abstracts(data) if a and in_training(pid)]
    test = [a.encode() for a in held_out(data)]
    raw = sum(map(len, test)) / len(test)
    print(f"training on {len(samples):,} abstracts, measured on {len(test):,} others")
    result: dict = {"samples": len(samples), "held_out": len(test), "raw_bytes": round(raw, 1)}
    sizes = sorted({int(s) for s in args.sizes.split(",")} | ({args.size} if args.write else set()))
    for size in sizes:
        start = time.process_time()
        dictionary = train(samples, size)
        cpu = time.process_time() - start
        compressor = zstandard.ZstdCompressor(level=args.level, dict_data=dictionary)
        packed = sum(len(compressor.compress(a)) for a in test) / len(test)
        print(f"{size:>7,} B dictionary: {packed:6.1f} B per abstract, trained in {cpu:.1f} s")
        result[f"bytes_{size}"] = round(packed, 1)
        if args.write and size == args.size:
            args.write.write_bytes(dictionary.as_bytes())
            print(f"wrote {args.write} (id {dictionary.dict_id()})")
            result["written_id"] = dictionary.dict_id()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
