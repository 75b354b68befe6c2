"""Fetch a service's health URL on behalf of a browser, without becoming an SSRF hole.

Only absolute http(s) URLs without user info are accepted. The host name is resolved
once; every address it resolves to must be public, and the connection goes to that
pinned address (so a second DNS answer cannot redirect it to an internal one) while the
Host header and TLS SNI/certificate check still use the name. Redirects are reported,
never followed; the timeout is short and the body is read only up to a small cap.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 5.0
BODY_CAP_BYTES = 64 * 1024
MAX_URL_LENGTH = 2048
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """The URL may not be fetched (the message says why)."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str


def refusal_reason(ip: IPAddress) -> str | None:
    """Why an address is not a public target, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and (ip in _NAT64 or ip in _NAT64_LOCAL):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = refusal_reason(embedded)
            return f"{reason} (embedded in {ip})" if reason else None
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared address space", isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    for label, hit in checks:
        if hit:
            return f"{ip} is a {label} address"
    return None


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL, else UnsafeTarget."""
    if not url:
        raise UnsafeTarget("the url parameter is required")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"url is longer than {MAX_URL_LENGTH} characters")
    if any(ch in url for ch in "\r\n\t ") or not url.isprintable():
        raise UnsafeTarget("url contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"url is malformed: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("only absolute http:// and https:// URLs are allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTarget("URLs with user info (user:password@) are not allowed")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("url has no host")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def resolve(host: str, port: int,
            allowed: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()) -> str:
    """The one address to connect to; every address of the name must be acceptable."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnsafeTarget(f"host {host!r} cannot be resolved: {exc}") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
        if not addresses:
            raise UnsafeTarget(f"host {host!r} has no address")
    allowed = tuple(allowed)
    for ip in addresses:
        if any(ip in network for network in allowed):
            continue
        reason = refusal_reason(ip)
        if reason and literal is not None:
            raise UnsafeTarget(f"host {host!r} is not a public target: {reason}")
        if reason:
            # What a name resolves to stays inside the runner: the caller learns only
            # that the target is refused, not which internal address answered.
            raise UnsafeTarget(f"host {host!r} does not resolve to a public address; "
                               "only public targets can be checked")
    return str(addresses[0])


def check_url(url: str, allowed: Iterable[Any] = ()) -> Target:
    """Validate and resolve a URL, pinning its address."""
    scheme, host, port, path = parse(url)
    return Target(url, scheme, host, port, path, resolve(host, port, allowed))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def probe(target: Target, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    """GET the pinned target once; the result says up/down, never raises for network errors."""
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = cls(target.host, target.port, target.address, timeout)
    started = time.perf_counter()
    result: dict[str, Any] = {"url": target.url, "address": target.address}
    try:
        conn.request("GET", target.path, headers={
            "User-Agent": "gantry-health-check", "Accept": "*/*", "Connection": "close"})
        response = conn.getresponse()
        response.read(BODY_CAP_BYTES)
        code = response.status
        result.update({
            "status": "up" if 200 <= code < 300 else "down",
            "statusCode": code,
            "latencyMs": round((time.perf_counter() - started) * 1000, 1),
        })
        if 300 <= code < 400:
            result["redirect"] = response.getheader("Location")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        result.update({
            "status": "down",
            "statusCode": None,
            "latencyMs": round((time.perf_counter() - started) * 1000, 1),
            "error": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        })
    finally:
        conn.close()
    return result
