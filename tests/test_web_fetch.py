"""Fetching web pages safely: private addresses refused after DNS and on every redirect, before
any connection; size cap; content-type check; redirect limit; one time budget for all pages.

Only loopback servers are ever contacted: refused addresses are refused before connecting, and
that is what is asserted (the servers record every request they get).
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from assistant.web import AddressPolicy, FetchRefused
from assistant.web.fetch import USER_AGENT, Page, check_url, fetch, fetch_all, page_client

from fakes_pages import PageServer


def fetch_one(url: str, policy: AddressPolicy, **kwargs) -> Page:
    async def go() -> Page:
        async with page_client(policy, timeout=5) as client:
            return await fetch(client, url, **kwargs)

    return asyncio.run(go())


def refused(url: str, policy: AddressPolicy, **kwargs) -> str:
    with pytest.raises(FetchRefused) as info:
        fetch_one(url, policy, **kwargs)
    return str(info.value)


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolve to what the test puts here; any other name fails, so no query leaves."""
    table: dict[str, list[str]] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for ip in table[host]:
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            addr = (ip, port, 0, 0) if fam == socket.AF_INET6 else (ip, port)
            out.append((fam, socket.SOCK_STREAM, 6, "", addr))
        return out

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_articles_load_from_the_named_loopback_origin(pages: PageServer) -> None:
    got = asyncio.run(fetch_all([pages.url("/denggao"), pages.url("/ducks")], pages.policy, budget=5))
    chinese, english = got[pages.url("/denggao")], got[pages.url("/ducks")]
    assert isinstance(chinese, Page) and isinstance(english, Page)
    assert "风急天高猿啸哀" in chinese.text and chinese.status == 200
    assert chinese.content_type == "text/html" and not chinese.truncated
    assert "Mallard ducks migrate south" in english.text
    assert {r.headers["User-Agent"] for r in pages.requests} == {USER_AGENT}


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "127.0.0.2", "[::1]", "0.0.0.0", "[::ffff:127.0.0.1]"],
)
def test_loopback_is_refused_unless_its_origin_is_named(pages: PageServer, host: str) -> None:
    message = refused(f"http://{host}:{pages.port}/ducks", AddressPolicy())
    assert "non-public address" in message and "ASSISTANT_ALLOW_PRIVATE_URLS=1" in message
    # Naming 127.0.0.1:PORT lets exactly that origin through, not the same server by another name.
    if host != "127.0.0.1":
        assert "non-public address" in refused(f"http://{host}:{pages.port}/ducks", pages.policy)
    assert pages.requests == []  # refused before connecting


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "http://[fe80::1]/",
        "http://10.0.0.1/",
        "http://172.16.5.4:8080/admin",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://224.0.0.1/",  # multicast
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchRefused, match="non-public address"):
        asyncio.run(check_url(url, AddressPolicy()))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://h/", "//no-scheme/x"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(FetchRefused, match="only http and https"):
        asyncio.run(check_url(url, AddressPolicy(allow_private=True)))


def test_names_are_checked_after_dns_resolution(fake_dns: dict[str, list[str]]) -> None:
    # A public-looking name that resolves to a private address (or to one among public ones).
    fake_dns["intranet.example.com"] = ["10.1.2.3"]
    fake_dns["mixed.example.com"] = ["93.184.216.34", "192.168.0.7"]
    fake_dns["metadata.example.com"] = ["fe80::a9fe:a9fe"]
    fake_dns["public.example.com"] = ["93.184.216.34", "2606:2800:220:1::"]
    for name, ip in [
        ("intranet.example.com", "10.1.2.3"),
        ("mixed.example.com", "192.168.0.7"),
        ("metadata.example.com", "fe80::a9fe:a9fe"),
    ]:
        with pytest.raises(FetchRefused, match=f"{name} resolves to the non-public address {ip}"):
            asyncio.run(check_url(f"https://{name}/page", AddressPolicy()))
    asyncio.run(check_url("https://public.example.com/page", AddressPolicy()))  # no error
    with pytest.raises(FetchRefused, match="cannot resolve nowhere.example.com"):
        asyncio.run(check_url("https://nowhere.example.com/", AddressPolicy()))
    # allow_private lifts the address rule, not the need to resolve.
    asyncio.run(check_url("https://intranet.example.com/", AddressPolicy(allow_private=True)))


def test_redirects_to_private_addresses_are_refused_before_connecting(pages: PageServer, searxng) -> None:
    pages.elsewhere = f"http://localhost:{searxng.port}/search?q=secret&format=json"
    for path, target in [
        ("/redirect/metadata", "169.254.169.254"),
        ("/redirect/private", "10.0.0.1"),
        ("/redirect/elsewhere", "localhost"),
    ]:
        message = refused(pages.url(path), pages.policy)
        assert f"{target} resolves to the non-public address" in message
    assert pages.paths() == ["/redirect/metadata", "/redirect/private", "/redirect/elsewhere"]
    assert searxng.requests == []  # the other loopback server was never reached


def test_redirects_within_the_limit_are_followed(pages: PageServer) -> None:
    page = fetch_one(pages.url("/redirect/relative"), pages.policy)
    assert page.url == pages.url("/ducks") and "Mallard" in page.text
    page = fetch_one(pages.url("/chain/5"), pages.policy, max_redirects=5)
    assert page.url == pages.url("/chain/0") and "Mallard" in page.text


def test_a_redirect_chain_that_is_too_long_is_refused(pages: PageServer) -> None:
    pages.requests.clear()
    message = refused(pages.url("/chain/9"), pages.policy, max_redirects=5)
    assert message.startswith("more than 5 redirects")
    assert len(pages.requests) == 6  # the first request and five redirects, then it stopped


