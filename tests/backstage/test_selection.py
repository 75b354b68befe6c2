"""Which files are read: catalogs given as a file (Locations followed, cycles once, other
YAML ignored), and gantry.yaml's `exclude` globs for folder catalogs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.load import catalog_files
from generator.selection import Exclusions, reachable_files

GANTRY = Path(sys.executable).parent / "gantry"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def location(name: str, *targets: str) -> str:
    lines = "\n".join(f"    - {t}" for t in targets)
    return (f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\n"
            f"spec:\n  targets:\n{lines}\n")


def group(name: str) -> str:
    return (f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\n"
            "spec:\n  type: team\n  children: []\n")


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    write(tmp_path, "all.yaml", location("all", "./org/*.yaml", "./services/**/catalog-info.yaml",
                                         "./org/teams.yaml"))
    write(tmp_path, "org/teams.yaml", group("team-a") + "---\n" + location("back", "../all.yaml"))
    write(tmp_path, "services/api/catalog-info.yaml", group("team-b"))
    write(tmp_path, "services/api/deploy/values.yaml", "replicas: 3\n")
    write(tmp_path, "charts/Chart.yaml", "apiVersion: v2\nname: chart\n")
    write(tmp_path, ".github/workflows/ci.yml", "on: push\n")
    return tmp_path


def test_a_file_catalog_reads_its_locations_targets_once(monorepo: Path) -> None:
    assert reachable_files(monorepo, "all.yaml") == [
        "all.yaml", "org/teams.yaml", "services/api/catalog-info.yaml"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(GANTRY), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_validate_and_build_a_file_catalog_ignore_other_yaml(monorepo: Path) -> None:
    done = run("validate", "all.yaml", cwd=monorepo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 files" in done.stdout
    assert run("validate", ".", cwd=monorepo).returncode == 1  # the chart is not an entity
    built = run("build", "--catalog", "all.yaml", "--out", "out", cwd=monorepo)
    assert built.returncode == 0, built.stderr
    assert (monorepo / "out" / "site" / "catalog" / "group" / "default" / "team-b"
            / "index.html").is_file()


def test_a_file_catalog_reports_problems_at_their_lines(monorepo: Path) -> None:
    write(monorepo, "services/api/catalog-info.yaml", group("team-b") + "  parent: nobody\n")
    done = run("validate", "all.yaml", "--format", "json", cwd=monorepo)
    assert done.returncode == 1
    assert '"file": "services/api/catalog-info.yaml"' in done.stdout
    assert '"line": 8' in done.stdout


def test_exclude_globs_in_gantry_yaml(monorepo: Path) -> None:
    (monorepo / ".git").mkdir()
    write(monorepo, "gantry.yaml", "exclude:\n  - charts/\n  - '**/deploy/'\n")
    assert "gantry.yaml" in catalog_files(monorepo)  # at the catalog's top: a YAML file
    write(monorepo, "gantry.yaml", "exclude:\n  - charts/\n  - '**/deploy/'\n  - /gantry.yaml\n")
    assert catalog_files(monorepo) == [
        "all.yaml", "org/teams.yaml", "services/api/catalog-info.yaml"]
    assert run("validate", ".", cwd=monorepo).returncode == 0


def test_gitignore_rules() -> None:
    rules = Exclusions(["*.tmp.yaml", "/top.yaml", "deploy/", "!keep/deploy/", "a/**/b.yaml"])
    assert rules.excluded("x/y.tmp.yaml")
    assert rules.excluded("top.yaml") and not rules.excluded("sub/top.yaml")
    assert rules.excluded("svc/deploy/values.yaml")
    assert not rules.excluded("svc/deploy.yaml")
    assert rules.excluded("a/b.yaml") and rules.excluded("a/x/y/b.yaml")
    assert not rules.excluded("keep/deploy/x.yaml")
    prefixed = Exclusions(["catalog/skip/"], prefix="catalog")
    assert prefixed.excluded("skip/x.yaml") and not prefixed.excluded("other/x.yaml")


@pytest.mark.parametrize("fmt, expected", [
    ("text", "services/api/catalog-info.yaml:8:11: spec.parent: Group 'default/nobody' "
             "does not exist [reference]"),
    ("json", '"line": 8'),
    ("github", "::error file=services/api/catalog-info.yaml,line=8,col=11"),
    ("sarif", '"startLine": 8'),
])
def test_backstage_problems_in_every_format(monorepo: Path, fmt: str, expected: str) -> None:
    write(monorepo, "services/api/catalog-info.yaml", group("team-b") + "  parent: nobody\n")
    write(monorepo, "all.yaml", location("all", "./services/**/catalog-info.yaml",
                                         "./missing.yaml"))
    done = run("validate", "all.yaml", "--format", fmt, cwd=monorepo)
    assert done.returncode == 1
    assert expected in done.stdout
    assert "location-unreachable" in done.stdout


def test_an_excluded_file_stays_out_of_an_incremental_update(monorepo: Path) -> None:
    from generator.index.build import build_index
    from generator.index.incremental import update_files

    (monorepo / ".git").mkdir()
    write(monorepo, "gantry.yaml", "exclude:\n  - charts/\n  - '**/deploy/'\n  - /gantry.yaml\n")
    index = monorepo / "out" / "catalog.duckdb"
    build_index(monorepo, index)
    write(monorepo, "charts/extra.yaml", group("sneaky"))
    write(monorepo, "org/more.yaml", group("team-c"))
    changed = update_files(index, monorepo, ["charts/extra.yaml", "org/more.yaml"])
    assert changed == {"group:default/team-c"}
