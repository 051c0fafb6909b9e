"""Email digests: the papers of a day (or a week) in a reader's inbox, personal, sent once.

- ``subscriptions.py``: subscribing with only an address (double opt-in by a signed link
  that expires), preferences, unsubscribing; the signed links every digest carries.
- ``content.py``: what a digest holds for one subscriber and period, drawn from the feeds
  service (the daily list, trending) and the subscriber's own follows.
- ``sender.py``: composing and sending a period's digests through the send ledger, so each
  subscriber gets exactly one per period, whatever reruns, crashes and parallel workers.
- ``schedule.py``: the ``digest`` job kind: after the configured hour, ingest then send,
  catching up missed days.
The message itself (HTML with inlined CSS and a plain-text part) is made by ``mail/digest.py``.
"""
