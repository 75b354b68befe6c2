"""Start a real `gantry serve` process against a temporary Git repository.

Used by every test directory that talks to the runner over HTTP:

    repo = make_catalog_repo(tmp_path / "repo")
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner:
        httpx.get(runner.url("/api/v1/auth/me"), headers=runner.auth())
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GANTRY = Path(sys.executable).with_name("gantry")
ADMIN_PASSWORD = "admin-password-for-tests"
SECRET_KEY = "test-secret-key-0123456789"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Gantry Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Gantry Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


class Http:
    """`httpx.get/post/...` without the cost of a new SSL context per call.

    Every call gets a fresh client (so no cookies carry over between calls) on one shared
    transport: a connection pool, or an app answering in this process.
    """

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport or httpx.HTTPTransport()

    def request(self, method: str, url: str, *, cookies: dict | None = None,
                timeout: float = 30, **kwargs: Any) -> httpx.Response:
        client = httpx.Client(transport=self._transport, timeout=timeout, trust_env=False,
                              cookies=cookies)
        headers = {"Connection": "close", **(kwargs.pop("headers", None) or {})}
        return client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


http = Http()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for programs that cannot bind port 0.

    The port is released before the program binds it, so another process may take it in
    between: `RunnerProcess` does not use it (the runner binds port 0 and logs its port).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+) ")


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; returns stdout."""
    env = {**os.environ, **GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


def make_catalog_repo(root: Path, *, catalog: Path | None = None, with_remote: bool = False,
                      extra_files: dict[str, str] | None = None) -> Path:
    """A Git repository at `root` holding a copy of the example catalog and gantry.yaml.

    `catalog` overrides the source catalog folder; `extra_files` (relative path → text) are
    added before the first commit; `with_remote` adds a bare repository as `origin`.
    """
    root.mkdir(parents=True, exist_ok=True)
    source = catalog or PROJECT_ROOT / "catalog"
    shutil.copytree(source, root / "catalog", dirs_exist_ok=True)
    config = PROJECT_ROOT / "gantry.yaml"
    if config.is_file():
        shutil.copy2(config, root / "gantry.yaml")
    for relpath, text in (extra_files or {}).items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", GIT_IDENTITY["GIT_AUTHOR_NAME"])
    git(root, "config", "user.email", GIT_IDENTITY["GIT_AUTHOR_EMAIL"])
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "Seed the catalog")
    if with_remote:
        bare = root.parent / f"{root.name}-remote.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        git(root, "remote", "add", "origin", str(bare))
        git(root, "push", "-q", "origin", "main")
    return root


TINY_CATALOG = {
    "Team/default/tiny-team.yaml": """apiVersion: gantry.io/v1
kind: Team
metadata:
  name: tiny-team
  description: The only team of a tiny test catalog
spec:
  members:
    - name: admin
""",
}


