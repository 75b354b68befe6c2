"""The runner's index is derived data: whatever a stop or a disk left behind, a start
rebuilds it from the catalog with a warning instead of failing; and a gantry.yaml the site
build cannot use never stops the runner nor gets committed through the dashboard API."""

from __future__ import annotations

import shutil
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from generator.index.build import build_index, wal_of
from tests.support.runner_process import (
    RunnerProcess,
    git,
    http,
    make_catalog_repo,
    make_tiny_catalog,
)

READY_WITHIN = 30.0
REBUILT = "is rebuilt from the catalog"


def _team(name: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Team",
            "metadata": {"name": name, "description": f"written before a stop: {name}"},
            "spec": {"members": [{"name": "admin"}]}}


def _ready(runner: RunnerProcess) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        response = http.get(runner.url("/readyz"), timeout=10)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert response.status_code == 200, response.text


def _stray_wal(folder: Path) -> bytes:
    """The write-ahead log of some other DuckDB database, left unapplied."""
    other = folder / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("CREATE TABLE unrelated (a INTEGER)")
    con.execute("INSERT INTO unrelated VALUES (42)")
    con.close()
    return wal_of(other).read_bytes()


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """A catalog repository and the data folder of a runner killed (SIGKILL) after a few
    writes, its index's write-ahead log still on disk; with the names written."""
    base = tmp_path_factory.mktemp("stopped")
    repo = make_catalog_repo(base / "repo", catalog=make_tiny_catalog(base / "tiny"))
    runner = RunnerProcess(repo / "catalog", base / "data").start()
    names = [f"kept-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    try:
        for name in names:
            response = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                                 json=_team(name))
            assert response.status_code == 201, response.text
    finally:
        runner.kill(signal.SIGKILL)
    index = base / "data" / "index" / "catalog.duckdb"
    assert wal_of(index).is_file() and wal_of(index).stat().st_size > 0
    return repo, base / "data", names


def _garbage_index(index: Path) -> None:
    index.write_bytes(b"\x00garbage, not a database\xff" * 2000)


def _stray_log(index: Path) -> None:
    wal_of(index).write_bytes(_stray_wal(index.parent.parent.parent))


