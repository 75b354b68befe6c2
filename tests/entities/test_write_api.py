"""Writes over HTTP: one commit per write by the caller, edits in place, and every refusal."""

from __future__ import annotations

import copy
import difflib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .portal import Portal


def new_service(name: str, **spec: object) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "description": f"{name} for tests",
                         "owner": "platform-team", "tags": ["tests"]},
            "spec": {"type": "backend", "lifecycle": "development", **spec}}


def changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.decode().splitlines(keepends=True),
                              after.decode().splitlines(keepends=True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def files_in_commit(portal: Portal, commit: str) -> list[str]:
    return portal.git("show", "--format=", "--name-only", commit).split()


def audit_entries(portal: Portal) -> list[dict]:
    with portal.client("admin") as client:
        return client.get("/api/v1/audit", params={"limit": 100}).json()


def snapshot(portal: Portal) -> tuple[str, str, dict[str, bytes]]:
    """HEAD, `git status` and every catalog file's bytes: what a failed write must not move."""
    files = {str(p.relative_to(portal.catalog)): p.read_bytes()
             for p in sorted(portal.catalog.rglob("*")) if p.is_file()}
    return portal.head(), portal.git("status", "--porcelain"), files


def test_create_commits_one_file_authored_by_the_caller(portal: Portal) -> None:
    before = portal.head()
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=new_service("created-one"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["metadata"]["name"] == "created-one"
    assert body["metadata"]["createdBy"] == "developer"
    assert response.headers["ETag"]
    path = portal.catalog / "Service" / "default" / "created-one.yaml"
    assert path.is_file()
    head = portal.head()
    assert portal.git("rev-parse", "HEAD~1").strip() == before
    assert files_in_commit(portal, head) == ["catalog/Service/default/created-one.yaml"]
    assert portal.git("show", "-s", "--format=%an <%ae>", head).strip() == \
        "developer <developer@users.gantry>"
    assert portal.git("show", "-s", "--format=%cn", head).strip() == "Gantry"
    assert portal.git("status", "--porcelain") == ""
    entry = next(e for e in audit_entries(portal) if e["resourceName"] == "created-one")
    assert entry["action"] == "create" and entry["commit"] == head
    assert entry["userName"] == "developer" and entry["resourceType"] == "Service"
    assert entry["after"]["metadata"]["name"] == "created-one" and entry["before"] is None


def test_created_entity_is_searchable_within_a_second(portal: Portal) -> None:
    with portal.client("developer") as client:
        assert client.post("/api/v1/entities",
                           json=new_service("zebra-quokka")).status_code == 201
        started = time.monotonic()
        while True:
            found = client.get("/api/v1/search", params={"q": "zebra-quokka"}).json()
            if found and found[0]["name"] == "zebra-quokka":
                break
            assert time.monotonic() - started < 1.0, "not searchable within a second"
            time.sleep(0.02)
        listed = client.get("/api/v1/entities", params={"tag": "tests"}).json()
    assert "zebra-quokka" in {e["metadata"]["name"] for e in listed}


def site_page_with(portal: Portal, path: str, text: str) -> httpx.Response:
    """The page once it shows `text`: the site catches up in the background, after the
    write has answered (the last answer after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        page = httpx.get(portal.runner.url(path), timeout=30)
        if (page.status_code == 200 and text in page.text) or time.monotonic() > deadline:
            return page
        time.sleep(0.1)


def test_created_entity_gets_its_site_page(portal: Portal) -> None:
    with portal.client("developer") as client:
        assert client.post("/api/v1/entities", json=new_service("paged-svc")).status_code \
            == 201
    page = site_page_with(portal, "/catalog/service/default/paged-svc/", "paged-svc")
    assert page.status_code == 200 and "paged-svc" in page.text
    # a second write: the site renders from a snapshot that only takes the new log
    with portal.client("developer") as client:
        body = client.get("/api/v1/entities/service/paged-svc").json()
        body["metadata"]["title"] = "Paged Service, retitled"
        assert client.put("/api/v1/entities/service/paged-svc", json=body).status_code == 200
    page = site_page_with(portal, "/catalog/service/default/paged-svc/", "retitled")
    assert "Paged Service, retitled" in page.text


def test_create_existing_is_409_and_changes_nothing(portal: Portal) -> None:
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=new_service("payment-api"))
    assert response.status_code == 409
    assert "already exists" in response.json()["error"]
    assert snapshot(portal) == state


@pytest.mark.parametrize("mutate, fragment, role", [
    (lambda d: d["spec"].update(type="mainframe"), "spec.type", "developer"),
    # a developer is refused (403) before validation: no Team lists them as its member
    (lambda d: d["metadata"].update(owner="no-such-team"), "no-such-team", "platform-engineer"),
    (lambda d: d["spec"].update(colour="blue"), "colour", "developer"),
    (lambda d: d["metadata"].update(name="Bad_Name"), "name", "developer"),
])
def test_invalid_entity_is_422_with_the_validators_messages(portal: Portal, mutate,
                                                             fragment: str, role: str) -> None:
    data = new_service("invalid-one")
    mutate(data)
    state = snapshot(portal)
    with portal.client(role) as client:
        response = client.post("/api/v1/entities", json=data)
    if response.status_code == 400:  # a name unsafe as a file name is refused even earlier
        assert fragment in response.json()["error"]
    else:
        assert response.status_code == 422, response.text
        body = response.json()
        assert fragment in body["error"]
        assert body["problems"] and all({"file", "line", "column", "message"} <= set(p)
                                        for p in body["problems"])
        assert any(fragment in p["message"] for p in body["problems"])
    assert snapshot(portal) == state


@pytest.mark.parametrize("metadata", [{"name": "../escape"}, {"name": "a/b"},
                                      {"name": "ok", "namespace": ".."},
                                      {"name": "ok", "namespace": "../../outside"},
                                      {"name": "..%2f..%2fx"}])
def test_names_escaping_the_catalog_are_400(portal: Portal, metadata: dict) -> None:
    data = new_service("x")
    data["metadata"] = {**data["metadata"], **metadata}
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=data)
    assert response.status_code == 400
    assert "file path" in response.json()["error"]
    assert snapshot(portal) == state
    assert not (portal.repo.parent / "outside.yaml").exists()


@pytest.mark.parametrize("kind", ["../Service", "Service/..", "..", "./Service"])
def test_escaping_kind_is_400_and_changes_nothing(portal: Portal, kind: str) -> None:
    data = new_service("x")
    data["kind"] = kind
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=data)
    assert response.status_code == 400
    assert response.json()["error"]
    assert snapshot(portal) == state


def test_unknown_kind_in_body_is_422(portal: Portal) -> None:
    data = new_service("x")
    data["kind"] = "Widget"
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=data)
    assert response.status_code == 422
    assert "unknown kind 'Widget'" in response.json()["error"]
    assert snapshot(portal) == state


@pytest.mark.parametrize("content, headers, status", [
    (b"{not json", {"Content-Type": "application/json"}, 400),
    (b"[1, 2]", {"Content-Type": "application/json"}, 400),
    (b'{"kind": "Service"}', {"Content-Type": "text/plain"}, 415),
    (b'{"kind": "Service"}', {"Content-Type": "application/json"}, 400),
    (b'{"kind": "Service", "metadata": {"name": 5}}', {"Content-Type": "application/json"},
     400),
])
def test_malformed_bodies(portal: Portal, content: bytes, headers: dict, status: int) -> None:
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", content=content, headers=headers)
    assert response.status_code == status
    assert "error" in response.json()
    assert snapshot(portal) == state


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/entities"),
    ("PUT", "/api/v1/entities/service/payment-api"),
    ("DELETE", "/api/v1/entities/service/payment-api"),
])
def test_writes_need_developer(portal: Portal, method: str, path: str) -> None:
    state = snapshot(portal)
    with portal.client("viewer") as client:
        response = client.request(method, path, json=new_service("payment-api"))
    assert response.status_code == 403
    assert "developer" in response.json()["error"]
    anonymous = httpx.request(method, portal.runner.url(path), json=new_service("x"),
                              timeout=30)
    assert anonymous.status_code == 401
    assert snapshot(portal) == state


def test_update_edits_in_place_keeping_every_other_byte(portal: Portal) -> None:
    path = portal.catalog / "Service" / "default" / "payment-api.yaml"
    original = path.read_bytes()
    with portal.client("developer") as client:
        current = client.get("/api/v1/entities/service/payment-api")
        body = current.json()
        body["metadata"]["description"] = "Handles every payment, refunds included"
        body["spec"]["dependsOn"].append({"kind": "Infrastructure", "name": "redis-sessions"})
        response = client.put("/api/v1/entities/service/payment-api", json=body,
                              headers={"If-Match": current.headers["ETag"]})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["metadata"]["description"] == "Handles every payment, refunds included"
    assert updated["metadata"]["updatedAt"] and response.headers["ETag"] != \
        current.headers["ETag"]
    after = path.read_bytes()
    removed, added = changed_lines(original, after)
    assert removed == ["  description: Handles all payment processing\n"]
    assert added == ["  description: Handles every payment, refunds included\n",
                     "    - kind: Infrastructure\n", "      name: redis-sessions\n"]
    assert after.startswith(original.split(b"apiVersion")[0])  # the header comments
    head = portal.head()
    assert files_in_commit(portal, head) == ["catalog/Service/default/payment-api.yaml"]
    assert portal.git("show", "-s", "--format=%an", head).strip() == "developer"
    entry = next(e for e in audit_entries(portal)
                 if e["action"] == "update" and e["resourceName"] == "payment-api")
    assert entry["before"]["metadata"]["description"] == "Handles all payment processing"
    assert entry["after"]["metadata"]["description"].startswith("Handles every payment")
    assert entry["commit"] == head


def test_update_inside_the_multi_document_file(portal: Portal) -> None:
    path = portal.catalog / "environments.yaml"
    original = path.read_bytes()
    with portal.client("developer") as client:
        body = client.get("/api/v1/entities/environment/staging").json()
        body["spec"]["region"] = "eu-central-1"
        response = client.put("/api/v1/entities/environment/staging", json=body)
    assert response.status_code == 200, response.text
    after = path.read_bytes()
    removed, added = changed_lines(original, after)
    assert removed == ["  region: eu-west-1\n"]
    assert added == ["  region: eu-central-1\n"]
    first, _, rest = original.partition(b"\n---\n")
    assert after.startswith(first + b"\n---\n")
    last = original.rsplit(b"\n---\n", 1)[1]
    assert after.endswith(b"\n---\n" + last)
    assert files_in_commit(portal, portal.head()) == ["catalog/environments.yaml"]


def test_get_then_put_unchanged_is_200_without_a_commit(portal: Portal) -> None:
    head = portal.head()
    with portal.client("platform-engineer") as client:
        body = client.get("/api/v1/entities/team/platform-team").json()
        response = client.put("/api/v1/entities/team/platform-team", json=body)
    assert response.status_code == 200
    assert response.json() == body
    assert portal.head() == head
    assert portal.git("status", "--porcelain") == ""


def test_stale_if_match_is_409_and_the_newer_write_stays(portal: Portal) -> None:
    with portal.client("developer") as client:
        first = client.get("/api/v1/entities/service/user-service")
        etag = first.headers["ETag"]
        winner = copy.deepcopy(first.json())
        winner["metadata"]["title"] = "User Service (first writer)"
        assert client.put("/api/v1/entities/service/user-service", json=winner,
                          headers={"If-Match": etag}).status_code == 200
        state = snapshot(portal)
        loser = copy.deepcopy(first.json())
        loser["metadata"]["title"] = "User Service (stale writer)"
        response = client.put("/api/v1/entities/service/user-service", json=loser,
                              headers={"If-Match": etag})
        assert response.status_code == 409
        assert "changed since you read it" in response.json()["error"]
        assert snapshot(portal) == state
        stale_delete = client.delete("/api/v1/entities/service/user-service",
                                     headers={"If-Match": etag})
        assert stale_delete.status_code == 409
        now = client.get("/api/v1/entities/service/user-service").json()
    assert now["metadata"]["title"] == "User Service (first writer)"


def test_concurrent_updates_with_the_same_etag_one_wins(portal: Portal) -> None:
    with portal.client("developer") as client:
        current = client.get("/api/v1/entities/service/order-service")
    etag, body = current.headers["ETag"], current.json()

    def put(title: str) -> int:
        data = copy.deepcopy(body)
        data["metadata"]["title"] = title
        with portal.client("developer") as client:
            return client.put("/api/v1/entities/service/order-service", json=data,
                              headers={"If-Match": etag}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(put, [f"Orders {i}" for i in range(4)]))
    assert statuses == [200, 409, 409, 409]


def test_put_mismatched_name_is_400_and_missing_is_404(portal: Portal) -> None:
    state = snapshot(portal)
    with portal.client("developer") as client:
        body = client.get("/api/v1/entities/service/legacy-billing").json()
        renamed = client.put("/api/v1/entities/service/storefront-web", json=body)
        assert renamed.status_code == 400
        assert "does not match" in renamed.json()["error"]
        missing = client.put("/api/v1/entities/service/ghost-service",
                             json=new_service("ghost-service"))
        assert missing.status_code == 404
        ghost_delete = client.delete("/api/v1/entities/service/ghost-service")
        assert ghost_delete.status_code == 404
    assert snapshot(portal) == state


def test_invalid_update_is_422_and_leaves_the_file(portal: Portal) -> None:
    state = snapshot(portal)
    with portal.client("developer") as client:
        body = client.get("/api/v1/entities/service/admin-console").json()
        body["spec"]["lifecycle"] = "immortal"
        response = client.put("/api/v1/entities/service/admin-console", json=body)
    assert response.status_code == 422
    assert "spec.lifecycle" in response.json()["error"]
    assert snapshot(portal) == state


def test_delete_removes_the_file_and_commits(portal: Portal) -> None:
    with portal.client("developer") as client:
        assert client.post("/api/v1/entities",
                           json=new_service("short-lived")).status_code == 201
        response = client.delete("/api/v1/entities/service/short-lived")
        assert response.status_code == 204
        assert client.get("/api/v1/entities/service/short-lived").status_code == 404
        assert client.get("/api/v1/search", params={"q": "short-lived"}).json() == [] or \
            all(r["name"] != "short-lived" for r in
                client.get("/api/v1/search", params={"q": "short-lived"}).json())
    assert not (portal.catalog / "Service" / "default" / "short-lived.yaml").exists()
    head = portal.head()
    assert files_in_commit(portal, head) == ["catalog/Service/default/short-lived.yaml"]
    assert portal.git("show", "-s", "--format=%s", head).strip() == \
        "Delete Service default/short-lived"
    entry = next(e for e in audit_entries(portal) if e["action"] == "delete")
    assert entry["before"]["metadata"]["name"] == "short-lived" and entry["after"] is None


def test_delete_one_document_of_a_multi_document_file(portal: Portal) -> None:
    path = portal.catalog / "guilds.yaml"
    original = path.read_bytes()
    with portal.client("platform-engineer") as client:
        response = client.delete("/api/v1/entities/team/guild-b")
        assert response.status_code == 204
        assert client.get("/api/v1/entities/team/guild-a").status_code == 200
    after = path.read_bytes()
    assert after == original.split(b"---\n")[0]
    assert files_in_commit(portal, portal.head()) == ["catalog/guilds.yaml"]


def test_delete_of_a_referenced_entity_is_409(portal: Portal) -> None:
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.delete("/api/v1/entities/infrastructure/postgres-payments")
    assert response.status_code == 409
    body = response.json()
    assert "service:default/payment-api" in body["error"]
    assert "service:default/payment-api" in body["referrers"]
    assert snapshot(portal) == state


def test_uncommitted_local_change_is_never_swept_into_a_commit(portal: Portal) -> None:
    path = portal.catalog / "Service" / "default" / "storefront-web.yaml"
    original = path.read_bytes()
    path.write_bytes(original + b"# a local edit nobody committed\n")
    try:
        with portal.client("developer") as client:
            body = client.get("/api/v1/entities/service/storefront-web").json()
            body["metadata"]["title"] = "Storefront web shop (edited)"
            head = portal.head()
            response = client.put("/api/v1/entities/service/storefront-web", json=body)
        assert response.status_code == 409
        assert "uncommitted changes" in response.json()["error"]
        assert portal.head() == head
        assert path.read_bytes().endswith(b"# a local edit nobody committed\n")
    finally:
        path.write_bytes(original)


def test_failed_commit_leaves_no_file_and_no_commit(portal: Portal) -> None:
    lock = portal.repo / ".git" / "refs" / "heads" / "main.lock"
    state = snapshot(portal)
    lock.write_text("held by another process\n")
    try:
        with portal.client("developer") as client:
            response = client.post("/api/v1/entities", json=new_service("never-written"))
            assert response.status_code == 500
            assert "could not be committed" in response.json()["error"]
            assert client.get("/api/v1/entities/service/never-written").status_code == 404
    finally:
        lock.unlink()
    assert snapshot(portal) == state
    assert not Path(portal.catalog / "Service" / "default" / "never-written.yaml").exists()


def test_derived_metadata_is_never_written_to_yaml(portal: Portal) -> None:
    data = new_service("with-dates")
    data["metadata"].update(createdAt="2020-01-01T00:00:00Z", updatedAt="2020-01-02T00:00:00Z",
                            createdBy="mallory")
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=data)
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["createdBy"] == "developer"
    text = (portal.catalog / "Service" / "default" / "with-dates.yaml").read_text()
    for key in ("createdAt", "updatedAt", "createdBy", "mallory"):
        assert key not in text


def test_kind_is_written_as_its_schema_spells_it(portal: Portal) -> None:
    data = new_service("lower-kind")
    data["kind"] = "service"
    with portal.client("developer") as client:
        response = client.post("/api/v1/entities", json=data)
    assert response.status_code == 201, response.text
    text = (portal.catalog / "Service" / "default" / "lower-kind.yaml").read_text()
    assert "kind: Service\n" in text


def test_reads_keep_answering_while_writes_go_on(portal: Portal) -> None:
    def reads() -> list[int]:
        with portal.client("viewer") as client:
            return [client.get(path).status_code for _ in range(15) for path in
                    ("/api/v1/entities/service/payment-api", "/api/v1/search?q=pay",
                     "/api/v1/graph/service/payment-api")]

    with ThreadPoolExecutor(3) as pool:
        readers = [pool.submit(reads) for _ in range(2)]
        with portal.client("developer") as client:
            for index in range(3):
                assert client.post("/api/v1/entities",
                                   json=new_service(f"busy-{index}")).status_code == 201
        statuses = [status for reader in readers for status in reader.result()]
    assert set(statuses) == {200}


@pytest.mark.parametrize("path", ["/api/v1/entities/service/payment-api?namespace=..",
                                  "/api/v1/entities/service/..%2F..%2Fgantry",
                                  "/api/v1/entities/service/a..b"])
def test_delete_with_escaping_names_is_refused_before_touching_disk(portal: Portal,
                                                                    path: str) -> None:
    state = snapshot(portal)
    with portal.client("developer") as client:
        response = client.delete(path)
    assert response.status_code in (400, 404)
    assert "error" in response.json()
    assert snapshot(portal) == state


def test_if_match_star_and_weak_tags_are_accepted(portal: Portal) -> None:
    with portal.client("platform-engineer") as client:
        current = client.get("/api/v1/entities/team/frontend-team")
        body = current.json()
        body["metadata"]["title"] = "Frontend (star)"
        assert client.put("/api/v1/entities/team/frontend-team", json=body,
                          headers={"If-Match": "*"}).status_code == 200
        now = client.get("/api/v1/entities/team/frontend-team")
        body = now.json()
        body["metadata"]["title"] = "Frontend (weak)"
        response = client.put("/api/v1/entities/team/frontend-team", json=body,
                              headers={"If-Match": f"W/{now.headers['ETag']}"})
        assert response.status_code == 200
        assert response.json()["metadata"]["title"] == "Frontend (weak)"
