"""The guard against server-side request forgery: which addresses broadsheet may connect to.

Only http(s) URLs are fetched. Unless ``http.allow_private_addresses`` is on, the host of every URL
(every redirect hop, robots.txt included) is resolved first and refused if any of its addresses is
loopback, private, link-local, multicast or otherwise not global. The request is then *pinned* to the address
that was checked: the connection goes to that IP while the ``Host`` header and the TLS server name
(SNI, and so certificate verification) keep the original host name. A second DNS answer (the DNS
rebinding trick: public at check time, 127.0.0.1 at connect time) is therefore never used.
An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``,
Teredo) is judged by that IPv4 address too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from broadsheet.config.errors import FetchError
from broadsheet.config.settings import HttpSettings


def parse_http_url(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL; FetchError for any other scheme or a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise FetchError(f"{url[:300]!r} is not a valid URL: {exc}", code="invalid_url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"cannot fetch {url[:300]!r}: only http(s) URLs are fetched", code="unsupported_scheme")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address``, and the IPv4 address it carries if any, may be connected to."""
    carried = _carried_ipv4(address)
    if carried is not None and not is_public(carried):
        return False
    return address.is_global and not address.is_multicast  # 224.0.0.0/4 counts as global, but is no web server


def _carried_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.teredo[1] if address.teredo else None


async def check_address(url: str, settings: HttpSettings) -> str | None:
    """The checked IP address to connect to for ``url``, or None when private addresses are allowed.

    Raises FetchError for non-http(s) or malformed URLs, unresolvable hosts, and hosts that resolve
    to a non-public address (unless allowed).
    """
    hostname, port = parse_http_url(url)
    if settings.allow_private_addresses:
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {hostname}: {exc}", code="connect_error", transient=True) from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not is_public(address):
            raise FetchError(
                f"{hostname} resolves to non-public address {address}; set "
                "http.allow_private_addresses = true to fetch from it",
                code="blocked_address",
            )
    if not addresses:
        raise FetchError(f"cannot resolve {hostname}: no addresses", code="connect_error", transient=True)
    return str(addresses[0])


def pin_request(request: httpx.Request, address: str | None) -> httpx.Request:
    """``request`` sent to ``address`` instead of a fresh DNS answer; Host header and SNI unchanged."""
    if address is None or request.url.host == address:
        return request
    hostname = request.url.host
    request.url = request.url.copy_with(host=address)
    request.extensions = {**request.extensions, "sni_hostname": hostname}
    return request


def is_url(location: str) -> bool:
    """Whether ``location`` is a well-formed http(s) URL."""
    try:
        parse_http_url(location)
    except FetchError:
        return False
    return True
