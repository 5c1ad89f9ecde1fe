"""The live protocol: customers and representatives over one WebSocket.

* :mod:`.protocol` — message parsing and validation, no sockets.
* :mod:`.registry` — what outlives a connection: grace timers, rep resume
  tickets, invitations and replies to commands already done.
* :mod:`.connection` — one connected client: its subscriptions, its sends.
* :mod:`.customer` and :mod:`.rep` — what each role may ask for.
* :mod:`.endpoint` — the Starlette route at ``/live``.

The protocol itself is documented in ``docs/protocol.md``.
"""
