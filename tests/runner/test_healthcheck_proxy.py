"""The health-check proxy: public http(s) targets only, pinned address, no redirects."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.runner_process import RunnerProcess, http

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
def test_unsafe_urls_are_refused_with_400(runner: RunnerProcess, url: str) -> None:
    response = http.get(runner.url("/api/v1/health-check"), params={"url": url},
                        headers=runner.auth())
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("unsafe health-check URL")


def test_missing_url_is_400(runner: RunnerProcess) -> None:
    response = http.get(runner.url("/api/v1/health-check"), headers=runner.auth())
    assert response.status_code == 400 and "required" in response.json()["error"]


def test_health_check_needs_credentials(runner: RunnerProcess) -> None:
    response = http.get(runner.url("/api/v1/health-check"), params={"url": "http://x.example/"})
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
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            try:
                self.wfile.write(b"x" * (1024 * 1024))
            except OSError:
                pass
            return
        code = 503 if self.path == "/down" else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "UP"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def allowing_runner(configured_runner: RunnerProcess) -> RunnerProcess:
    """The runner whose operators allowed 127.0.0.0/8, so local targets can be probed."""
    return configured_runner


def probe(runner: RunnerProcess, url: str) -> dict:
    response = http.get(runner.url("/api/v1/health-check"), params={"url": url},
                        headers=runner.auth())
    assert response.status_code == 200, response.text
    return response.json()


def test_probe_connects_to_the_pinned_address_with_the_original_host(
        allowing_runner: RunnerProcess, target: int) -> None:
    _Target.seen.clear()
    result = probe(allowing_runner, f"http://localhost:{target}/healthz?deep=1")
    assert result["status"] == "up" and result["statusCode"] == 200
    assert result["address"] in ("127.0.0.1", "::1")
    assert _Target.seen == [("/healthz?deep=1", f"localhost:{target}")]


def test_unhealthy_target_is_reported_down(allowing_runner: RunnerProcess, target: int) -> None:
    result = probe(allowing_runner, f"http://127.0.0.1:{target}/down")
    assert (result["status"], result["statusCode"]) == ("down", 503)


def test_redirects_are_reported_not_followed(allowing_runner: RunnerProcess,
                                             target: int) -> None:
    _Target.seen.clear()
    result = probe(allowing_runner, f"http://127.0.0.1:{target}/redirect")
    assert result["statusCode"] == 302 and result["redirect"] == "http://127.0.0.1/admin"
    assert [path for path, _ in _Target.seen] == ["/redirect"]


def test_huge_bodies_are_capped(allowing_runner: RunnerProcess, target: int) -> None:
    result = probe(allowing_runner, f"http://127.0.0.1:{target}/big")
    assert result["statusCode"] == 200 and result["latencyMs"] < 5000


def test_unreachable_target_is_down_not_an_error(allowing_runner: RunnerProcess) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = probe(allowing_runner, f"http://127.0.0.1:{closed_port}/")
    assert result["status"] == "down" and result["statusCode"] is None and result["error"]


def test_the_allow_list_does_not_open_other_private_ranges(
        allowing_runner: RunnerProcess) -> None:
    response = http.get(allowing_runner.url("/api/v1/health-check"),
                        params={"url": "http://10.0.0.1/"}, headers=allowing_runner.auth())
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
        allowing_runner: RunnerProcess, tmp_path: Path) -> None:
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
