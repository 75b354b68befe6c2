"""Drive one executor through its steps the way the engine does, sleeping through each Wait."""

from __future__ import annotations

import time

from runner.actions.executors.base import Done, Failed, RunContext, Wait


def make_context(config: dict, inputs: dict | None = None, **extra: object) -> RunContext:
    return RunContext(
        run_id=str(extra.pop("run_id", "run-0001")),
        action_name="test-action",
        action={"kind": "Action", "metadata": {"name": "test-action"}, "spec": {"config": config}},
        config=config,
        inputs=inputs or {},
        triggered_by="alice",
        **extra,  # type: ignore[arg-type]
    )


def drive(executor, ctx: RunContext, max_steps: int = 50) -> tuple[Done | Failed, list[float]]:
    """Run to the end; return the final step and the waits that were asked for."""
    waits: list[float] = []
    step = executor.start(ctx)
    for _ in range(max_steps):
        if not isinstance(step, Wait):
            return step, waits
        waits.append(step.seconds)
        time.sleep(step.seconds)
        step = executor.poll(ctx)
    raise AssertionError("executor never finished")
