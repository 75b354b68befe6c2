"""Values that reach `git` as arguments: remote URLs, branches and paths are checked, passed
after `--`, and `git` runs with only the https/http/ssh/git/file transports allowed.

The hostile values try to run `touch <marker>`; every test proves the marker never appears.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from runner.catalog.git_args import (
    UnsafeGitValue,
    run_git,
    safe_path,
    safe_ref_name,
    safe_remote_url,
)
from runner.store import settings as rows
from runner.store.schema import open_store
from tests.support.runner_process import RunnerProcess, git, make_catalog_repo

pytestmark = pytest.mark.xdist_group("plugins-trust-git")


def hostile_urls(marker: Path) -> list[str]:
    """Remote URLs that would run `touch marker` (or worse) if Git took them as given."""
    return [
        f"--upload-pack=touch {marker}",
        f"--receive-pack=touch {marker}",
        f"-u touch {marker}",
        "-uexample",
        f"--config=core.sshCommand=touch {marker}",
        f"-c core.sshCommand=touch {marker}",
        f"ext::sh -c touch% {marker}",
        f"EXT::sh -c touch% {marker}",
        f"ext::touch {marker}",
        "fd::17",
        "fd::0,1",
        f"ssh://-oProxyCommand=touch {marker}/repo",
        "ssh://-oProxyCommand=touch/x",
        f"ssh://git@-oProxyCommand=touch {marker}/repo",
        "ssh://-user@example.com/repo",
        f"-oProxyCommand=touch {marker}:repo",
        f"git@-oProxyCommand=touch {marker}:repo",
        "example.com:-repo",
        f"remote-helper+x::{marker}",
        "ftp://example.com/repo.git",
        "ssh://example.com:-22/repo",
        "https://example.com/repo\n--upload-pack=x",
        "https://",
        "relative/path.git",
    ]


ACCEPTED_URLS = [
    "https://github.com/acme/catalog.git",
    "https://x-access-token:abc@git.example.com:8443/acme/catalog",
    "http://127.0.0.1:9418/catalog.git",
    "ssh://git@github.com/acme/catalog.git",
    "ssh://git@git.example.com:2222/acme/catalog.git",
    "ssh://[::1]/srv/catalog.git",
    "git://git.example.com/catalog.git",
    "file:///srv/git/catalog.git",
    "git@github.com:acme/catalog.git",
    "deploy@git.example.com:catalog.git",
    "/srv/git/catalog-remote.git",
]


@pytest.mark.parametrize("index", range(len(hostile_urls(Path("/m")))))
def test_hostile_remote_urls_are_refused_naming_the_field(index, tmp_path):
    value = hostile_urls(tmp_path / "marker")[index]
    with pytest.raises(UnsafeGitValue) as raised:
        safe_remote_url(value, "remoteSetting")
    assert str(raised.value).startswith("remoteSetting: ")


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_ordinary_remote_urls_are_accepted(url):
    assert safe_remote_url(url) == url


@pytest.mark.parametrize("branch", ["--orphan", "-b", "-f", "--force", "main;touch",
                                    "main touch", "a..b", ".hidden", "topic.lock", "topic/",
                                    "/topic", "a//b", "HEAD", "x@{1}", "name~1", "v^2", "a:b",
                                    "why?", "star*", "[x]", "back\\slash", "tab\tname",
                                    "new\nline", "", "a" * 256, "topic."])
def test_bad_branch_names_are_refused(branch):
    with pytest.raises(UnsafeGitValue) as raised:
        safe_ref_name(branch, "targetBranch")
    assert raised.value.field == "targetBranch"


@pytest.mark.parametrize("branch", ["main", "release/2026.12", "feature/x-1_b", "v1.2+build",
                                    "gantry/conflict-20260101-120000", "a" * 255])
def test_ordinary_branch_names_are_accepted(branch):
    assert safe_ref_name(branch) == branch


@pytest.mark.parametrize("path", ["-x", "--all", "catalog/-n", "/etc/passwd", "../outside",
                                  "catalog/../../x", "", "a\0b"])
def test_bad_paths_are_refused(path):
    with pytest.raises(UnsafeGitValue):
        safe_path(path, "folder")


def test_ordinary_paths_are_accepted():
    assert safe_path("catalog/Service/default/a.yaml") == "catalog/Service/default/a.yaml"


# --- the runner itself ----------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "first")
    return root


def test_run_git_refuses_operands_that_look_like_options(repo, tmp_path):
    marker = tmp_path / "marker"
    for operand in (f"--upload-pack=touch {marker}", "-q", "--exec=x"):
        with pytest.raises(UnsafeGitValue):
            run_git(repo, "ls-remote", operands=(operand,))
    assert not marker.exists()


@pytest.mark.parametrize("url", ["ext::sh -c touch% {marker}", "ext::touch {marker}"])
def test_transport_helpers_are_blocked_even_unchecked(repo, tmp_path, url, monkeypatch):
    """A value that skipped the checks still cannot reach `ext::`, whatever the process
    environment or the caller's extra environment say."""
    marker = tmp_path / "marker"
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext:file")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'protocol.ext.allow'='always'")
    done = run_git(repo, "ls-remote", operands=(url.format(marker=marker),),
                   env={"GIT_ALLOW_PROTOCOL": "ext", "GIT_CONFIG_COUNT": "0"})
    assert done.returncode != 0
    assert "not allowed" in done.stderr or "unsupported" in done.stderr, done.stderr
    assert not marker.exists()