def test_huge_pages_are_cut_at_the_size_cap_without_downloading_them(pages: PageServer) -> None:
    started = time.monotonic()
    page = fetch_one(pages.url("/huge"), pages.policy, max_bytes=100_000)
    assert page.truncated
    assert len(page.text.encode("utf-8")) == 100_000
    assert time.monotonic() - started < 5
    assert pages.huge_done.wait(5)
    assert pages.huge_sent < pages.huge_bytes / 2  # the client hung up; most was never sent


@pytest.mark.parametrize(
    ("path", "kind"), [("/download.bin", "application/octet-stream"), ("/image.png", "image/png")]
)
def test_non_html_content_is_refused(pages: PageServer, path: str, kind: str) -> None:
    assert refused(pages.url(path), pages.policy) == f"not a web page ({kind}) at {pages.url(path)}"


def test_plain_text_is_accepted_and_http_errors_are_refused(pages: PageServer) -> None:
    page = fetch_one(pages.url("/notes.txt"), pages.policy)
    assert page.content_type == "text/plain" and "Plain notes" in page.text
    assert refused(pages.url("/missing"), pages.policy) == f"HTTP 404 from {pages.url('/missing')}"


def test_a_page_in_gbk_is_decoded_by_the_charset_it_declares(pages: PageServer) -> None:
    page = fetch_one(pages.url("/gbk"), pages.policy)
    assert "风急天高猿啸哀" in page.text


def test_an_unknown_charset_in_the_header_falls_back_to_utf8(pages: PageServer) -> None:
    got = asyncio.run(fetch_all([pages.url("/bad-charset")], pages.policy, budget=5))
    page = got[pages.url("/bad-charset")]
    assert isinstance(page, Page), page
    assert "Mallard ducks migrate south" in page.text


def test_the_slow_page_misses_the_budget_while_the_others_load(pages: PageServer) -> None:
    urls = [pages.url(p) for p in ("/slow", "/denggao", "/ducks", "/image.png", "/redirect/metadata")]
    started = time.monotonic()
    got = asyncio.run(fetch_all(urls, pages.policy, budget=1.5))
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.0
    slow = got[pages.url("/slow")]
    assert isinstance(slow, TimeoutError) and "did not load within 1.5 s" in str(slow)
    assert isinstance(got[pages.url("/denggao")], Page)
    assert isinstance(got[pages.url("/ducks")], Page)
    assert isinstance(got[pages.url("/image.png")], FetchRefused)
    assert isinstance(got[pages.url("/redirect/metadata")], FetchRefused)


def test_allow_private_lets_loopback_through(pages: PageServer) -> None:
    policy = AddressPolicy(allow_private=True)
    urls = [f"http://127.0.0.1:{pages.port}/ducks", f"http://localhost:{pages.port}/denggao"]
    got = asyncio.run(fetch_all(urls, policy, budget=5))
    assert all(isinstance(page, Page) for page in got.values()), got
    assert sorted(pages.paths()) == ["/denggao", "/ducks"]


# --- compressed pages: the size cap holds after decompression, as the body streams ----------


@pytest.mark.parametrize("kind", ["gz", "zlib", "deflate"])
def test_a_compression_bomb_is_cut_at_the_cap_without_growing_memory(pages: PageServer, kind: str) -> None:
    import tracemalloc

    cap = 1_000_000
    compressed = len(pages.bomb({"gz": 31, "zlib": 15, "deflate": -15}[kind]))  # built before measuring
    assert compressed < pages.bomb_bytes / 500  # ~130 KB that expand to 128 MiB
    tracemalloc.start()
    try:
        page = fetch_one(pages.url(f"/bomb.{kind}"), pages.policy, max_bytes=cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert page.truncated and page.text.startswith("<html><body><p>duck duck")
    assert len(page.text.encode("utf-8")) == cap
    # Decoding a 64 KB network read at once would make one ~64 MB buffer; bounded steps keep the
    # peak near the cap (the cap, its text, and one step), whatever the expansion ratio.
    assert peak < 12 * cap, f"peak {peak / 1e6:.1f} MB for a {cap / 1e6:.0f} MB cap"


def test_a_small_compressed_page_is_decoded_whole(pages: PageServer) -> None:
    small = PageServer(bomb_bytes=1 << 20).start()
    try:
        page = fetch_one(small.url("/bomb.gz"), small.policy, max_bytes=4 << 20)
        assert not page.truncated and len(page.text) == (1 << 20) + len("<html><body><p>") + 500
        assert small.requests[0].headers["Accept-Encoding"] == "gzip, deflate"
    finally:
        small.stop()


@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip,gzip", "compress"])
def test_encodings_we_cannot_bound_are_refused_with_the_reason(pages: PageServer, encoding: str) -> None:
    url = pages.url(f"/encoded/{encoding}")
    assert refused(url, pages.policy) == f"unsupported content encoding ({encoding}) at {url}"


def test_page_hosts_see_a_generic_browser_user_agent(pages: PageServer) -> None:
    asyncio.run(fetch_all([pages.url("/ducks")], pages.policy, budget=5))
    agent = pages.requests[0].headers["User-Agent"]
    assert agent == USER_AGENT and agent.startswith("Mozilla/5.0 (")
    lowered = agent.lower()
    for word in ("assistant", "r1", "python", "httpx", "deepseek", "compatible;", "bot", "+"):
        assert word not in lowered, word
