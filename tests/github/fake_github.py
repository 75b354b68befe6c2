"""A small GitHub REST API server for tests, speaking the shapes Gantry relies on.

Endpoints (under an optional prefix such as `/api/v3`, as GitHub Enterprise Server has):
- `POST /app/installations/{id}/access_tokens` — verifies the app JWT (RS256) with the app's
  public key, `iss`, and a lifetime of at most 10 minutes; answers 201 with a new
  installation token and its `expires_at`;
- `POST /repos/{owner}/{repo}/actions/workflows/{file or id}/dispatches` — checks the ref,
  the inputs (unknown names: 422 `Unexpected inputs provided: [...]`; missing required ones;
  non-string values) and `return_run_details`, then creates a run and answers 200 with
  `workflow_run_id`, `run_url`, `html_url` — or 204 in `no-details` mode, or 422 refusing the
  key in `refuse-key` mode (as older GitHub Enterprise Server versions do);
- `GET /repos/{owner}/{repo}/actions/workflows/{file or id}/runs` — honours `event`,
  `branch`, `created` (`>=`, `<=`, `a..b`) and `per_page`, newest first;
- `GET /repos/{owner}/{repo}/actions/runs/{id}` — each read moves the run along its
  statuses (queued → in_progress → completed) and shows its conclusion at the end.

Every request but the token exchange needs `Authorization: Bearer <token>` with the PAT or a
live installation token (401 `Bad credentials` otherwise). `fail(...)` makes the next matching
requests answer an error (rate limits with headers, 5xx); `lose_dispatch_answers` makes the
server create the run and then drop the connection without answering.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

DOCS = "https://docs.github.com/rest"


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class Workflow:
    id: int
    owner: str
    repo: str
    file: str
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    conclusion: str = "success"
    statuses: tuple[str, ...] = ("queued", "in_progress", "completed")


@dataclass
class Run:
    id: int
    workflow: Workflow
    head_branch: str
    event: str
    created_at: float
    inputs: dict[str, Any]
    conclusion: str
    statuses: tuple[str, ...]
    reads: int = 0
    visible_after_lists: int = 0

    @property
    def status(self) -> str:
        return self.statuses[min(self.reads, len(self.statuses) - 1)]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Fault:
    method: str
    path_part: str
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class App:
    """GitHub App credentials: the test keeps the private key, the fake the public one."""

    app_id: str
    installation_id: str
    public_key: str
    token_lifetime: float = 3600.0


class FakeGitHub:
    """Start with `with FakeGitHub(token=...) as github:`; `github.api_url` is the base URL."""

    def __init__(self, *, prefix: str = "", token: str | None = None, app: App | None = None,
                 dispatch_mode: str = "details", branches: tuple[str, ...] = ("main",)):
        self.prefix = prefix.rstrip("/")
        self.pat = token
        self.app = app
        self.dispatch_mode = dispatch_mode
        self.branches = set(branches)
        self.workflows: list[Workflow] = []
        self.runs: dict[int, Run] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.installation_tokens: dict[str, float] = {}
        self.lose_dispatch_answers = 0
        self.run_visible_after_lists = 0
        self.lock = threading.Lock()
        self._ids = iter(range(9000001, 10**9))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.github = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + self.prefix

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- test set-up -------------------------------------------------------------------------

    def add_workflow(self, owner: str, repo: str, file: str, *, inputs: dict | None = None,
                     conclusion: str = "success",
                     statuses: tuple[str, ...] = ("queued", "in_progress", "completed"),
                     workflow_id: int | None = None) -> Workflow:
        workflow = Workflow(workflow_id or 161335 + len(self.workflows), owner, repo, file,
                            inputs or {}, conclusion, statuses)
        self.workflows.append(workflow)
        return workflow

    def add_run(self, workflow: Workflow, *, created_at: float | None = None,
                branch: str = "main", event: str = "workflow_dispatch") -> Run:
        """A run that Gantry did not dispatch (someone else's)."""
        with self.lock:
            run = Run(next(self._ids), workflow, branch, event,
                      float(int(created_at if created_at is not None else time.time())), {},
                      workflow.conclusion, workflow.statuses)
            self.runs[run.id] = run
            return run

    def fail(self, method: str, path_part: str, status: int, *, headers: dict | None = None,
             message: str = "", times: int = 1) -> None:
        """The next `times` requests whose path contains `path_part` answer `status`."""
        body = {"message": message or f"fake failure {status}", "documentation_url": DOCS}
        with self.lock:
            self.faults.append(Fault(method, path_part, status, headers or {}, body, times))

    # -- what happened -----------------------------------------------------------------------

    def requests_to(self, method: str, path_part: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and path_part in r.path]

    @property
    def dispatches(self) -> list[Request]:
        return self.requests_to("POST", "/dispatches")

    def wait_for_dispatches(self, count: int, timeout: float = 10.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.dispatches
            if len(found) >= count:
                return found
            time.sleep(0.002)
        raise AssertionError(f"{count} dispatch(es) expected, got {len(self.dispatches)}")

    # -- API ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append(Request(method, path, query, headers, body, time.time()))
            for fault in self.faults:
                if fault.method == method and fault.path_part in path and fault.times > 0:
                    fault.times -= 1
                    return fault.status, fault.headers, fault.body
        if not path.startswith(self.prefix + "/"):
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        parts = [unquote(p) for p in path[len(self.prefix):].strip("/").split("/")]
        if method == "POST" and len(parts) == 4 and parts[:2] == ["app", "installations"] \
                and parts[3] == "access_tokens":
            return self._access_token(parts[2], headers)
        if not self._authorised(headers):
            return 401, {}, {"message": "Bad credentials", "documentation_url": DOCS}
        if len(parts) >= 5 and parts[0] == "repos" and parts[3] == "actions":
            owner, repo = parts[1], parts[2]
            if method == "POST" and len(parts) == 7 and parts[4] == "workflows" \
                    and parts[6] == "dispatches":
                return self._dispatch(owner, repo, parts[5], body)
            if method == "GET" and len(parts) == 7 and parts[4] == "workflows" \
                    and parts[6] == "runs":
                return self._list_runs(owner, repo, parts[5], query)
            if method == "GET" and len(parts) == 6 and parts[4] == "runs":
                return self._get_run(owner, repo, parts[5])
        return 404, {}, {"message": "Not Found", "documentation_url": DOCS}

    def _authorised(self, headers: dict[str, str]) -> bool:
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not token:
            return False
        if self.pat is not None and secrets.compare_digest(token, self.pat):
            return True
        with self.lock:
            expires = self.installation_tokens.get(token)
        return expires is not None and expires > time.time()

    def _access_token(self, installation: str, headers: dict[str, str]):
        if self.app is None or installation != self.app.installation_id:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, self.app.public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]}, leeway=0)
        except jwt.PyJWTError as exc:
            return 401, {}, {"message": f"A JSON web token could not be decoded ({exc})",
                             "documentation_url": DOCS}
        if scheme.lower() != "bearer" or str(claims["iss"]) != self.app.app_id:
            return 401, {}, {"message": "'Issuer' claim ('iss') must be an Integer",
                             "documentation_url": DOCS}
        if claims["exp"] - claims["iat"] > 600 or claims["iat"] > time.time() + 1:
            return 401, {}, {"message": "'Expiration time' claim ('exp') is too far in the "
                             "future", "documentation_url": DOCS}
        issued = "ghs_" + secrets.token_hex(18)
        expires = time.time() + self.app.token_lifetime
        with self.lock:
            self.installation_tokens[issued] = expires
        return 201, {}, {"token": issued, "expires_at": iso(expires),
                         "permissions": {"actions": "write"}, "repository_selection": "all"}

    def _workflow(self, owner: str, repo: str, key: str) -> Workflow | None:
        for workflow in self.workflows:
            if (workflow.owner, workflow.repo) == (owner, repo) and key in (
                    workflow.file, str(workflow.id)):
                return workflow
        return None

    def _dispatch(self, owner: str, repo: str, key: str, body: Any):
        workflow = self._workflow(owner, repo, key)
        if workflow is None:
            return 404, {}, {"message": "Not Found", "documentation_url":
                             DOCS + "/actions/workflows#create-a-workflow-dispatch-event"}
        if not isinstance(body, dict) or not isinstance(body.get("ref"), str):
            return 422, {}, {"message": "Invalid request.\n\n\"ref\" wasn't supplied.",
                             "documentation_url": DOCS}
        if self.dispatch_mode == "refuse-key" and "return_run_details" in body:
            return 422, {}, {"message": "Invalid request.\n\nNo subschema in \"anyOf\" matched."
                             "\n\"return_run_details\" is not a permitted key.",
                             "documentation_url": DOCS}
        if body["ref"] not in self.branches:
            return 422, {}, {"message": f"No ref found for: {body['ref']}",
                             "documentation_url": DOCS}
        inputs = body.get("inputs") or {}
        unexpected = [name for name in inputs if name not in workflow.inputs]
        if unexpected:
            return 422, {}, {"message": f"Unexpected inputs provided: {json.dumps(unexpected)}",
                             "documentation_url": DOCS}
        for name, value in inputs.items():
            if not isinstance(value, str):
                return 422, {}, {"message": f"For 'properties/{name}', {json.dumps(value)} is "
                                 "not a string.", "documentation_url": DOCS}
        for name, spec in workflow.inputs.items():
            if spec.get("required") and name not in inputs:
                return 422, {}, {"message": f"Required input '{name}' not provided",
                                 "documentation_url": DOCS}
        with self.lock:
            run = Run(next(self._ids), workflow, body["ref"], "workflow_dispatch",
                      float(int(time.time())), dict(inputs), workflow.conclusion,
                      workflow.statuses, visible_after_lists=self.run_visible_after_lists)
            self.runs[run.id] = run
            lose = self.lose_dispatch_answers > 0
            if lose:
                self.lose_dispatch_answers -= 1
        if lose:
            return -1, {}, None
        if self.dispatch_mode == "details" and body.get("return_run_details") is True:
            shown = self._run_json(run)
            return 200, {}, {"workflow_run_id": run.id, "run_url": shown["url"],
                             "html_url": shown["html_url"]}
        return 204, {}, None

    def _list_runs(self, owner: str, repo: str, key: str, query: dict[str, list[str]]):
        workflow = self._workflow(owner, repo, key)
        if workflow is None:
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
        event = (query.get("event") or [None])[0]
        branch = (query.get("branch") or [None])[0]
        created = (query.get("created") or [None])[0]
        per_page = int((query.get("per_page") or ["30"])[0])
        low, high = float("-inf"), float("inf")
        if created:
            if created.startswith(">="):
                low = parse_iso(created[2:])
            elif created.startswith("<="):
                high = parse_iso(created[2:])
            elif ".." in created:
                first, second = created.split("..", 1)
                low, high = parse_iso(first), parse_iso(second)
            else:
                return 422, {}, {"message": "Validation Failed", "documentation_url": DOCS}
        with self.lock:
            found = []
            for run in self.runs.values():
                if run.workflow is not workflow:
                    continue
                if run.visible_after_lists > 0:
                    run.visible_after_lists -= 1
                    continue
                if (event and run.event != event) or (branch and run.head_branch != branch):
                    continue
                if not low <= run.created_at <= high:
                    continue
                found.append(run)
            found.sort(key=lambda run: (run.created_at, run.id), reverse=True)
            shown = [self._run_json(run) for run in found[:per_page]]
        return 200, {}, {"total_count": len(found), "workflow_runs": shown}

    def _get_run(self, owner: str, repo: str, run_id: str):
        with self.lock:
            run = self.runs.get(int(run_id)) if run_id.isdigit() else None
            if run is None or (run.workflow.owner, run.workflow.repo) != (owner, repo):
                return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
            shown = self._run_json(run)
            run.reads += 1
        return 200, {}, shown

    def _run_json(self, run: Run) -> dict[str, Any]:
        workflow = run.workflow
        repo_path = f"{workflow.owner}/{workflow.repo}"
        web = self.base_url if self.prefix else "https://github.com"
        status = run.status
        return {
            "id": run.id, "name": workflow.file.rsplit(".", 1)[0], "head_branch": run.head_branch,
            "head_sha": "0" * 40, "path": f".github/workflows/{workflow.file}",
            "run_number": run.id % 1000, "run_attempt": 1, "event": run.event,
            "status": status, "conclusion": run.conclusion if status == "completed" else None,
            "workflow_id": workflow.id,
            "url": f"{self.api_url}/repos/{repo_path}/actions/runs/{run.id}",
            "html_url": f"{web}/{repo_path}/actions/runs/{run.id}",
            "created_at": iso(run.created_at), "updated_at": iso(time.time()),
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        github: FakeGitHub = self.server.github  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        parts = urlsplit(self.path)
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, extra, payload = github.handle(self.command, parts.path, parse_qs(parts.query),
                                               headers, body)
        if status < 0:  # the answer is lost: the work was done, the connection just drops
            self.close_connection = True
            return
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ratelimit-limit", "5000")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
