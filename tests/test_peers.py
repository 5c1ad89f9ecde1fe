"""Client addresses as reports write them (supportbox.peers)."""

from __future__ import annotations

import pytest

from supportbox.peers import public_ip


@pytest.mark.parametrize(
    ("client", "written"),
    [
        (("4.231.237.19", 61606), "4.231.237.19:61606"),
        (("2a01:e34::d987", 56722), "[2a01:e34::d987]:56722"),
        (("198.51.100.4", 0), "198.51.100.4"),  # behind a proxy: no port
        (None, "Unknown"),
        (("", 5000), "Unknown"),
    ],
)
def test_public_ip_is_address_and_port(
    client: tuple[str, int] | None, written: str
) -> None:
    assert public_ip(client) == written
