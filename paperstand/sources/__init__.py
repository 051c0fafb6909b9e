"""Readers of outside formats. Each module turns one format into a stream of items.

A source yields :class:`~paperstand.sources.base.Item` values: papers, malformed records it
skipped (with the reason) and checkpoints. It never touches the store; ``paperstand.ingest``
writes what it yields. Adding a format means adding a module here with a ``records()``
generator, and a CLI command that calls it.
"""
