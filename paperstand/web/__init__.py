"""The web face: pages, a Hugging Face-compatible JSON API, feeds (see ``app.py``)."""
