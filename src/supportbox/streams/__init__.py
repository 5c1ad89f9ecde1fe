"""Shells and file transfers carried over the live protocol (docs/protocol.md).

* :mod:`.frames` — the 16-byte header of binary frames.
* :mod:`.relay` — the server side: channels between a representative and
  the customer, shell recordings and transfer events.
* :mod:`.handlers` — the live protocol messages that drive the relay.
"""
