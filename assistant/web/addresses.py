"""Which addresses a web page may make us connect to, and a connection that goes only there.

A page must not be able to make us reach the user's router, a local service or a cloud metadata
endpoint. So every host is turned into addresses once (an IP literal in any spelling a resolver
or browser accepts, or a DNS name resolved once), every address is checked, and the connection
is opened to the checked address itself (`PinnedBackend`): a name that resolves to a public
address for the check and to a private one for the connection (DNS rebinding) cannot pass.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class AddressRefused(Exception):
    """The host is, or resolves to, an address we must not connect to (or does not resolve)."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    #: "host:port" origins fetched even though they are private (for tests on loopback).
    allowed_origins: frozenset[str] = field(default_factory=frozenset)

    def check_ip(self, ip: str) -> bool:
        """True when `ip` may be connected to under this policy."""
        return self.allow_private or is_public(ipaddress.ip_address(ip.split("%")[0]))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address, also through any IPv4 address embedded in IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        if address in _NAT64_LOCAL or address.teredo is not None:
            return False  # local NAT64, or a tunnel whose far end we cannot check
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
    )


def _ipv4_part(text: str) -> int | None:
    """One dotted part as inet_aton reads it: 0x.. hex, 0.. octal, else decimal."""
    try:
        if text[:2].lower() == "0x":
            return int(text[2:] or "0", 16)
        if len(text) > 1 and text.startswith("0"):
            return int(text[1:], 8)
        return int(text, 10) if text.isdigit() else None
    except ValueError:
        return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver or browser accepts, else None (a name).

    IPv4 may be decimal (2130706433), octal (0177.0.0.1), hex (0x7f.1) and short (127.1), with or
    without a trailing dot; IPv6 with or without brackets and a zone.
    """
    text = host.strip().rstrip(".").lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%")[0])
        except ValueError:
            return None
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):  # type: ignore[operator]
        return None
    value = 0
    for n in head:
        value = value << 8 | n  # type: ignore[operator]
    value = value << 8 * (5 - len(parts)) | last  # type: ignore[operator]
    return ipaddress.IPv4Address(value)


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host`: the literal itself, or one DNS lookup."""
    literal = parse_ip_literal(host)
    if literal is not None:
        return [str(literal)]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc.strerror}") from None
    return sorted({info[4][0] for info in infos})


async def checked_addresses(host: str, port: int, policy: AddressPolicy) -> list[str]:
    """`host`'s addresses, resolved once; refused if any one of them is not allowed."""
    addresses = await resolve(host, port)
    if f"{host}:{port}" in policy.allowed_origins:
        return addresses
    for ip in addresses:
        if not policy.check_ip(ip):
            raise AddressRefused(
                f"{host} resolves to the non-public address {ip}; refused "
                "(set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow)"
            )
    if not addresses:
        raise AddressRefused(f"cannot resolve {host}: no address")
    return addresses


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to checked addresses: the host is resolved here, once, and the
    socket is connected to that very address. TLS still verifies (and sends SNI for) the name,
    since httpcore passes the URL's host to `start_tls`, not the address used here."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, self.policy)
        error: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(
                    ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise AddressRefused("unix sockets are never used for web pages")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
