"""The contract between the actions engine and the executors that really run an action.

An executor is a small state machine driven by the engine. `start` performs the first step;
when the work is not finished it answers `Wait(seconds)` and the engine calls `poll` again after
that delay (from a timer heap, so a run waiting on GitHub or in a retry backoff holds no thread).
After a restart of the runner, a run that was in flight is handed to `resume`, which either
continues from what the executor kept in `ctx.state` (for example a GitHub run id) or fails
with an explicit error. Every step returns `Done`, `Failed` or `Wait`; an exception raised by an
executor fails the run with a generic message (the exception text is logged, redacted).

Each module `runner/actions/executors/<type>.py` exposes `EXECUTOR`, an instance implementing
`Executor`; `runner.actions.executors.EXECUTORS` maps `spec.type` to it.

Rules for executors:
- Never put a secret into `outputs`, `error` or `state`: the engine redacts every value listed in
  `ctx.secrets` from outputs and errors, but `state` is persisted as given. Append each secret
  the executor resolves (tokens, `${VAR}` values, plugin credentials) to `ctx.secrets` as soon
  as it is known.
- `state` must stay JSON-serialisable; the engine persists it after every step.
- A step should not block for long: network calls use bounded timeouts, and waiting is done by
  returning `Wait`, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from generator.validate.action_spec import config_problems

from ..placeholders import Placeholders


@dataclass(frozen=True, slots=True)
class Done:
    """The run succeeded; `outputs` are shown on the run."""

    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Failed:
    """The run failed with a message a person can act on; `outputs` may still say what happened."""

    error: str
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Wait:
    """Not finished: call `poll` again after `seconds`."""

    seconds: float


Step = Done | Failed | Wait


@dataclass(slots=True)
class RunContext:
    """Everything an executor may use for one run.

    `action` is the Action entity as JSON, `config` its `spec.config`, `inputs` the validated
    inputs with defaults applied. `plugin_config(name)` returns the decrypted settings of a
    plugin (`{}` when unset). `workspace` is the runner's `Workspace` (used by `internal`),
    or None where no catalog is available. `state` survives between steps and restarts.
    `audit(action=, resource_type=, resource_name=, before=, after=, commit=, details=)`
    appends an audit entry in the name of the user who triggered the run (redacted).
    `placeholders` resolves `${NAME}` in config values under the runner's GANTRY_ACTION_ENV
    (the default allows nothing); `secrets` starts with the values of the run's secret inputs.
    `requester_role` is the role the run acts with (see `Engine.requester_role`): the
    requester's effective role when they asked, capped by their account's role now; None when
    the account no longer exists.
    """

    run_id: str
    action_name: str
    action: dict[str, Any]
    config: dict[str, Any]
    inputs: dict[str, Any]
    triggered_by: str
    plugin_config: Callable[[str], dict[str, Any]] = field(default=lambda _name: {})
    workspace: Any = None
    secrets: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    triggered_by_email: str | None = None
    audit: Callable[..., None] = field(default=lambda **_entry: None)
    placeholders: Placeholders = field(default_factory=Placeholders)
    requester_role: str | None = None

    def add_secret(self, value: Any) -> None:
        """Remember a resolved secret so that the engine keeps it out of every output."""
        if isinstance(value, str) and value and value not in self.secrets:
            self.secrets.append(value)


@runtime_checkable
class Executor(Protocol):
    """One action type (`spec.type`). Instances are shared by all runs: keep them stateless."""

    type: str

    def validate_config(self, config: dict[str, Any]) -> list[str]:
        """Problems with `spec.config`, one message each (empty when valid); no I/O.

        `BaseExecutor` checks the config against `$defs/<type>` of `schemas/action.json` and
        the shared rules (`generator.validate.action_spec`), as `gantry validate` does.
        """
        ...

    def start(self, ctx: RunContext) -> Step:
        """The first step of a run."""
        ...

    def poll(self, ctx: RunContext) -> Step:
        """A later step, after the engine honoured a `Wait`."""
        ...

    def resume(self, ctx: RunContext) -> Step:
        """Continue a run that was in flight when the runner stopped, or fail it explicitly."""
        ...


RESTART_ERROR = (
    "the runner restarted while this run was in flight; its outcome is unknown, "
    "so it was marked failed instead of being sent again"
)


class BaseExecutor:
    """Defaults for executors that finish in one step and cannot be resumed safely."""

    type: str = ""

    def validate_config(self, config: dict[str, Any]) -> list[str]:
        return [message for _path, _key, message in config_problems(self.type, config)]

    def poll(self, ctx: RunContext) -> Step:
        return Failed(f"executor {self.type!r} does not wait between steps")

    def resume(self, ctx: RunContext) -> Step:
        return Failed(RESTART_ERROR)
