"""Every protected operation of the OpenAPI document: 401 without credentials, 403 below role.

The roles come from the document, which takes them from the code's `require_role`; the
test drives each operation over HTTP, so a route that forgets its check fails here.
"""

from __future__ import annotations

import re

import pytest

from runner.auth.roles import ROLES, at_least
from tests.support.runner_process import RunnerProcess, http


@pytest.fixture(scope="module")
def operations(runner: RunnerProcess) -> list[tuple[str, str, str]]:
    document = http.get(runner.url("/api/v1/openapi.json")).json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("x-gantry-role"):
                concrete = re.sub(r"{[^}]+}", "payment-api", path)
                found.append((method.upper(), concrete, operation["x-gantry-role"]))
    assert len(found) > 20
    return found


@pytest.fixture(scope="module")
def tokens(runner: RunnerProcess) -> dict[str, str]:
    import uuid

    return {role: runner.create_user(f"role-{role}-{uuid.uuid4().hex[:6]}", role)
            for role in ROLES}


def test_every_protected_operation_needs_credentials(runner, operations) -> None:
    for method, path, _ in operations:
        response = http.request(method, runner.url(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]


def test_every_operation_refuses_lower_roles_with_403(runner, operations, tokens) -> None:
    for method, path, needed in operations:
        for role, token in tokens.items():
            if at_least(role, needed):
                continue
            response = http.request(method, runner.url(path), headers=runner.auth(token),
                                     json={})
            assert response.status_code == 403, (method, path, role, response.text)


def test_sufficient_roles_pass_the_role_check(runner, operations, tokens) -> None:
    safe = [(m, p, r) for m, p, r in operations if m == "GET"]
    for method, path, needed in safe:
        response = http.request(method, runner.url(path), headers=runner.auth(tokens[needed]))
        assert response.status_code not in (401, 403), (method, path, response.text)
