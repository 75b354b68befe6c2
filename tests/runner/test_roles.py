"""Every protected operation of the OpenAPI document: 401 without credentials, 403 below role.

The roles come from the document, which takes them from the code's `require_role`; the
test drives each operation through the app (in process), so a route that forgets its check
fails here.
"""

from __future__ import annotations

import re

import pytest

from runner.auth.roles import ROLES, at_least
from tests.runner.inprocess import InProcessApp


@pytest.fixture(scope="module")
def operations(api: InProcessApp) -> list[tuple[str, str, str]]:
    document = api.http.get(api.url("/api/v1/openapi.json")).json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("x-gantry-role"):
                concrete = re.sub(r"{[^}]+}", "payment-api", path)
                found.append((method.upper(), concrete, operation["x-gantry-role"]))
    assert len(found) > 20
    return found


@pytest.fixture(scope="module")
def tokens(api: InProcessApp) -> dict[str, str]:
    import uuid

    return {role: api.create_user(f"role-{role}-{uuid.uuid4().hex[:6]}", role)
            for role in ROLES}


def test_every_protected_operation_needs_credentials(api, operations) -> None:
    for method, path, _ in operations:
        response = api.http.request(method, api.url(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]


def test_every_operation_refuses_lower_roles_with_403(api, operations, tokens) -> None:
    for method, path, needed in operations:
        for role, token in tokens.items():
            if at_least(role, needed):
                continue
            response = api.http.request(method, api.url(path), headers=api.auth(token),
                                        json={})
            assert response.status_code == 403, (method, path, role, response.text)


def test_sufficient_roles_pass_the_role_check(api, operations, tokens) -> None:
    """The role that the document names gets an answer of the operation itself: never a
    refusal (401/403), and never a server error, which would hide whether it passed."""
    safe = [(m, p, r) for m, p, r in operations if m == "GET"]
    assert safe
    for method, path, needed in safe:
        response = api.http.request(method, api.url(path), headers=api.auth(tokens[needed]))
        assert response.status_code not in (401, 403), (method, path, response.text)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