def _truncated_log(index: Path) -> None:
    log = wal_of(index)
    log.write_bytes(log.read_bytes()[: log.stat().st_size // 3])


def _log_without_index(index: Path) -> None:
    index.unlink()


def _empty_index(index: Path) -> None:
    index.write_bytes(b"")


def _leftover_build(index: Path) -> None:
    """A build folder a stop left behind, and a damaged index beside it."""
    folder = index.with_name(f".{index.name}.k1ll3d")
    (folder / "spill").mkdir(parents=True)
    (folder / index.name).write_bytes(b"half a database")
    _garbage_index(index)


def _header_only(index: Path) -> None:
    with index.open("r+b") as handle:
        handle.truncate(4096)


@pytest.mark.parametrize("damage, warned", [
    pytest.param(_garbage_index, True, id="garbage-index"),
    pytest.param(_header_only, True, id="index-cut-short"),
    pytest.param(_stray_log, True, id="log-of-another-database"),
    pytest.param(_truncated_log, False, id="truncated-log"),
    pytest.param(_log_without_index, True, id="log-without-index"),
    pytest.param(_empty_index, True, id="empty-index"),
    pytest.param(_leftover_build, True, id="leftover-build-folder"),
])
def test_a_damaged_index_is_rebuilt_at_start(stopped: tuple[Path, Path, list[str]],
                                            tmp_path: Path,
                                            damage: Callable[[Path], None],
                                            warned: bool) -> None:
    repo, data, names = stopped
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    index = copy / "index" / "catalog.duckdb"
    damage(index)
    with RunnerProcess(repo / "catalog", copy) as runner:
        _ready(runner)
        for name in names:
            response = http.get(runner.url(f"/api/v1/entities/Team/{name}"),
                                headers=runner.auth())
            assert response.status_code == 200, (name, runner.log())
        found = http.get(runner.url(f"/api/v1/search?q={names[0]}"), headers=runner.auth())
        assert found.status_code == 200 and names[0] in found.text
        log = runner.log()
    if warned:
        assert REBUILT in log and "WARNING" in log, log
    assert "Traceback" not in log, log
    assert "Worker failed to boot" not in log
    assert not list(index.parent.glob(f".{index.name}.*")), "a build folder was left"
    con = duckdb.connect(str(index), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM entities").fetchone()[0] >= len(names) + 1
    finally:
        con.close()


def test_a_full_build_never_leaves_the_old_log_beside_the_new_file(tmp_path: Path) -> None:
    catalog = make_tiny_catalog(tmp_path / "catalog")
    index = tmp_path / "out" / "catalog.duckdb"
    build_index(catalog, index)
    con = duckdb.connect(str(index))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("UPDATE meta SET value = 'stale' WHERE key = 'built_at'")
    con.close()
    assert wal_of(index).is_file(), "the setup needs a log that was not folded in"
    extra = catalog / "Team" / "default" / "second-team.yaml"
    extra.write_text(extra.with_name("tiny-team.yaml").read_text()
                     .replace("tiny-team", "second-team"), encoding="utf-8")
    stats = build_index(catalog, index)
    assert not stats.unchanged
    assert not wal_of(index).exists()
    con = duckdb.connect(str(index))
    try:
        assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == 2
    finally:
        con.close()


# --- gantry.yaml --------------------------------------------------------------------------

BROKEN_BY_HAND = {  # the text, and what GET /api/v1/dashboard/config answers
    "surrogate-in-title": ('title: "Portal \\uDC80"\n', 200),
    "surrogate-in-announcement": ('announcements:\n  - title: "\\ud83d"\n'
                                  '    message: m\n    severity: info\n', 200),
    "surrogate-in-a-key": ('"\\udfff": 1\n', 200),
    "announcements-not-a-list": ("announcements: 7\n", 200),
    "alias-loop": ("quickLinks: &links [*links]\n", 200),
    "not-yaml": ("widgets: [unclosed\n", 409),
}


@pytest.fixture(scope="module")
def broken_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("broken-config")
    return make_catalog_repo(base / "repo", catalog=make_tiny_catalog(base / "tiny"))


@pytest.mark.parametrize("text, read_status", list(BROKEN_BY_HAND.values()),
                         ids=list(BROKEN_BY_HAND))
def test_a_gantry_yaml_broken_by_hand_is_reported_and_the_runner_serves(
        broken_repo: Path, tmp_path: Path, text: str, read_status: int) -> None:
    (broken_repo / "gantry.yaml").write_text(text, encoding="utf-8")
    git(broken_repo, "commit", "-qam", "Edit the settings by hand")
    with RunnerProcess(broken_repo / "catalog", tmp_path / "data") as runner:
        _ready(runner)
        home = http.get(runner.url("/"))
        assert home.status_code == 200 and "<html" in home.text.lower()
        team = http.get(runner.url("/api/v1/entities/Team/tiny-team"), headers=runner.auth())
        assert team.status_code == 200
        read = http.get(runner.url("/api/v1/dashboard/config"), headers=runner.auth())
        assert read.status_code == read_status, read.text
        log = runner.log()
    assert "gantry.yaml cannot be used" in log and "default settings" in log, log
    assert "the site could not be rebuilt" not in log, log
    assert "Traceback" not in log, log


def test_the_dashboard_commits_nothing_the_build_cannot_use(tmp_path: Path) -> None:
    repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))
    (repo / "gantry.yaml").write_text('title: "Broken \\ud801 by hand"\nwidgets: []\n',
                                      encoding="utf-8")
    git(repo, "commit", "-qam", "Break the title by hand")
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner:
        put = "/api/v1/dashboard/config"
        head = git(repo, "rev-parse", "HEAD")
        text = (repo / "gantry.yaml").read_text()
        for body in ({"announcements": [{"title": "\udbff", "message": "m"}]},
                     {"quickLinks": [{"title": "ok", "url": "https://example.com/\udc00"}]},
                     {"widgets": [{"id": "entity_stats\ud800x"}]}):
            response = http.put(runner.url(put), headers={**runner.auth(),
                                "Content-Type": "application/json"},
                                content=_json_with_escapes(body))
            assert response.status_code == 400, response.text
        # A valid change elsewhere would keep the broken title: refused, the file named.
        response = http.put(runner.url(put), headers=runner.auth(),
                            json={"widgets": [{"id": "entity_stats", "enabled": True}]})
        assert response.status_code == 409, response.text
        assert "title" in response.json()["error"]
        assert git(repo, "rev-parse", "HEAD") == head
        assert (repo / "gantry.yaml").read_text() == text
        assert git(repo, "status", "--porcelain").strip() == ""

        # Uncommitted edits are someone else's: refused, left as they are.
        (repo / "gantry.yaml").write_text("title: Fixed by hand\n", encoding="utf-8")
        response = http.put(runner.url(put), headers=runner.auth(),
                            json={"widgets": [{"id": "entity_stats"}]})
        assert response.status_code == 409 and "uncommitted" in response.json()["error"]
        assert (repo / "gantry.yaml").read_text() == "title: Fixed by hand\n"
        git(repo, "commit", "-qam", "Fix the title")

        response = http.put(runner.url(put), headers=runner.auth(),
                            json={"announcements": [{"title": "Back to normal",
                                                     "message": "fixed"}]})
        assert response.status_code == 200, response.text
        assert git(repo, "status", "--porcelain").strip() == ""
        assert "Back to normal" in git(repo, "show", "HEAD:gantry.yaml")
        assert "Back to normal" in http.get(runner.url("/")).text
        leftovers = [p.name for p in repo.iterdir() if p.name.startswith(".gantry.yaml")]
        assert leftovers == []


@pytest.mark.parametrize("body, where", [
    ({"announcements": [{"title": "ok", "message": "bad \udc00 text"}]},
     "announcements[0].message"),
    ({"quickLinks": [{"title": "\ud800", "url": "https://example.com/"}]}, "quickLinks[0].title"),
    ({"widgets": [{"id": "x\udfffy"}]}, "widgets[0].id"),
])
def test_a_setting_that_is_not_text_is_refused_by_name(body: dict, where: str) -> None:
    from runner.catalog.dashboard import DashboardError, validate

    with pytest.raises(DashboardError) as refused:
        validate(body)
    assert refused.value.status == 400
    assert where in str(refused.value) and "surrogate" in str(refused.value)


@pytest.mark.parametrize("text, where", [
    ('title: "\\udc80"\n', "title is not valid text"),
    ('title: "raw \udc80"\n', "not valid UTF-8"),
    ('links:\n  - name: [1, {"deep": "\\ud800"}]\n', "links[0].name[1].deep"),
    ("quickLinks: {a: 1}\n", "quickLinks must be a list"),
    ("- just\n- a list\n", "mapping"),
    ("[" * 5000 + "]" * 5000 + "\n", "gantry.yaml"),
    ("loop: &self [1, *self]\n", "refers to itself"),
    ("quickLinks: []\n1: one\ntwo: 2\n", "mix numbers and text"),
])
def test_settings_the_build_cannot_use_are_named(text: str, where: str) -> None:
    from runner.catalog.dashboard import DashboardError, load_settings

    with pytest.raises(DashboardError) as refused:
        load_settings(text)
    assert refused.value.status == 409 and where in str(refused.value)


def _json_with_escapes(body: dict) -> bytes:
    """JSON text with lone surrogates written as \\u escapes, as a client would send them."""
    import json

    return json.dumps(body, ensure_ascii=True).encode("ascii")


def test_a_failed_dashboard_commit_puts_the_file_back(tmp_path: Path) -> None:
    from runner.catalog.dashboard import DashboardError, write
    from runner.catalog.git import Identity

    repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))
    before = (repo / "gantry.yaml").read_bytes()
    head = git(repo, "rev-parse", "HEAD")
    branch_lock = repo / ".git" / "refs" / "heads" / "main.lock"
    branch_lock.write_text("held by another git process\n")  # the commit cannot move the branch
    with pytest.raises(DashboardError) as failed:
        write(repo / "catalog", {"announcements": [{"title": "t", "message": "m",
                                                    "severity": "info"}]},
              author=Identity("admin", "admin@users.gantry"))
    assert failed.value.status == 500
    assert (repo / "gantry.yaml").read_bytes() == before
    assert git(repo, "rev-parse", "HEAD") == head
    branch_lock.unlink()
    assert git(repo, "status", "--porcelain").strip() == ""
    assert not [p for p in repo.iterdir() if p.name.startswith(".gantry.yaml")]


@pytest.mark.parametrize("text, needle", [
    ('announcements:\n  - title: "\\udbff"\n    message: m\n', "announcements[0].title"),
    ("widgets: {id: x}\n", "widgets must be a list"),
    ("nested: &n {again: *n}\n", "refers to itself"),
])
def test_gantry_build_names_a_setting_broken_by_hand(tmp_path: Path, text: str,
                                                     needle: str) -> None:
    from click.testing import CliRunner

    from generator.commands.build import command

    catalog = make_tiny_catalog(tmp_path / "catalog")
    (tmp_path / "gantry.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(command, ["--catalog", str(catalog),
                                          "--out", str(tmp_path / "dist")])
    assert result.exit_code == 2, result.output
    assert "gantry.yaml" in result.output and needle in result.output
    assert not isinstance(result.exception, UnicodeError)
