"""The local HTTP server of `gantry watch`: serves the built site and tells pages to reload.

HTML responses get one extra `<script>` (the built files stay as published); it polls
`/__gantry/status` and reloads the page when the build number changes, or shows the
catalog's problems in an overlay.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

STATUS_PATH = "/__gantry/status"
SCRIPT_PATH = "/__gantry/reload.js"
_INJECT = f'<script src="{SCRIPT_PATH}"></script>'.encode()


class _Handler(SimpleHTTPRequestHandler):
    status: Callable[[], dict]
    script: bytes

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal is for build output and problems."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html_file(self) -> Path | None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not urlsplit(self.path).path.endswith("/"):
                return None
            path = path / "index.html"
        return path if path.suffix == ".html" and path.is_file() else None

    def do_GET(self) -> None:
        route = unquote(urlsplit(self.path).path)
        if route == STATUS_PATH:
            self._send(json.dumps(self.status()).encode(), "application/json")
            return
        if route == SCRIPT_PATH:
            self._send(self.script, "text/javascript; charset=utf-8")
            return
        html = self._html_file()
        if html is None:
            super().do_GET()
            return
        body = html.read_bytes()
        at = body.rfind(b"</body>")
        body = body[:at] + _INJECT + body[at:] if at >= 0 else body + _INJECT
        self._send(body, "text/html; charset=utf-8")


def start_server(site_dir: Path, host: str, port: int, status: Callable[[], dict],
                 script: bytes) -> ThreadingHTTPServer:
    """Serve `site_dir` on host:port (0 picks a free port) in a background thread."""
    handler = type("WatchHandler", (_Handler,), {"status": staticmethod(status),
                                                  "script": script})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(site_dir)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="gantry-watch-http",
                     daemon=True).start()
    return server
