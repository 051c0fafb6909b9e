"""The web face: pages, a Hugging Face-compatible JSON API, feeds (see ``app.py``)."""

from paperstand.web.app import create_app

__all__ = ["create_app"]
