"""The SSRF guard: every spelling of a non-public address is refused without DNS, public ones in
the same spellings pass, and a connection goes to the very address that was checked (so DNS
rebinding cannot pass). No real DNS and no connection outside loopback: the resolver and the
TCP connect are replaced where a test needs them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpcore
import pytest

from assistant.web import AddressPolicy, FetchRefused
from assistant.web.addresses import is_public, parse_ip_literal
from assistant.web.fetch import check_url, fetch, page_client

from fakes_pages import PageServer

# One address from each non-public class; every spelling of each is generated below.
NON_PUBLIC_V4 = [
    "127.0.0.1",  # loopback
    "127.254.3.9",
    "10.0.0.1",  # private
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "0.0.0.0",  # unspecified
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "192.0.0.1",  # IETF protocol assignments
    "198.18.0.1",  # benchmarking
]
PUBLIC_V4 = ["8.8.8.8", "93.184.216.34", "1.1.1.1"]


def ipv4_spellings(ip: str) -> set[str]:
    """The host forms inet_aton and browsers accept for `ip`, and its IPv6 embeddings."""
    value = int(ipaddress.IPv4Address(ip))
    a, b, c, d = (int(x) for x in ip.split("."))
    forms = {
        str(value),  # decimal: http://2130706433/
        f"0{value:o}",  # octal integer
        f"0x{value:x}",  # hex integer
        ".".join(f"0{n:o}" if n else "0" for n in (a, b, c, d)),  # octal parts: 0177.0.0.1
        ".".join(f"0x{n:x}" for n in (a, b, c, d)),  # hex parts
        f"0x{a:x}.{value & 0xFFFFFF}",  # short a.N: 0x7f.1
        f"{a}.{b}.{value & 0xFFFF}",  # short a.b.N: 127.0.1
        f"{a}.{value & 0xFFFFFF}",  # short: 127.1
        f"{ip}.",  # trailing dot
        f"[::ffff:{ip}]",  # IPv4-mapped
        f"[::ffff:{value >> 16:x}:{value & 0xFFFF:x}]",
        f"[::{ip}]",  # IPv4-compatible
        f"[64:ff9b::{ip}]",  # NAT64
        f"[2002:{value >> 16:x}:{value & 0xFFFF:x}::1]",  # 6to4
    }
    if ip == "0.0.0.0":
        forms.discard("[::0.0.0.0]")  # "::" itself, tested below
    return forms


NON_PUBLIC_V6 = ["[::1]", "[::]", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "[ff02::1]", "[64:ff9b:1::1]"]


def spelled(addresses: list[str]) -> list[str]:
    return sorted({form for ip in addresses for form in ipv4_spellings(ip)})


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any DNS lookup fails (and is recorded): IP literals must be recognised without one."""
    asked: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("host", spelled(NON_PUBLIC_V4) + NON_PUBLIC_V6)
def test_every_spelling_of_a_non_public_address_is_refused(host: str, no_dns: list[str]) -> None:
    with pytest.raises(FetchRefused, match="non-public address"):
        asyncio.run(check_url(f"http://{host}/latest/meta-data", AddressPolicy()))
    assert no_dns == []  # known from the spelling alone


@pytest.mark.parametrize("host", spelled(PUBLIC_V4))
def test_the_same_spellings_of_public_addresses_pass(host: str, no_dns: list[str]) -> None:
    asyncio.run(check_url(f"https://{host}/", AddressPolicy()))
    assert no_dns == []


@pytest.mark.parametrize("ip", NON_PUBLIC_V4)
def test_spellings_decode_to_the_address_they_name(ip: str) -> None:
    for form in ipv4_spellings(ip):
        address = parse_ip_literal(form)
        assert address is not None, form
        assert not is_public(address), form
        if isinstance(address, ipaddress.IPv4Address):
            assert str(address) == ip, form


@pytest.mark.parametrize(
    "name", ["example.com", "0x7g.1", "1.2.3.4.5", "256.1.1.1.", "ducks", "1..2", "09.1"]
)
def test_names_are_not_mistaken_for_addresses(name: str) -> None:
    assert parse_ip_literal(name) is None


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands for the network: records where a connection would go, then fails it."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append(host)
        raise httpcore.ConnectError(f"test: no network to {host}")


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`rebind.example` answers a public address first, then loopback (a DNS rebinding attack)."""
    asked: list[str] = []
    answers = ["93.184.216.34", "127.0.0.1", "127.0.0.1"]

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        ip = answers[min(len(asked), len(answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_the_connection_goes_to_the_address_that_was_checked(
    rebinding_dns: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    network = RecordingBackend()
    monkeypatch.setattr(httpcore, "AnyIOBackend", lambda: network)

    async def go() -> None:
        async with page_client(AddressPolicy(), timeout=2) as client:
            await fetch(client, "http://rebind.example/")

    with pytest.raises(Exception, match="no network to 93.184.216.34"):
        asyncio.run(go())
    # Resolved once; the socket was aimed at the checked public address, never at the later
    # (rebound) loopback answer.
    assert rebinding_dns == ["rebind.example"]
    assert network.connected == ["93.184.216.34"]


def test_a_name_rebound_to_loopback_before_connecting_is_refused(
    rebinding_dns: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    network = RecordingBackend()
    monkeypatch.setattr(httpcore, "AnyIOBackend", lambda: network)
    # The first answer (public) went to someone else's check; ours sees the loopback one.
    rebinding_dns.append("someone else")

    async def go() -> None:
        async with page_client(AddressPolicy(), timeout=2) as client:
            await fetch(client, "http://rebind.example/")

    with pytest.raises(FetchRefused, match="rebind.example resolves to the non-public address 127.0.0.1"):
        asyncio.run(go())
    assert network.connected == []


def test_a_name_is_connected_by_its_checked_address_and_keeps_its_host_header(
    pages: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def getaddrinfo(host, port, *args, **kwargs):
        if host != "ducks.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    policy = AddressPolicy(allowed_origins=frozenset({f"ducks.example:{pages.port}"}))

    async def go():
        async with page_client(policy, timeout=5) as client:
            return await fetch(client, f"http://ducks.example:{pages.port}/ducks")

    page = asyncio.run(go())
    assert "Mallard ducks migrate south" in page.text
    assert pages.requests[0].headers["Host"] == f"ducks.example:{pages.port}"


def test_fetching_needs_the_checking_client(pages: PageServer) -> None:
    import httpx

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await fetch(client, pages.url("/ducks"))  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="page_client"):
        asyncio.run(go())
    assert pages.requests == []
