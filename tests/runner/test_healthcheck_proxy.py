"""The health-check proxy: public http(s) targets only, pinned address, no redirects.

Contract checks of the API: the app runs in process (tests/runner/inprocess.py), probing
real local HTTP(S) servers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runner.config import parse_networks
from runner.healthcheck import BODY_CAP_BYTES
from tests.runner.inprocess import InProcessApp, start_app

HUGE_BODY = 200 * 1024 * 1024

REFUSED = [
    "http://127.0.0.1/health", "http://127.1.2.3:8080/", "http://localhost/healthz",
    "http://LOCALHOST./", "http://0.0.0.0/", "http://0/", "http://10.1.2.3/", "http://172.16.0.1/",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/", "http://[::1]/",
    "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[ff02::1]/", "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::1]/", "http://2130706433/", "http://0x7f000001/",
    "http://user:pass@example.com/", "http://user@example.com/",
    "ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "/relative/path",
    "example.com/health", "http:///nohost", "", "http://example.com:99999/",
    "http://exa mple.com/", "javascript:alert(1)",
]


@pytest.mark.parametrize("url", REFUSED)
def test_unsafe_urls_are_refused_with_400(api: InProcessApp, url: str) -> None:
    response = api.http.get(api.url("/api/v1/health-check"), params={"url": url},
                            headers=api.auth())
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("unsafe health-check URL")


def test_missing_url_is_400(api: InProcessApp) -> None:
    response = api.http.get(api.url("/api/v1/health-check"), headers=api.auth())
    assert response.status_code == 400 and "required" in response.json()["error"]


def test_health_check_needs_credentials(api: InProcessApp) -> None:
    response = api.http.get(api.url("/api/v1/health-check"),
                            params={"url": "http://x.example/"})
    assert response.status_code == 401


class _Target(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        type(self).seen.append((self.path, self.headers.get("Host")))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1/admin")
            self.end_headers()
            return
        if self.path == "/big":
            self._send_huge_body()
            return
        code = 503 if self.path == "/down" else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "UP"}')

    def _send_huge_body(self) -> None:
        """Announce and send HUGE_BODY bytes until the reader hangs up; record how many
        bytes the reader let through and whether it read the body to the end."""
        # a small send buffer: what the reader did not take stays small and measurable
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        self.send_response(200)
        self.send_header("Content-Length", str(HUGE_BODY))
        self.end_headers()
        chunk, sent = b"x" * (64 * 1024), 0
        try:
            while sent < HUGE_BODY:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        type(self).big_body.update(sent=sent, complete=sent >= HUGE_BODY)
        type(self).big_done.set()

    big_body: dict[str, object] = {}
    big_done = threading.Event()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def allowing_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    """The app whose operators allowed 127.0.0.0/8, so local targets can be probed."""
    yield from start_app(tmp_path_factory.mktemp("healthcheck"),
                         healthcheck_allowed_networks=parse_networks(
                             "127.0.0.0/8", "GANTRY_HEALTHCHECK_ALLOWED_NETWORKS"))


def probe(runner: InProcessApp, url: str) -> dict:
    response = runner.http.get(runner.url("/api/v1/health-check"), params={"url": url},
                               headers=runner.auth())
    assert response.status_code == 200, response.text
    return response.json()


def test_probe_connects_to_the_pinned_address_with_the_original_host(
        allowing_runner: InProcessApp, target: int) -> None:
    _Target.seen.clear()
    result = probe(allowing_runner, f"http://localhost:{target}/healthz?deep=1")
    assert result["status"] == "up" and result["statusCode"] == 200
    assert result["address"] in ("127.0.0.1", "::1")
    assert _Target.seen == [("/healthz?deep=1", f"localhost:{target}")]


def test_unhealthy_target_is_reported_down(allowing_runner: InProcessApp, target: int) -> None:
    result = probe(allowing_runner, f"http://127.0.0.1:{target}/down")
    assert (result["status"], result["statusCode"]) == ("down", 503)


def test_redirects_are_reported_not_followed(allowing_runner: InProcessApp,
                                             target: int) -> None:
    _Target.seen.clear()
    result = probe(allowing_runner, f"http://127.0.0.1:{target}/redirect")
    assert result["statusCode"] == 302 and result["redirect"] == "http://127.0.0.1/admin"
    assert [path for path, _ in _Target.seen] == ["/redirect"]


def test_huge_bodies_are_capped(allowing_runner: InProcessApp, target: int) -> None:
    _Target.big_done.clear()
    result = probe(allowing_runner, f"http://127.0.0.1:{target}/big")
    assert result["statusCode"] == 200 and result["latencyMs"] < 5000
    # the probe hung up after the cap: the target saw the connection end long before the
    # announced body was through (what it wrote is the cap plus the sockets' buffers)
    assert _Target.big_done.wait(30), "the target never saw the probe hang up"
    assert _Target.big_body["complete"] is False
    assert BODY_CAP_BYTES <= _Target.big_body["sent"] < 16 * 1024 * 1024, _Target.big_body


def test_unreachable_target_is_down_not_an_error(allowing_runner: InProcessApp) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = probe(allowing_runner, f"http://127.0.0.1:{closed_port}/")
    assert result["status"] == "down" and result["statusCode"] is None and result["error"]


def test_the_allow_list_does_not_open_other_private_ranges(
        allowing_runner: InProcessApp) -> None:
    response = allowing_runner.http.get(allowing_runner.url("/api/v1/health-check"),
                                        params={"url": "http://10.0.0.1/"},
                                        headers=allowing_runner.auth())
    assert response.status_code == 400


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass


def test_https_probe_sends_the_name_as_sni_and_verifies_the_certificate(
        allowing_runner: InProcessApp, tmp_path: Path) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = _QuietServer(("127.0.0.1", 0), _Target)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = probe(allowing_runner, f"https://localhost:{server.server_address[1]}/healthz")
    finally:
        server.shutdown()
    assert names == ["localhost"]
    assert result["status"] == "down" and "CERTIFICATE_VERIFY_FAILED" in result["error"]
