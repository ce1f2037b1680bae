"""Fetch web pages concurrently, safely: only public addresses, capped sizes, checked types.

Every hop is checked: the URL's host is resolved and refused if any address is private,
loopback, link-local, multicast or reserved (a page must not be able to make us reach the
user's router, a local service or a cloud metadata endpoint), then requested without automatic
redirects; each redirect target is checked the same way. `AddressPolicy.allow_private`
(ASSISTANT_ALLOW_PRIVATE_URLS=1) lifts the rule; `allowed_origins` lets tests name one server.

Known limit: the name is resolved again by the HTTP client when it connects, so a DNS server
that answers differently within milliseconds (DNS rebinding) is not fully excluded.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

ALLOWED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")
USER_AGENT = "Mozilla/5.0 (compatible; r1-assistant/0.1; +local research assistant)"


class FetchRefused(Exception):
    """The URL may not be fetched (private address, bad scheme, wrong type, too many redirects)."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    #: "host:port" origins fetched even though they are private (for tests on loopback).
    allowed_origins: frozenset[str] = field(default_factory=frozenset)

    def check_ip(self, ip: str) -> bool:
        address = ipaddress.ip_address(ip.split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        # Python counts multicast as global; it is never a web server.
        return self.allow_private or (address.is_global and not address.is_multicast)


@dataclass
class Page:
    url: str  # the final URL after redirects
    status: int
    content_type: str
    text: str
    truncated: bool = False


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _codec(name: str | None) -> str | None:
    """The Python codec for a charset label, or None if unknown (a typo must not fail the page)."""
    if not name:
        return None
    name = name.strip().lower()
    if name in ("gb2312", "gbk"):
        name = "gb18030"  # as browsers do: pages labelled GB2312 routinely use GBK characters
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _meta_charset(body: bytes) -> str | None:
    """The charset a page declares in a <meta> tag (many Chinese sites declare GBK only there)."""
    match = _META_CHARSET.search(body[:4096])
    return _codec(match.group(1).decode("ascii")) if match else None


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefused(f"cannot resolve {host}: {exc.strerror}") from None
    return sorted({info[4][0] for info in infos})


async def check_url(url: str, policy: AddressPolicy) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not {parts.scheme or 'none'}:")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if f"{parts.hostname}:{port}" in policy.allowed_origins:
        return
    for ip in await _resolve(parts.hostname, port):
        if not policy.check_ip(ip):
            raise FetchRefused(
                f"{parts.hostname} resolves to the non-public address {ip}; refused "
                "(set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow)"
            )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    policy: AddressPolicy,
    *,
    max_bytes: int = 2_000_000,
    max_redirects: int = 5,
) -> Page:
    for _ in range(max_redirects + 1):
        await check_url(url, policy)
        async with client.stream("GET", url, follow_redirects=False) as response:
            if response.is_redirect:
                location = response.headers.get("location", "")
                if not location:
                    raise FetchRefused(f"redirect without a Location from {url}")
                url = urljoin(url, location)
                continue
            if response.status_code >= 400:
                raise FetchRefused(f"HTTP {response.status_code} from {url}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and not content_type.startswith(ALLOWED_TYPES):
                raise FetchRefused(f"not a web page ({content_type}) at {url}")
            declared = int(response.headers.get("content-length") or 0)
            body = bytearray()
            truncated = False
            async for piece in response.aiter_bytes():
                body.extend(piece)
                if len(body) > max_bytes:
                    truncated = True
                    del body[max_bytes:]
                    break
            truncated = truncated or declared > max_bytes
            encoding = _codec(response.charset_encoding) or _meta_charset(body) or "utf-8"
            return Page(
                url,
                response.status_code,
                content_type or "text/html",
                bytes(body).decode(encoding, errors="replace"),
                truncated,
            )
    raise FetchRefused(f"more than {max_redirects} redirects from {url}")


async def fetch_all(
    urls: list[str],
    policy: AddressPolicy,
    *,
    budget: float,
    max_bytes: int = 2_000_000,
    concurrency: int = 6,
) -> dict[str, Page | Exception]:
    """Fetch `urls` concurrently within `budget` seconds in all.

    Returns url -> Page, or the exception that stopped it (asyncio.TimeoutError for pages that
    missed the budget).
    """
    limits = httpx.Limits(max_connections=concurrency)
    timeout = httpx.Timeout(budget, connect=min(budget, 3.0))
    results: dict[str, Page | Exception] = {}
    async with httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT}, limits=limits, timeout=timeout
    ) as client:

        async def one(url: str) -> None:
            try:
                results[url] = await fetch(client, url, policy, max_bytes=max_bytes)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of one page must not stop the others
                results[url] = exc

        tasks = [asyncio.create_task(one(u)) for u in urls]
        done, pending = await asyncio.wait(tasks, timeout=budget) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for url in urls:
        results.setdefault(url, TimeoutError(f"{url} did not load within {budget:.1f} s"))
    return results
