"""Subscriber URL rules (docs/contract.md §8): https only, and never an internal address (SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


def _resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl(f"host {host!r} does not resolve") from error
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address in METADATA_ADDRESSES or not address.is_global


def check_subscriber_url(url: str, *, local: bool) -> str:
    """The URL when it may receive webhooks, else UnsafeUrl.

    Cloud: https only, every resolved address public. Local hub: also plain http,
    and loopback hosts (a subscriber on this machine).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("URL must be an absolute https:// URL")
    if parts.username or parts.password:
        raise UnsafeUrl("URL must not carry credentials")
    addresses = _resolve(parts.hostname)
    if local and all(a.is_loopback for a in addresses):
        return url
    if parts.scheme != "https":
        raise UnsafeUrl("URL must use https" + (" (plain http is allowed only to loopback on the local hub)" if local else ""))
    blocked = [str(a) for a in addresses if _is_internal(a)]
    if blocked:
        raise UnsafeUrl(f"host {parts.hostname!r} resolves to a non-public address ({', '.join(blocked)})")
    return url
