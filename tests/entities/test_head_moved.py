"""Every path that changes the branch refuses when HEAD moved since it read the repository:
the entity writer, the dashboard, ArgoCD discovery and GitOps. Nothing is written then, and
the commit someone else made stays where it is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runner.catalog import dashboard, writer
from runner.catalog.git import GANTRY, CatalogRepo, Identity
from runner.catalog.site import SiteRenderer
from runner.catalog.workspace import Workspace
from runner.config import Settings
from runner.plugins.argocd.writer import DiscoveryWriteError, write_and_commit
from runner.plugins.gitops.repo import GitOpsError, GitOpsRepo
from tests.support.runner_process import git, make_catalog_repo, make_tiny_catalog

ADMIN = Identity("casey", "casey@example.com", role="admin")


def head_of(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def commit_at_a_terminal(repo: Path, message: str = "made at a terminal") -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return head_of(repo)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))


# --- the entity writer -----------------------------------------------------------------------

class NoPages(SiteRenderer):
    def build(self, changed_refs: set[str] | None, index_path: Path | None = None) -> None:
        return None

    def queue(self, refs: set[str]) -> None:
        return None


class CommitDuringValidation(Workspace):
    """A workspace whose repository gets a commit from elsewhere while a write is validated
    (after the writer read HEAD, before it commits)."""

    site_renderer = NoPages
    interrupt = False

    def refs_view(self, extra=()):  # type: ignore[no-untyped-def]
        if self.interrupt:
            self.interrupt = False
            assert self.repo_root is not None
            commit_at_a_terminal(self.repo_root)
        return super().refs_view(extra)


@pytest.fixture
def workspace(repo: Path, tmp_path: Path):
    started = CommitDuringValidation(Settings(catalog=repo / "catalog",
                                              data_dir=tmp_path / "data",
                                              secret_key="head-moved-test-secret"))
    started.start()
    yield started
    started.stop()
    started._close_db()


def team(name: str, description: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Team",
            "metadata": {"name": name, "description": description},
            "spec": {"members": [{"name": "casey"}]}}


def test_an_entity_write_is_refused_when_head_moved_during_it(workspace, repo: Path) -> None:
    workspace.interrupt = True
    with pytest.raises(writer.Conflict) as refused:
        writer.create(workspace, team("late-team", "raced"), ADMIN)
    assert refused.value.status == 409 and "moved" in refused.value.message
    assert git(repo, "log", "-1", "--format=%s").strip() == "made at a terminal"
    assert not (repo / "catalog" / "Team" / "default" / "late-team.yaml").exists()
    assert git(repo, "status", "--porcelain") == ""

    commit = writer.create(workspace, team("late-team", "again"), ADMIN)  # a retry succeeds
    assert commit == head_of(repo)
    assert (repo / "catalog" / "Team" / "default" / "late-team.yaml").is_file()


def test_an_entity_update_is_refused_when_head_moved_during_it(workspace, repo: Path) -> None:
    writer.create(workspace, team("steady-team", "first words"), ADMIN)
    path = repo / "catalog" / "Team" / "default" / "steady-team.yaml"
    before = path.read_bytes()
    workspace.interrupt = True
    with pytest.raises(writer.Conflict):
        writer.update(workspace, team("steady-team", "second words"), ADMIN)
    assert path.read_bytes() == before
    assert git(repo, "log", "-1", "--format=%s").strip() == "made at a terminal"


# --- the dashboard ---------------------------------------------------------------------------

def test_a_dashboard_change_is_refused_when_head_moved_after_it_was_prepared(repo: Path) -> None:
    settings = repo / "gantry.yaml"
    text = settings.read_bytes()
    cat = CatalogRepo(repo)
    try:
        change = dashboard.prepare(cat, repo / "catalog", {"announcements": [
            {"title": "Freeze", "message": "from Friday", "severity": "warning"}]})
        moved = commit_at_a_terminal(repo)
        with pytest.raises(dashboard.DashboardError) as refused:
            dashboard.commit(cat, change, ADMIN)
        assert refused.value.status == 409 and "moved" in str(refused.value)
        assert head_of(repo) == moved and settings.read_bytes() == text
        assert git(repo, "status", "--porcelain") == ""

        again = dashboard.prepare(cat, repo / "catalog", {"announcements": []})
        assert dashboard.commit(cat, again, ADMIN) == head_of(repo)
        assert git(repo, "log", "-1", "--format=%an %ae").strip() == "casey casey@example.com"
    finally:
        cat.close()


# --- ArgoCD discovery ------------------------------------------------------------------------

SERVICE = ("apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: found\n"
           "spec:\n  type: backend\n  lifecycle: production\n  owner: tiny-team\n")


def test_discovery_is_refused_when_head_moved_since_the_catalog_was_read(repo: Path) -> None:
    catalog = repo / "catalog"
    read_at = head_of(repo)
    moved = commit_at_a_terminal(repo)
    texts = {"Service/default/found.yaml": SERVICE}
    with pytest.raises(DiscoveryWriteError) as refused:
        write_and_commit(catalog, texts, "Discover", GANTRY, read_at)
    assert refused.value.status == 409 and "changed while discovery ran" in str(refused.value)
    assert head_of(repo) == moved
    assert not (catalog / "Service").exists()
    assert git(repo, "status", "--porcelain") == ""

    commit = write_and_commit(catalog, texts, "Discover", GANTRY, moved)
    assert commit == head_of(repo)
    assert git(repo, "show", "--format=", "--name-only", "HEAD").split() == [
        "catalog/Service/default/found.yaml"]


def test_discovery_never_sweeps_uncommitted_edits_into_its_commit(repo: Path) -> None:
    catalog = repo / "catalog"
    (catalog / "Service" / "default").mkdir(parents=True)
    (catalog / "Service" / "default" / "found.yaml").write_text("# someone's draft\n")
    with pytest.raises(DiscoveryWriteError) as refused:
        write_and_commit(catalog, {"Service/default/found.yaml": SERVICE}, "Discover", GANTRY,
                         head_of(repo))
    assert "uncommitted" in str(refused.value)
    assert (catalog / "Service" / "default" / "found.yaml").read_text() == "# someone's draft\n"


# --- GitOps ----------------------------------------------------------------------------------

@pytest.fixture
def gitops(tmp_path: Path):
    """The runner's repository with a remote two commits ahead, fetched."""
    local = make_catalog_repo(tmp_path / "local", catalog=make_tiny_catalog(tmp_path / "tiny"),
                              with_remote=True)
    bare = tmp_path / "local-remote.git"
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(bare), str(other)], check=True)
    first = commit_at_a_terminal(other, "remote one")
    second = commit_at_a_terminal(other, "remote two")
    git(other, "push", "-q", "origin", "main")
    repo = GitOpsRepo(local, local / "catalog", str(bare), "main")
    assert repo.fetch() == second
    return repo, local, first, second


def test_gitops_does_not_fast_forward_a_head_that_moved(gitops) -> None:
    repo, local, first, second = gitops
    decided_on = repo.head()
    git(local, "merge", "-q", "--ff-only", first)  # someone moved the branch meanwhile
    with pytest.raises(GitOpsError, match="moved"):
        repo.fast_forward(second, decided_on)
    assert head_of(local) == first
    repo.fast_forward(second, first)
    assert head_of(local) == second


def test_gitops_does_not_rebase_or_reset_a_head_that_moved(gitops) -> None:
    repo, local, _first, second = gitops
    decided_on = repo.head()
    mine = commit_at_a_terminal(local, "a local commit made meanwhile")
    with pytest.raises(GitOpsError, match="moved"):
        repo.rebase(second, GANTRY, decided_on)
    assert head_of(local) == mine
    with pytest.raises(GitOpsError, match="moved"):
        repo.reset_to(second, decided_on)
    assert head_of(local) == mine
    assert git(local, "status", "--porcelain") == ""
