"""A small ArgoCD API server speaking the real REST shapes, for tests.

It serves the endpoints Gantry uses — `POST /api/v1/session`, `GET /api/v1/applications`
(with the `projects`/`project` filter), `GET /api/v1/applications/{name}` (with
`?refresh=`), `.../resource-tree`, `.../managed-resources` and `POST .../sync` — and answers
errors the way ArgoCD's gRPC gateway does: `{"error", "code", "message"}` with the gRPC code
(16 unauthenticated → 401, 7 permission denied → 403, also for applications that do not
exist, 9 failed precondition → 400 for "another operation is already in progress").

A sync starts an operation in phase `Running`; each following read of the application
advances it, and after `running_reads` reads it ends `Succeeded` (or `Failed` when the
application was told to fail), as a real controller would over time.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

GRPC_HTTP = {3: 400, 5: 404, 7: 403, 9: 400, 16: 401}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no client trusts (as ArgoCD's default one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "argocd-server")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "argocd.crt", directory / "argocd.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@dataclass
class FakeApp:
    """One Application and the knobs a test turns on it."""

    name: str
    project: str = "default"
    repo_url: str = ""
    path: str = "deploy"
    chart: str = ""
    dest_namespace: str = "default"
    dest_server: str = "https://kubernetes.default.svc"
    labels: dict[str, str] = field(default_factory=dict)
    sync_status: str = "Synced"
    health_status: str = "Healthy"
    resources: list[dict[str, Any]] = field(default_factory=list)
    fail_sync: bool = False
    operation: dict[str, Any] | None = None
    reads_left: int = 0
    refreshes: list[str] = field(default_factory=list)
    syncs: list[dict[str, Any]] = field(default_factory=list)

    def document(self, namespace: str) -> dict[str, Any]:
        source: dict[str, Any] = {"repoURL": self.repo_url, "targetRevision": "HEAD"}
        if self.chart:
            source["chart"] = self.chart
        else:
            source["path"] = self.path
        status: dict[str, Any] = {
            "sync": {"status": self.sync_status, "revision": "a1b2c3d"},
            "health": {"status": self.health_status},
            "resources": self.resources,
            "reconciledAt": _now(),
            "summary": {},
        }
        if self.operation is not None:
            status["operationState"] = self.operation
        return {
            "metadata": {
                "name": self.name,
                "namespace": namespace,
                "labels": dict(self.labels),
                "uid": f"uid-{self.name}",
                "creationTimestamp": "2025-01-01T00:00:00Z",
            },
            "spec": {
                "project": self.project,
                "source": source,
                "destination": {"server": self.dest_server, "namespace": self.dest_namespace},
                "syncPolicy": {},
            },
            "status": status,
        }


class FakeArgoCD:
    """Start with `with FakeArgoCD() as argo:`; `argo.url` is its base URL."""

    def __init__(self, *, username: str = "admin", password: str = "argopass",
                 running_reads: int = 2, namespace: str = "argocd",
                 tls_dir: Path | None = None):
        self.username = username
        self.password = password
        self.running_reads = running_reads
        self.namespace = namespace
        self.apps: dict[str, FakeApp] = {}
        self.tokens: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.logins = 0
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.tls_dir = tls_dir

    # --- test controls -------------------------------------------------------------------
    def add_app(self, name: str, **fields: Any) -> FakeApp:
        app = FakeApp(name=name, **fields)
        self.apps[name] = app
        return app

    def issue_token(self) -> str:
        token = "argo-" + secrets.token_hex(12)
        self.tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        self.tokens.clear()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls_dir else 'http'}://{host}:{port}"

    def start(self) -> FakeArgoCD:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        if self.tls_dir is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self_signed_certificate(self.tls_dir))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArgoCD:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour -----------------------------------------------------------------------
    def advance(self, app: FakeApp) -> None:
        """One read of a running operation moves it on; the last one ends it."""
        op = app.operation
        if op is None or op["phase"] != "Running":
            return
        if app.reads_left > 0:
            app.reads_left -= 1
            return
        op["finishedAt"] = _now()
        if app.fail_sync:
            op["phase"] = "Failed"
            op["message"] = "one or more objects failed to apply"
        else:
            op["phase"] = "Succeeded"
            op["message"] = "successfully synced (all tasks run)"
            app.sync_status = "Synced"
            app.health_status = "Healthy"

    def start_sync(self, app: FakeApp, body: dict[str, Any]) -> None:
        app.syncs.append(body)
        app.reads_left = self.running_reads
        app.operation = {
            "operation": {"sync": body, "initiatedBy": {"username": self.username}},
            "phase": "Running",
            "message": "one or more tasks are running",
            "startedAt": _now(),
        }


def _handler_for(fake: FakeArgoCD) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, code: int, message: str) -> None:
            self._send(GRPC_HTTP[code], {"error": message, "code": code, "message": message})

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else {}

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ").strip()
            if not token:
                self._error(16, "no session information")
                return False
            if token not in fake.tokens:
                self._error(16, "invalid session: token is expired")
                return False
            return True

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            body = self._body() if method == "POST" else None
            with fake.lock:
                fake.requests.append({"method": method, "path": parts.path, "query": query,
                                      "body": body,
                                      "authorization": self.headers.get("Authorization")})
            segments = [unquote(s) for s in parts.path.strip("/").split("/")]
            if segments[:3] != ["api", "v1", "session"] and segments[:2] == ["api", "v1"]:
                if not self._authorised():
                    return
            with fake.lock:
                self._dispatch(method, segments[2:] if segments[:2] == ["api", "v1"] else None,
                               query, body)

        def _dispatch(self, method: str, rest: list[str] | None, query: dict,
                      body: Any) -> None:
            if rest is None:
                self._send(404, {"error": "Not Found", "code": 5, "message": "Not Found"})
                return
            if rest == ["session"] and method == "POST":
                if (body or {}).get("username") == fake.username and \
                        (body or {}).get("password") == fake.password:
                    fake.logins += 1
                    self._send(200, {"token": fake.issue_token()})
                else:
                    self._error(16, "Invalid username or password")
                return
            if rest == ["applications"] and method == "GET":
                wanted = set(query.get("projects", []) + query.get("project", []))
                items = [a.document(fake.namespace) for a in fake.apps.values()
                         if not wanted or a.project in wanted]
                self._send(200, {"metadata": {"resourceVersion": "1"}, "items": items})
                return
            if len(rest) >= 2 and rest[0] == "applications":
                app = fake.apps.get(rest[1])
                if app is None:
                    self._error(7, "permission denied")
                    return
                tail = rest[2:]
                if tail == [] and method == "GET":
                    refresh = query.get("refresh", [""])[0]
                    if refresh:
                        app.refreshes.append(refresh)
                    fake.advance(app)
                    self._send(200, app.document(fake.namespace))
                    return
                if tail == ["resource-tree"] and method == "GET":
                    nodes = [{**r, "uid": f"uid-{r.get('name')}", "health": r.get("health", {})}
                             for r in app.resources]
                    self._send(200, {"nodes": nodes})
                    return
                if tail == ["managed-resources"] and method == "GET":
                    self._send(200, {"items": [dict(r) for r in app.resources]})
                    return
                if tail == ["sync"] and method == "POST":
                    if app.operation is not None and app.operation["phase"] == "Running":
                        self._error(9, "another operation is already in progress")
                        return
                    fake.start_sync(app, body or {})
                    self._send(200, app.document(fake.namespace))
                    return
            self._send(404, {"error": "Not Found", "code": 5, "message": "Not Found"})

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            self._route("POST")

    return Handler