def test_a_dash_value_after_the_separator_is_an_operand_not_an_option(repo, tmp_path):
    """Belt and braces: even with the operand check out of the way, git reads what follows
    `--` as a repository, never as `--upload-pack`."""
    marker = tmp_path / "marker"
    done = subprocess.run(["git", "ls-remote", "--", f"--upload-pack=touch {marker}"],
                          cwd=repo, capture_output=True, text=True)
    assert done.returncode != 0
    assert not marker.exists()


def test_run_git_drops_git_variables_of_the_process(repo, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_DIR", str(elsewhere))
    done = run_git(repo, "rev-parse", "--git-dir")
    assert done.returncode == 0
    assert Path(repo, done.stdout.strip()).resolve() == (repo / ".git").resolve()


def test_local_remote_still_works_through_the_runner(repo, tmp_path):
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    pushed = run_git(repo, "push", "--quiet", operands=(safe_remote_url(str(bare)),
                                                        "HEAD:refs/heads/main"))
    assert pushed.returncode == 0, pushed.stderr
    listed = run_git(repo, "ls-remote", "--heads",
                     operands=(safe_remote_url(f"file://{bare}"), safe_ref_name("main")))
    assert "refs/heads/main" in listed.stdout


# --- through a real runner ------------------------------------------------------------------

@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    base = tmp_path_factory.mktemp("trust-git")
    repo = make_catalog_repo(base / "repo", with_remote=True)
    with RunnerProcess(repo / "catalog", base / "data") as process:
        process.repo = repo
        process.pe_token = process.create_user("platform-person", "platform-engineer")
        yield process


@pytest.fixture
def clean_settings(runner):
    """Each test starts and ends with the gitops plugin unconfigured and disabled."""
    def reset() -> None:
        store = open_store(runner.data_dir / "gantry.db")
        try:
            rows.put_config(store, "gitops", {}, "tests")
            rows.put_enabled(store, "gitops", False, "tests")
        finally:
            store.close()
    reset()
    yield
    reset()


def test_put_config_refuses_hostile_remote_urls_and_branches(runner, clean_settings, tmp_path):
    marker = tmp_path / "marker"
    with runner.client(runner.pe_token) as client:
        before = client.get("/api/v1/plugins/gitops/config").json()
        for url in hostile_urls(marker):
            response = client.put("/api/v1/plugins/gitops/config",
                                  json={"repoUrl": url, "branch": "main"})
            assert response.status_code == 400, (url, response.text)
            assert "repoUrl" in response.json()["error"], response.text
        for branch in ("--orphan", "-b", "-Dmain", "main;touch", "a..b", "topic.lock"):
            response = client.put("/api/v1/plugins/gitops/config",
                                  json={"repoUrl": "https://git.example.com/c.git",
                                        "branch": branch})
            assert response.status_code == 400, (branch, response.text)
            assert "branch" in response.json()["error"], response.text
        assert client.get("/api/v1/plugins/gitops/config").json() == before
    assert not marker.exists()


def test_put_config_accepts_ordinary_remotes(runner, clean_settings):
    with runner.client(runner.pe_token) as client:
        for url in ACCEPTED_URLS:
            response = client.put("/api/v1/plugins/gitops/config",
                                  json={"repoUrl": url, "branch": "release/1.0"})
            assert response.status_code == 200, (url, response.text)
            assert response.json()["repoUrl"] == url


def store_directly(runner: RunnerProcess, config: dict, enabled: bool = True) -> None:
    """Settings as an older runner, or someone with the database, may have left them."""
    store = open_store(runner.data_dir / "gantry.db")
    try:
        rows.put_config(store, "gitops", config, "someone-earlier")
        rows.put_enabled(store, "gitops", enabled, "someone-earlier")
    finally:
        store.close()


@pytest.mark.parametrize("config, field", [
    ({"repoUrl": "--upload-pack=touch {marker}"}, "repoUrl"),
    ({"repoUrl": "ext::sh -c touch% {marker}"}, "repoUrl"),
    ({"repoUrl": "ssh://-oProxyCommand=touch% {marker}/x"}, "repoUrl"),
    ({"branch": "--upload-pack=touch {marker}"}, "branch"),
    ({"branch": "-b"}, "branch"),
])
def test_stored_hostile_values_are_refused_again_at_run_time(runner, clean_settings, tmp_path,
                                                             config, field):
    marker = tmp_path / "marker"
    store_directly(runner, {k: v.format(marker=marker) for k, v in config.items()})
    with runner.client(runner.pe_token) as client:
        for call in (lambda: client.get("/api/v1/plugins/gitops/status"),
                     lambda: client.get("/api/v1/plugins/gitops/files")):
            response = call()
            assert response.status_code == 409, response.text
            assert field in response.json()["error"]
    with runner.client() as admin:
        for path in ("/api/v1/plugins/gitops/pull", "/api/v1/plugins/gitops/sync"):
            response = admin.post(path)
            assert response.status_code == 409, response.text
            assert field in response.json()["error"]
        enable = admin.put("/api/v1/plugins/gitops/enable", json={"enabled": True})
        assert enable.status_code == 409 and field in enable.text
    assert not marker.exists()


def test_background_pull_never_runs_a_stored_hostile_value(runner, clean_settings, tmp_path):
    marker = tmp_path / "marker"
    log_before = len(runner.log())
    store_directly(runner, {"repoUrl": f"--upload-pack=touch {marker}", "syncInterval": "1s",
                            "autoPush": True})
    deadline = time.monotonic() + 30
    while "background GitOps pull not started" not in runner.log()[log_before:]:
        assert time.monotonic() < deadline, "the background loop never tried to pull"
        time.sleep(0.2)
    assert "repoUrl" in runner.log()[log_before:]
    assert not marker.exists()


def test_hostile_origin_remote_is_refused(runner, clean_settings, tmp_path):
    """With no repoUrl, the repository's `origin` is used: it is checked the same way."""
    marker = tmp_path / "marker"
    original = git(runner.repo, "config", "remote.origin.url").strip()
    git(runner.repo, "config", "remote.origin.url", f"--upload-pack=touch {marker}")
    try:
        store_directly(runner, {})
        response = httpx.get(runner.url("/api/v1/plugins/gitops/status"),
                             headers=runner.auth(runner.pe_token))
        assert response.status_code == 409, response.text
        assert "origin" in response.json()["error"]
    finally:
        git(runner.repo, "config", "remote.origin.url", original)
    assert not marker.exists()
    response = httpx.get(runner.url("/api/v1/plugins/gitops/status"),
                         headers=runner.auth(runner.pe_token))
    assert response.status_code == 200 and response.json()["connected"] is True
