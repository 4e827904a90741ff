"""Which client a limit counts: IPv4 addresses, IPv6 networks of one subscriber."""

from __future__ import annotations

import pytest

from fundraising.application.throttles import address_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_clients_are_counted_per_ipv4_address_and_per_ipv6_64(address, key):
    assert address_key(address) == key
