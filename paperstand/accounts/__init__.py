"""Accounts: who is acting. Passwords and tokens (``credentials.py``) and the service that
signs people up, logs them in and out, and manages their API tokens (``service.py``)."""
