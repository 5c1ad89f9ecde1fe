"""Outbound events: HTTP posts to ticketing systems as sessions happen (spec 7).

* ``recipients`` — the receivers an administrator configures.
* ``payload`` — which session events go out, under which name, with
  which form fields.
* ``signing`` — the HMAC signature a receiver verifies.
* ``observer`` — queues one delivery per (recipient, event) inside the
  hub's transaction.
* ``queue`` — the durable per-recipient queue: claims, retries, dead
  letters.
* ``worker`` — the service that posts, one task per recipient.
"""
