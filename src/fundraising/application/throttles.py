"""Limits on attempts (logins, registrations): which keys count, and the 429 when one is full."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from attrs import frozen

from fundraising.application.errors import Throttled
from fundraising.application.ports.security import RateLimiter


@frozen
class Limit:
    attempts: int
    window_seconds: int


def address_key(address: str) -> str:
    """A client as the limits count it: an IPv4 address, or an IPv6 /64 (what one subscriber
    holds, so that rotating through it gains nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP address (a test client, a unix socket)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def reserve(limiter: RateLimiter, keys: Sequence[str], limit: Limit, message: str) -> None:
    """Count an attempt against `keys`, or raise `Throttled` when one of them is full."""
    if wait := limiter.reserve(keys, limit=limit.attempts, window_seconds=limit.window_seconds):
        raise Throttled(message, retry_after=wait)
