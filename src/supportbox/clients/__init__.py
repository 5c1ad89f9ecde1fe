"""Terminal clients of the live protocol (``docs/protocol.md``).

* :mod:`.link` — a connection that resumes by itself after a drop.
* :mod:`.console` — reading commands from stdin, writing events to stdout.
* :mod:`.customer` and :mod:`.rep` — ``supportbox customer`` and ``supportbox rep``.
* :mod:`.sysinfo` — what the customer client reports about its machine.
"""
