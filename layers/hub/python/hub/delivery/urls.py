"""Subscriber URL rules (docs/contract.md §8): https only, and never an internal address (SSRF).

`destination` resolves a URL's host once and vets every address it resolves to; the sender
then connects to a vetted address only (hub.delivery.sender), never resolving the name again, so a
name that rebinds between the check and the connection (DNS rebinding) cannot reach an
internal address. The name is put in ASCII form once, with the same IDNA 2008 / UTS 46
rules as `requests` (the `idna` package): the name resolved is the name sent as SNI and
Host and checked against the certificate.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})

NAT64 = ipaddress.ip_network("64:ff9b::/96")
"""RFC 6052 well-known NAT64 prefix: the last 32 bits are the IPv4 address reached."""
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
"""RFC 8215 local-use translation prefix: local by definition, refused whatever it embeds."""
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
"""Deprecated IPv4-compatible addresses `::a.b.c.d` (RFC 4291 section 2.5.5.1)."""
TEREDO = ipaddress.ip_network("2001::/32")
"""Teredo tunnels: the client address is obfuscated, refused whatever it embeds."""


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Destination:
    """Where a vetted URL is sent: the ASCII host name and the addresses it resolved to, once."""

    scheme: str
    host: str
    """ASCII (IDNA) form of the name, or the IP literal: SNI, certificate name and Host header."""
    port: int
    target: str
    """Path and query sent in the request line."""
    addresses: tuple[Address, ...]
    """Every address the name resolved to, all vetted; connect to these only."""

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def ascii_host(host: str) -> str:
    """The name as it is resolved and sent: IDNA 2008 with UTS 46 mapping, as `requests` encodes it."""
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise UnsafeUrl(f"host {host!r} is not a valid internationalized domain name") from error


def _resolve(host: str, port: int) -> tuple[Address, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl(f"host {host!r} does not resolve") from error
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrl(f"host {host!r} does not resolve")
    return tuple(addresses)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address reaches: IPv4-mapped, IPv4-compatible, NAT64, 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal(address: Address) -> str | None:
    """Why a connection to `address` is refused, or None when it is a public unicast address.

    Explicit rules rather than `is_global` alone: `is_global` says yes to multicast, to the
    IPv6 transition ranges and (depending on the Python version) to NAT64 and 6to4.
    """
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback or address.is_unspecified or address.is_link_local:
        return "loopback, unspecified or link-local"
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL or address in TEREDO:
            return "local-use NAT64 or Teredo"
        embedded = embedded_ipv4(address)
        if embedded is not None:
            reason = refusal(embedded)
            return f"embeds {embedded}: {reason}" if reason else None
    elif address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "private or special-purpose"
    return None


def destination(url: str, *, local: bool) -> Destination:
    """The vetted destination of a subscriber URL, else UnsafeUrl.

    Cloud: https only, every resolved address public. Local hub: also plain http,
    and loopback hosts (a subscriber on this machine).
    """
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as error:
        raise UnsafeUrl(f"URL is malformed: {error}") from error
    if parts.scheme not in ("https", "http") or not hostname:
        raise UnsafeUrl("URL must be an absolute https:// URL")
    if parts.username or parts.password:
        raise UnsafeUrl("URL must not carry credentials")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses: tuple[Address, ...] = (ipaddress.ip_address(hostname),)
        host = str(addresses[0])
    except ValueError:
        host = ascii_host(hostname)
        addresses = _resolve(host, port)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    found = Destination(parts.scheme, host, port, target, addresses)
    if local and all(a.is_loopback for a in addresses):
        return found
    if parts.scheme != "https":
        raise UnsafeUrl(
            "URL must use https" + (" (plain http is allowed only to loopback on the local hub)" if local else "")
        )
    blocked = [f"{a} ({reason})" for a in addresses if (reason := refusal(a))]
    if blocked:
        raise UnsafeUrl(f"host {hostname!r} resolves to a non-public address: {', '.join(blocked)}")
    return found


def check_subscriber_url(url: str, *, local: bool) -> str:
    """The URL when it may receive webhooks, else UnsafeUrl (the check made when it is saved)."""
    destination(url, local=local)
    return url
