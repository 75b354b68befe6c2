"""Action runs: what was asked, by whom, where it stands, and what the executor keeps.

Statuses are `pending` (awaiting approval, or queued for a worker), `running`, `success` and
`failed`. `phase` says what the engine does next and is what a restart recovers from:
`approval` (waiting for an approver), `queued` (nothing sent yet), `executing` (a step was in
progress), `waiting` (between steps, due at `next_step_at`), `done`.

`inputs_json` holds the inputs as shown (secret inputs redacted); the exact inputs the
executor needs are kept encrypted in `inputs_sealed`. `outputs_json` and `error` are written
already redacted by the engine (the run's secrets never reach a plain column). The Action
entity is kept as it was when the run was requested (`action_json`), so an approval approves
exactly what was asked. `triggered_by_role` is the requester's effective role when the run
was asked for (an API key may hold less than its owner; NULL for runs stored before it was
kept): an `internal` run never writes with more.

`owner` and `lease_until` say which runner process holds an in-flight run and until when
(seconds since the epoch). With several replicas on one PostgreSQL store, a process renews
the leases of its runs by heartbeat (`renew`); a run whose lease ran out is taken over by
another process (`take_over`) and resumed as after a restart. Every write of the engine
about a run is conditional on still holding it (`only_if_owner`), so a process that lost a
run cannot record anything for it any more.
"""

from __future__ import annotations

import json
from typing import Any

from .db import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS action_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    action_name TEXT NOT NULL,
    action_json TEXT NOT NULL,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    inputs_json TEXT NOT NULL,
    inputs_sealed TEXT NOT NULL,
    triggered_by TEXT NOT NULL,
    triggered_by_email TEXT,
    triggered_by_role TEXT,
    started_at TEXT NOT NULL,
    completed_at TEXT,
    outputs_json TEXT,
    error TEXT,
    approvals_json TEXT NOT NULL DEFAULT '[]',
    state_json TEXT NOT NULL DEFAULT '{}',
    next_step_at REAL,
    owner TEXT,
    lease_until REAL
);
CREATE INDEX IF NOT EXISTS action_runs_by_action ON action_runs (action_name, seq);
CREATE INDEX IF NOT EXISTS action_runs_by_phase ON action_runs (phase);
"""

STATUSES = ("pending", "running", "success", "failed")
TERMINAL = ("success", "failed")
IN_FLIGHT_PHASES = ("queued", "executing", "waiting")
_JSON_COLUMNS = {"outputs": "outputs_json", "approvals": "approvals_json", "state": "state_json",
                 "action": "action_json", "inputs": "inputs_json"}
_PLAIN_COLUMNS = {"status": "status", "phase": "phase", "error": "error",
                  "completed_at": "completed_at", "next_step_at": "next_step_at",
                  "inputs_sealed": "inputs_sealed", "owner": "owner",
                  "lease_until": "lease_until"}


def create(store: Store, *, run_id: str, action_name: str, action: dict[str, Any],
           status: str, phase: str, inputs: dict[str, Any], inputs_sealed: str,
           triggered_by: str, started_at: str, triggered_by_email: str | None = None,
           triggered_by_role: str | None = None, owner: str | None = None,
           lease_until: float | None = None) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO action_runs (id, action_name, action_json, status, phase, inputs_json,"
            " inputs_sealed, triggered_by, triggered_by_email, triggered_by_role, started_at,"
            " owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, action_name, json.dumps(action), status, phase, json.dumps(inputs),
             inputs_sealed, triggered_by, triggered_by_email, triggered_by_role, started_at,
             owner, lease_until),
        )


def _assignments(fields: dict[str, Any]) -> tuple[str, list[Any]]:
    parts, values = [], []
    for key, value in fields.items():
        if key in _JSON_COLUMNS:
            parts.append(f"{_JSON_COLUMNS[key]} = ?")
            values.append(None if value is None else json.dumps(value, default=str))
        elif key in _PLAIN_COLUMNS:
            parts.append(f"{_PLAIN_COLUMNS[key]} = ?")
            values.append(value)
        else:
            raise KeyError(f"unknown run field {key!r}")
    return ", ".join(parts), values


def update(store: Store, run_id: str, *, only_if_phase: tuple[str, ...] | None = None,
           only_if_owner: str | None = None, **fields: Any) -> bool:
    """Change fields of a run; with `only_if_phase`, only when the run is in one of those
    phases (a compare-and-set, so two approvers cannot both win); with `only_if_owner`, only
    while that process holds the run. True when a row changed."""
    assignments, values = _assignments(fields)
    sql = f"UPDATE action_runs SET {assignments} WHERE id = ?"
    values.append(run_id)
    if only_if_phase:
        sql += f" AND phase IN ({', '.join('?' for _ in only_if_phase)})"
        values.extend(only_if_phase)
    if only_if_owner is not None:
        sql += " AND owner = ?"
        values.append(only_if_owner)
    with store.transaction() as conn:
        return conn.execute(sql, values).rowcount == 1


def get(store: Store, run_id: str) -> dict[str, Any] | None:
    """The run with every column decoded, or None."""
    row = store.connection().execute(
        "SELECT * FROM action_runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else _decode(row)


def list_runs(store: Store, *, action_name: str | None = None, status: str | None = None,
              limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Runs newest first, optionally of one action and/or one status."""
    where, values = [], []
    if action_name is not None:
        where.append("action_name = ?")
        values.append(action_name)
    if status is not None:
        where.append("status = ?")
        values.append(status)
    sql = "SELECT * FROM action_runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ? OFFSET ?"
    rows = store.connection().execute(sql, [*values, limit, offset]).fetchall()
    return [_decode(row) for row in rows]


