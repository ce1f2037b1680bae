"""Fetch web pages concurrently, safely: only public addresses, capped sizes, checked types.

Every hop is checked: the URL's host is resolved once and refused if any address is private,
loopback, link-local, multicast or reserved, in any spelling (see `addresses`); the connection
then goes to that checked address (`PinnedBackend`), and redirects are followed by hand so each
target is checked the same way. `AddressPolicy.allow_private` (ASSISTANT_ALLOW_PRIVATE_URLS=1)
lifts the rule; `allowed_origins` lets tests name one server.

Sizes are capped twice as the body streams: bytes on the wire and bytes after decompression.
We decode gzip and deflate ourselves, a bounded piece at a time, so a small compressed page that
expands to gigabytes (a "zip bomb") never holds more than the cap in memory; other encodings
(br, zstd) are not asked for, and a server that sends them anyway is refused.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .addresses import AddressPolicy, AddressRefused, PinnedBackend, checked_addresses

ALLOWED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")
#: What page hosts see: a common browser's, so the request does not name this tool.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
BROWSER_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
    "Accept-Encoding": "gzip, deflate",
}
#: Most bytes one decompression step may produce (memory per page stays near the size cap).
_DECODE_STEP = 64 * 1024


class FetchRefused(Exception):
    """The URL may not be fetched (private address, bad scheme, wrong type, too many redirects)."""


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


def _check_scheme(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not {parts.scheme or 'none'}:")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchRefused(f"the URL {url} has an invalid port") from None
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    return parts.hostname, port


async def check_url(url: str, policy: AddressPolicy) -> None:
    """Refuse `url` if its scheme is not http(s) or its host is, or resolves to, a non-public
    address. (Fetching checks again at connect time, on the address it connects to.)"""
    host, port = _check_scheme(url)
    try:
        await checked_addresses(host, port, policy)
    except AddressRefused as exc:
        raise FetchRefused(str(exc)) from None


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with connections opened only to checked addresses."""

    def __init__(self, policy: AddressPolicy, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx has no public way to give its pool a network backend, so the pool is replaced
        # (httpx >= 0.23 keeps it in `_pool`; test_addresses fails loudly if that changes).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(policy),
        )


class PageClient(httpx.AsyncClient):
    """An httpx client whose connections are pinned to checked addresses (see `page_client`)."""


def page_client(
    policy: AddressPolicy, *, timeout: httpx.Timeout | float = 10.0, concurrency: int = 6
) -> PageClient:
    """An httpx client for fetching pages: browser-like headers, no proxy from the environment
    (a proxy would connect to addresses we never checked), every connection pinned and checked."""
    return PageClient(
        headers=BROWSER_HEADERS,
        timeout=timeout,
        transport=_PinnedTransport(policy, httpx.Limits(max_connections=concurrency)),
        trust_env=False,
    )


class _Decoder:
    """One Content-Encoding, decoded in bounded steps."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate = False
        self._started = False
        self._obj = self._new()

    def _new(self):
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            # "deflate" is meant to be zlib-wrapped; some servers send raw deflate.
            return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)
        return None  # identity

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of `data`, at most `_DECODE_STEP` at a time (stop early to cap)."""
        if self._obj is None:
            yield data
            return
        first = not self._started
        self._started = True
        while data:
            try:
                piece = self._obj.decompress(data, _DECODE_STEP)
            except zlib.error as exc:
                if first and self.encoding == "deflate" and not self._raw_deflate:
                    self._raw_deflate = True
                    self._obj = self._new()
                    first = False
                    continue
                raise FetchRefused(f"the page's {self.encoding} data is corrupt ({exc})") from None
            first = False
            if piece:
                yield piece
            data = self._obj.unconsumed_tail


def _decoder(header: str, url: str) -> _Decoder:
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
        raise FetchRefused(f"unsupported content encoding ({header}) at {url}")
    return _Decoder("gzip" if codings and codings[0] == "x-gzip" else codings[0] if codings else "identity")


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int = 2_000_000,
    max_redirects: int = 5,
) -> Page:
    """Fetch one page with `client`, made by `page_client(policy)`: its transport checks every
    connection (redirect targets included) against that policy."""
    if not isinstance(client, PageClient):
        # A plain client would connect wherever DNS points: the address checks live in its transport.
        raise TypeError("fetch() needs a client made by page_client(policy)")
    for _ in range(max_redirects + 1):
        _check_scheme(url)
        try:
            page = await _fetch_once(client, url, max_bytes)
        except AddressRefused as exc:
            raise FetchRefused(str(exc)) from None
        if isinstance(page, Page):
            return page
        url = page
    raise FetchRefused(f"more than {max_redirects} redirects from {url}")


async def _fetch_once(client: httpx.AsyncClient, url: str, max_bytes: int) -> Page | str:
    """The page, or the URL a redirect points to."""
    async with client.stream("GET", url, follow_redirects=False) as response:
        if response.is_redirect:
            location = response.headers.get("location", "")
            if not location:
                raise FetchRefused(f"redirect without a Location from {url}")
            return urljoin(url, location)
        if response.status_code >= 400:
            raise FetchRefused(f"HTTP {response.status_code} from {url}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and not content_type.startswith(ALLOWED_TYPES):
            raise FetchRefused(f"not a web page ({content_type}) at {url}")
        decoder = _decoder(response.headers.get("content-encoding", ""), url)
        try:
            declared = int(response.headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        body = bytearray()
        wire = 0
        truncated = declared > max_bytes
        async for raw in response.aiter_raw():
            wire += len(raw)
            for piece in decoder.decode(raw):
                body.extend(piece)
                if len(body) > max_bytes:
                    break
            if len(body) > max_bytes or wire > max_bytes:
                truncated = True
                del body[max_bytes:]
                break
        encoding = _codec(response.charset_encoding) or _meta_charset(body) or "utf-8"
        return Page(
            url,
            response.status_code,
            content_type or "text/html",
            bytes(body).decode(encoding, errors="replace"),
            truncated,
        )


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
    timeout = httpx.Timeout(budget, connect=min(budget, 3.0))
    results: dict[str, Page | Exception] = {}
    async with page_client(policy, timeout=timeout, concurrency=concurrency) as client:

        async def one(url: str) -> None:
            try:
                results[url] = await fetch(client, url, max_bytes=max_bytes)
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
