"""The wiring of the runner: every area and executor registered, no import cycle, one error
handler for every `StatusError`, the store's schema versioned, and the role a run acts with."""

from __future__ import annotations

import ast
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from runner.actions import executors
from runner.actions.executors.base import Executor
from runner.app import BLUEPRINTS
from runner.errors import StatusError
from runner.store import runs as run_store
from runner.store.db import StoreError
from runner.store.schema import MIGRATIONS, TABLES, open_store, schema_version
from tests.runner.inprocess import InProcessApp, start_app

PROJECT = Path(__file__).resolve().parents[2]
RUNNER = PROJECT / "runner"


# --- every module is registered by name --------------------------------------------------------

def _defines(path: Path, name: str) -> bool:
    """Whether the module assigns `name` at its top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return True
    return False


def test_every_blueprint_module_is_registered() -> None:
    with_bp = {f"runner.api.{path.stem}" for path in (RUNNER / "api").glob("*.py")
               if _defines(path, "bp")}
    assert with_bp, "no blueprint module found"
    assert {module.__name__ for module in BLUEPRINTS} == with_bp
    assert len(BLUEPRINTS) == len(with_bp)


def test_every_registered_blueprint_serves(tmp_path: Path) -> None:
    from runner.api import ws

    for portal in start_app(tmp_path):
        served = {blueprint.import_name for blueprint in portal.app.blueprints.values()}
        assert {module.__name__ for module in BLUEPRINTS} <= served
        options = portal.app.config["SOCK_SERVER_OPTIONS"]
        assert options["max_message_size"] == ws.MAX_CLIENT_MESSAGE


def test_no_area_waits_for_a_start_hook() -> None:
    """`create_app` starts the services itself and calls no hook of an area: a leftover
    `init_app` would silently never run."""
    for module in BLUEPRINTS:
        assert not hasattr(module, "init_app"), module.__name__


def test_every_executor_module_is_registered() -> None:
    folder = RUNNER / "actions" / "executors"
    with_executor = {f"runner.actions.executors.{path.stem}" for path in folder.glob("*.py")
                     if _defines(path, "EXECUTOR")}
    assert with_executor, "no executor module found"
    assert {module.__name__ for module in executors.EXECUTOR_MODULES} == with_executor
    types = [module.EXECUTOR.type for module in executors.EXECUTOR_MODULES]
    assert sorted(types) == sorted(executors.EXECUTORS) and len(set(types)) == len(types)
    for action_type, executor in executors.EXECUTORS.items():
        assert isinstance(executor, Executor) and executor.type == action_type
        assert executors.executor_for(action_type) is executor


def test_every_store_table_module_is_applied() -> None:
    with_schema = {f"runner.store.{path.stem}" for path in (RUNNER / "store").glob("*.py")
                   if _defines(path, "SCHEMA")}
    assert with_schema and {module.__name__ for module in TABLES} == with_schema


# --- no import cycle -----------------------------------------------------------------------------

def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, in functions too (they run later, but still run), except
    those under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(child for child in ast.iter_child_nodes(node)
                     if not _type_checking_only(child))


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules of the same package tree it imports (a package's `__init__` runs
    first, so importing `a.b.c` also imports `a` and `a.b` — except the importer's own
    packages, which are already being imported when it runs)."""
    files = {_module_name(path, root): path for path in root.rglob("*.py")}
    top = root.name
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        parts = name.split(".")
        ancestors = {".".join(parts[:end]) for end in range(1, len(parts))}
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                found = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in found:
                if target.split(".")[0] != top:
                    continue
                pieces = target.split(".")
                targets |= {".".join(pieces[:end]) for end in range(1, len(pieces) + 1)}
        graph[name] = {target for target in targets
                       if target in files and target != name and target not in ancestors}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _package(root: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    return root


def test_the_cycle_check_finds_cycles_through_functions_and_packages(tmp_path: Path) -> None:
    pkg = _package(tmp_path / "pkg", {
        "__init__.py": "",
        "api/__init__.py": "",
        "api/gitops.py": "from .plugins import host\n",
        "api/plugins.py": "def sync():\n    from .gitops import queue\n",
        "store/__init__.py": "from . import users\n",
        "store/users.py": "from .db import Store\n",
        "store/db.py": "import os\n",
        "late.py": "from typing import TYPE_CHECKING\n"
                   "if TYPE_CHECKING:\n    from pkg import late2\n",
        "late2.py": "import pkg.late\n",
    })
    assert cycles(import_graph(pkg)) == [["pkg.api.gitops", "pkg.api.plugins"]]
    (pkg / "store" / "db.py").write_text("from pkg.store import users\n")
    assert ["pkg.store.db", "pkg.store.users"] in cycles(import_graph(pkg))


def test_runner_has_no_import_cycle() -> None:
    graph = import_graph(RUNNER)
    assert "runner.api.common" in graph["runner.api.entities"]
    assert cycles(graph) == []


def test_api_areas_import_no_other_area() -> None:
    """Blueprints share `runner.api.common`, never each other (the former gitops ↔ plugins)."""
    graph = import_graph(RUNNER)
    areas = {module.__name__ for module in BLUEPRINTS}
    for area in areas:
        assert not graph[area] & (areas - {area}), area


# --- one handler for every StatusError -----------------------------------------------------------

def test_a_service_error_answers_its_status_through_the_one_handler(tmp_path: Path) -> None:
    for portal in start_app(tmp_path):
        headers = portal.headers("admin")
        weak = portal.client.post("/api/v1/auth/users", headers=headers,
                                  json={"username": "-dash", "password": "long-enough-1",
                                        "role": "viewer"})
        assert weak.status_code == 400 and "error" in weak.get_json()
        unknown = portal.client.put("/api/v1/plugins/flux/config", headers=headers,
                                    json={"no-such-field": 1})
        assert unknown.status_code in (400, 422), unknown.get_data(as_text=True)
        assert unknown.get_json()["error"]
        gitops = portal.client.get("/api/v1/plugins/gitops/status", headers=headers)
        assert gitops.status_code != 500
        not_argocd = portal.client.post("/api/v1/plugins/gitops/sync", headers=headers)
        assert not_argocd.status_code in (202, 409), not_argocd.get_data(as_text=True)
        assert portal.client.post("/api/v1/plugins/github/sync",
                                  headers=headers).status_code == 400


def test_status_errors_keep_their_headers_and_extra(tmp_path: Path) -> None:
    from flask import Flask

    from runner.api import errors

    class Throttled(StatusError):
        status = 429

    app = Flask("wiring-test")
    errors.register(app)

    @app.get("/slow")
    def slow() -> None:
        raise Throttled("wait a little", headers={"Retry-After": "7"}, hint="later")

    @app.get("/api-error")
    def api_error() -> None:
        raise errors.ApiError(418, "teapot", detail=[1])

    answer = app.test_client().get("/slow")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.get_json() == {"error": "wait a little", "hint": "later"}
    teapot = app.test_client().get("/api-error")
    assert teapot.status_code == 418 and teapot.get_json() == {"error": "teapot", "detail": [1]}


# --- the store's schema is versioned ------------------------------------------------------------

OLD_RUNS = """CREATE TABLE action_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, action_name TEXT NOT NULL,
    action_json TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL,
    inputs_json TEXT NOT NULL, inputs_sealed TEXT NOT NULL, triggered_by TEXT NOT NULL,
    triggered_by_email TEXT, started_at TEXT NOT NULL, completed_at TEXT, outputs_json TEXT,
    error TEXT, approvals_json TEXT NOT NULL DEFAULT '[]', state_json TEXT NOT NULL DEFAULT '{}',
    next_step_at REAL);
INSERT INTO action_runs (id, action_name, action_json, status, phase, inputs_json,
    inputs_sealed, triggered_by, started_at)
    VALUES ('old-run', 'old-action', '{}', 'success', 'done', '{}', '', 'carol', '2024-01-01');
"""


def test_an_older_store_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "gantry.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_RUNS)
    store = open_store(path)
    try:
        assert schema_version(store) == len(MIGRATIONS) >= 1
        old = run_store.get(store, "old-run")
        assert old is not None and old["triggered_by"] == "carol"
        assert old["triggered_by_role"] is None
    finally:
        store.close()
    again = open_store(path)  # opening twice runs nothing twice
    try:
        assert schema_version(again) == len(MIGRATIONS)
    finally:
        again.close()


def test_a_new_store_has_every_column_and_the_latest_version(tmp_path: Path) -> None:
    store = open_store(tmp_path / "fresh.db")
    try:
        columns = {row[1] for row in store.connection().execute("PRAGMA table_info(action_runs)")}
        assert "triggered_by_role" in columns
        assert schema_version(store) == len(MIGRATIONS)
    finally:
        store.close()


def test_a_store_from_a_newer_runner_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    with pytest.raises(StoreError, match="newer Gantry"):
        open_store(path)


# --- an internal run acts with the role its requester had when asking ----------------------------

RELABEL = {
    "apiVersion": "gantry.io/v1", "kind": "Action",
    "metadata": {"name": "relabel-the-team", "owner": "tiny-team"},
    "spec": {"type": "internal",
             "config": {"operation": "update", "target": {"kind": "Team", "name": "tiny-team"},
                        "setLabels": {"touched-by": "{{ run.triggeredBy }}"}},
             "permissions": {"allowedRoles": ["developer", "platform-engineer"]}},
}
GATED = {**RELABEL, "metadata": {"name": "relabel-after-approval", "owner": "tiny-team"},
         "spec": {**RELABEL["spec"], "permissions": {
             "allowedRoles": ["developer", "platform-engineer"], "requireApproval": True,
             "approvers": ["tiny-team"]}}}


def _team_file(portal: InProcessApp) -> Path:
    return portal.repo / "catalog" / "Team" / "default" / "tiny-team.yaml"


def _finished(portal: InProcessApp, name: str, run_id: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        run = portal.client.get(f"/api/v1/actions/{name}/runs/{run_id}",
                                headers=portal.headers("admin")).get_json()
        if run["status"] in ("success", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def _execute(portal: InProcessApp, name: str, token: str) -> dict:
    answer = portal.client.post(f"/api/v1/actions/{name}/execute", json={},
                                headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


@pytest.fixture(scope="module")
def crew(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessApp, dict]]:
    """The app, the two actions, and a platform engineer's keys: full and lowered."""
    for portal in start_app(tmp_path_factory.mktemp("wiring-roles")):
        for action in (RELABEL, GATED):
            created = portal.client.post("/api/v1/entities", json=action,
                                         headers=portal.headers("admin"))
            assert created.status_code == 201, created.get_data(as_text=True)
        full = portal.add_user("pat-engineer", "platform-engineer")
        session = portal.login("pat-engineer", "password-123")
        lowered = portal.client.post("/api/v1/auth/apikeys",
                                     json={"name": "lowered", "role": "developer"},
                                     headers={"Authorization": f"Bearer {session}"})
        assert lowered.status_code == 201, lowered.get_data(as_text=True)
        yield portal, {"full": full, "lowered": lowered.get_json()["key"]}


def test_a_run_started_with_a_lowered_key_is_judged_by_the_keys_role(crew) -> None:
    portal, keys = crew
    before = _team_file(portal).read_bytes()
    refused = _finished(portal, RELABEL["metadata"]["name"],
                        _execute(portal, RELABEL["metadata"]["name"], keys["lowered"])["id"])
    assert refused["status"] == "failed"
    assert "developer 'pat-engineer' may not write Team entities" in refused["error"]
    assert _team_file(portal).read_bytes() == before

    allowed = _finished(portal, RELABEL["metadata"]["name"],
                        _execute(portal, RELABEL["metadata"]["name"], keys["full"])["id"])
    assert allowed["status"] == "success", allowed["error"]
    labels = yaml.safe_load(_team_file(portal).read_text())["metadata"]["labels"]
    assert labels["touched-by"] == "pat-engineer"


def test_a_run_whose_requester_was_removed_fails_without_writing(crew) -> None:
    portal, _ = crew
    name = GATED["metadata"]["name"]
    token = portal.add_user("short-lived", "platform-engineer")
    pending = _execute(portal, name, token)
    assert pending["status"] == "pending"
    store = portal.app.extensions["gantry"].store
    with store.transaction() as conn:  # an operator removes the account meanwhile
        user_id = conn.execute("SELECT id FROM users WHERE username = 'short-lived'").fetchone()[0]
        for table in ("apikeys", "sessions"):
            conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
    before = _team_file(portal).read_bytes()
    approved = portal.client.post(f"/api/v1/actions/{name}/runs/{pending['id']}/approve",
                                  json={}, headers=portal.headers("admin"))
    assert approved.status_code == 200, approved.get_data(as_text=True)
    done = _finished(portal, name, pending["id"])
    assert done["status"] == "failed"
    assert "'short-lived' has no account on this runner any more" in done["error"]
    assert "nothing was written" in done["error"]
    assert _team_file(portal).read_bytes() == before


def test_a_run_recorded_before_roles_were_kept_uses_the_account_role(crew) -> None:
    portal, _ = crew
    engine = portal.app.extensions["gantry"].engine
    legacy = {"triggered_by": "pat-engineer", "triggered_by_role": None}
    assert engine.requester_role(legacy) == "platform-engineer"
    assert engine.requester_role({**legacy, "triggered_by_role": "developer"}) == "developer"
    assert engine.requester_role({**legacy, "triggered_by_role": "admin"}) == \
        "platform-engineer"  # never more than the account holds now
    assert engine.requester_role({**legacy, "triggered_by": "nobody-here"}) is None


def test_deciding_a_run_that_is_not_waiting_is_a_conflict(crew) -> None:
    from runner.actions.engine import NotAwaitingApproval

    portal, keys = crew
    name = RELABEL["metadata"]["name"]
    done = _finished(portal, name, _execute(portal, name, keys["full"])["id"])
    engine = portal.app.extensions["gantry"].engine
    with pytest.raises(NotAwaitingApproval) as caught:
        engine.decide(done["id"], "admin", True, None)
    assert isinstance(caught.value, StatusError) and caught.value.status == 409
    assert caught.value.body() == {"error": f"run {done['id']} was decided meanwhile"}