def in_flight(store: Store) -> list[dict[str, Any]]:
    """Runs the engine must pick up again after a start: queued, executing or waiting."""
    rows = store.connection().execute(
        "SELECT * FROM action_runs WHERE phase IN (?, ?, ?) ORDER BY seq",
        IN_FLIGHT_PHASES).fetchall()
    return [_decode(row) for row in rows]


def renew(store: Store, owner: str, lease_until: float) -> int:
    """Extend the lease of every in-flight run `owner` holds; how many it holds."""
    with store.transaction() as conn:
        return conn.execute(
            "UPDATE action_runs SET lease_until = ? WHERE owner = ? AND phase IN (?, ?, ?)",
            (lease_until, owner, *IN_FLIGHT_PHASES)).rowcount


def take_over(store: Store, owner: str, lease_until: float, now: float, *,
              own_too: bool = False, everything: bool = False) -> list[dict[str, Any]]:
    """Claim the in-flight runs nobody holds any more (no owner, or a lease older than
    `now`) for `owner`, and return them. `own_too` also takes back runs already recorded for
    `owner` (a restarted process of the same identity); `everything` takes every in-flight
    run (a store only one process uses, at its start).

    On PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so two replicas
    scanning at once split the runs between them instead of queueing on the same rows; on
    both stores the claim itself is a conditional update, so a run changes hands once.
    """
    phases = ", ".join("?" for _ in IN_FLIGHT_PHASES)
    where = [f"phase IN ({phases})"]
    values: list[Any] = list(IN_FLIGHT_PHASES)
    if not everything:
        free = "owner IS NULL OR lease_until IS NULL OR lease_until < ?"
        values.append(now)
        if own_too:
            free += " OR owner = ?"
            values.append(owner)
        where.append(f"({free})")
    sql = f"SELECT id FROM action_runs WHERE {' AND '.join(where)} ORDER BY seq"
    if store.dialect == "postgresql":
        sql += " FOR UPDATE SKIP LOCKED"
    taken: list[str] = []
    with store.transaction() as conn:
        for row in conn.execute(sql, values).fetchall():
            changed = conn.execute(
                f"UPDATE action_runs SET owner = ?, lease_until = ? WHERE id = ?"
                f" AND {' AND '.join(where)}", (owner, lease_until, row[0], *values)).rowcount
            if changed == 1:
                taken.append(row[0])
    return [run for run in (get(store, run_id) for run_id in taken) if run is not None]


def _decode(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "action_name": row["action_name"],
        "action": json.loads(row["action_json"]),
        "status": row["status"],
        "phase": row["phase"],
        "inputs": json.loads(row["inputs_json"]),
        "inputs_sealed": row["inputs_sealed"],
        "triggered_by": row["triggered_by"],
        "triggered_by_email": row["triggered_by_email"],
        "triggered_by_role": row["triggered_by_role"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "outputs": None if row["outputs_json"] is None else json.loads(row["outputs_json"]),
        "error": row["error"],
        "approvals": json.loads(row["approvals_json"]),
        "state": json.loads(row["state_json"]),
        "next_step_at": row["next_step_at"],
        "owner": row["owner"],
        "lease_until": row["lease_until"],
    }


def public(run: dict[str, Any]) -> dict[str, Any]:
    """A run in the API's shape (no engine internals, no sealed inputs)."""
    permissions = (run["action"].get("spec") or {}).get("permissions") or {}
    return {
        "id": run["id"],
        "actionName": run["action_name"],
        "status": run["status"],
        "inputs": run["inputs"],
        "triggeredBy": run["triggered_by"],
        "startedAt": run["started_at"],
        "completedAt": run["completed_at"],
        "outputs": run["outputs"] or {},
        "error": run["error"],
        "approvalRequired": permissions.get("requireApproval") is True,
        "awaitingApproval": run["phase"] == "approval",
        "approvals": run["approvals"],
    }