def make_tiny_catalog(folder: Path) -> Path:
    """A one-entity catalog, for tests about the process rather than the catalog."""
    for relpath, text in TINY_CATALOG.items():
        target = folder / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def login(base_url: str, username: str, password: str) -> str:
    """A session token for the user (raises on failure)."""
    response = http.post(f"{base_url}/api/v1/auth/login",
                          json={"username": username, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["token"]


class RunnerProcess:
    """A `gantry serve` child process on a loopback port; a context manager.

    The runner binds port 0, so the kernel picks a free port with no window in which
    another process could take it; the port is read from the server's "Listening at" log
    line. Each start (a restart included) binds a new port: use `url()` after `start()`.
    """

    def __init__(self, catalog: Path, data_dir: Path, *, env: dict[str, str] | None = None,
                 admin_password: str = ADMIN_PASSWORD, secret_key: str = SECRET_KEY,
                 startup_timeout: float = 90.0, threads: int | None = None,
                 wait_for: str = "warm", workers: int | None = None) -> None:
        self.catalog = Path(catalog)
        self.data_dir = Path(data_dir)
        self.port = 0
        self.base_url = ""
        self.admin_password = admin_password
        self.startup_timeout = startup_timeout
        self.log_path = self.data_dir.parent / f"runner-{uuid.uuid4().hex[:12]}.log"
        self.env = {
            **os.environ,
            **GIT_IDENTITY,
            "GANTRY_CATALOG": str(self.catalog),
            "GANTRY_DATA_DIR": str(self.data_dir),
            "GANTRY_ADMIN_PASSWORD": admin_password,
            "GANTRY_SECRET_KEY": secret_key,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.args = [str(GANTRY), "serve", "--host", "127.0.0.1", "--port", "0"]
        if threads:
            self.args += ["--threads", str(threads)]
        if workers:
            self.args += ["--workers", str(workers)]
        self.process: subprocess.Popen[bytes] | None = None
        self.admin_token: str | None = None
        self.wait_for = wait_for
        """What `start` waits for: "healthz" (the process answers), "ready" (`/readyz` 200:
        the API serves) or "warm" (ready and nothing left warming: the site is rendered)."""

    def start(self) -> RunnerProcess:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.args, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=self.catalog.parent)
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gantry serve exited with {self.process.returncode}:\n"
                                   f"{self.log()}")
            if self._read_port() and self._started():
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"gantry serve was not {self.wait_for} in time:\n{self.log()}")
        self.admin_token = login(self.base_url, "admin", self.admin_password)
        return self

    def _started(self) -> bool:
        """Whether the runner has come as far as `wait_for` says."""
        path = "/healthz" if self.wait_for == "healthz" else "/readyz"
        try:
            response = http.get(self.url(path), timeout=2)
        except httpx.TransportError:
            return False
        if response.status_code != 200:
            return False
        return self.wait_for != "warm" or not response.json()["warming"]

    def _read_port(self) -> bool:
        """Take the port this start bound from the log; False until it is logged."""
        try:
            found = LISTENING.search(self.log_path.read_bytes())
        except OSError:
            return False
        if found is None:
            return False
        self.port = int(found.group(1))
        self.base_url = f"http://127.0.0.1:{self.port}"
        return True

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def auth(self, token: str | None = None) -> dict[str, str]:
        """The Authorization header for `token` (default: the admin's)."""
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on this runner, authenticated as `token` (default admin)."""
        return httpx.Client(base_url=self.base_url, headers=self.auth(token), timeout=30,
                            **kwargs)

    def create_user(self, username: str, role: str, password: str = "password-123") -> str:
        """Create a user through the API and return a session token for it."""
        response = http.post(self.url("/api/v1/auth/users"), headers=self.auth(),
                              json={"username": username, "password": password, "role": role},
                              timeout=30)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"cannot create {username}: {response.text}")
        return login(self.base_url, username, password)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 20.0) -> int | None:
        """End the runner with `sig` and wait; returns the exit code.

        SIGTERM goes to the main process, which shuts its worker down as in production.
        Any other signal (SIGKILL: no shutdown code runs) goes to the worker processes as
        well, as when a container or a service's whole process group is killed.
        """
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        targets = [self.process.pid]
        if sig != signal.SIGTERM:
            targets = _children(self.process.pid) + targets
        for pid in targets:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        _wait_gone([pid for pid in targets if pid != self.process.pid], timeout)
        return code

    def __enter__(self) -> RunnerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    """The process ids of `pid`'s children and their descendants (Linux /proc)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(part) for part in task.read_text().split()]
            except OSError:
                continue
            found.extend(kids)
            pending.extend(kids)
    return found


def _wait_gone(pids: list[int], timeout: float) -> None:
    """Wait until none of `pids` exists any more (killed processes end at once)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
                    break  # a zombie: dead, its parent has not collected it
            except (OSError, IndexError):
                break
            time.sleep(0.02)
