"""The states of a relay channel, apart from the relay so that the screen
module (which the relay imports) can use them."""

from __future__ import annotations

#: Asked of the customer, not answered yet.
PENDING = "pending"
#: Accepted: data flows.
OPEN = "open"
