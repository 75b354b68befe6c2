"""`gantry build`, `gantry search` and `gantry graph` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from generator.cli import cli

from .conftest import document, write, write_small


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_small(tmp_path / "catalog")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_build_then_unchanged(workdir):
    first = run("build")
    assert first.exit_code == 0, first.output
    assert "14 entities" in first.output and "written" in first.output
    assert (workdir / "dist" / "catalog.duckdb").is_file()
    second = run("build")
    assert second.exit_code == 0
    assert "unchanged" in second.output and "0 of 13 files re-read" in second.output


def test_build_with_problems_keeps_the_previous_index(workdir):
    assert run("build", "--out", "out").exit_code == 0
    before = (workdir / "out" / "catalog.duckdb").read_bytes()
    write(workdir / "catalog", "Service/broken.yaml", document(
        "Service", "broken", spec={"type": "spaceship", "lifecycle": "production",
                                   "dependsOn": [{"kind": "Service", "name": "ghost"}]}))
    result = run("build", "--out", "out")
    assert result.exit_code == 1
    assert "catalog/Service/broken.yaml" in result.output and "ghost" in result.output
    assert (workdir / "out" / "catalog.duckdb").read_bytes() == before


def test_build_usage_errors(workdir):
    missing = run("build", "--catalog", "nowhere")
    assert missing.exit_code == 2 and "catalog folder not found: nowhere" in missing.output
    (workdir / "afile").write_text("x")
    blocked = run("build", "--out", "afile")
    assert blocked.exit_code == 2 and "is a file" in blocked.output
    nested = run("build", "--out", "afile/dist")
    assert nested.exit_code == 2 and "cannot create the output folder" in nested.output


def test_build_rebuilds_a_corrupt_index_with_a_note(workdir):
    (workdir / "dist").mkdir()
    (workdir / "dist" / "catalog.duckdb").write_bytes(b"\x00garbage" * 500)
    result = run("build")
    assert result.exit_code == 0
    assert "was not reused" in result.output and "rebuilt from scratch" in result.output


def test_search_builds_the_default_index_when_missing(workdir):
    result = run("search", "payment api", "--json")
    assert result.exit_code == 0
    found = json.loads(result.stdout)
    assert found[0]["name"] == "payment-api" and found[0]["kind"] == "Service"
    assert "built first" in result.stderr
    again = run("search", "payment", "--kind", "API")
    assert again.exit_code == 0 and "built first" not in again.stderr
    lines = again.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAMESPACE", "NAME", "OWNER", "TITLE"]
    assert lines[1].split()[:3] == ["API", "default", "payment-events"]


def test_search_no_match_and_limit(workdir):
    assert "no entity matches" in run("search", "zebra").output
    assert len(json.loads(run("search", "a", "--json", "--limit", "2").stdout)) == 2
    assert run("search", "a", "--limit", "0").exit_code == 2


def test_explicit_index_problems_are_reported(workdir):
    (workdir / "bad.duckdb").write_bytes(b"not a database" * 100)
    result = run("search", "pay", "--index", "bad.duckdb")
    assert result.exit_code == 2 and "cannot use the index bad.duckdb" in result.output
    result = run("graph", "service/payment-api", "--index", "missing.duckdb")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_default_index_of_another_version_is_rebuilt(workdir):
    assert run("build").exit_code == 0
    with duckdb.connect(str(workdir / "dist" / "catalog.duckdb")) as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    result = run("search", "ledger", "--json")
    assert result.exit_code == 0 and "schema version 999" in result.stderr
    assert json.loads(result.stdout)[0]["name"] == "ledger-api"


def test_graph_tree_and_json(workdir):
    assert run("build").exit_code == 0
    tree = run("graph", "service/payment-api")
    assert tree.exit_code == 0
    assert tree.stdout.splitlines()[0] == "service/payment-api (Service) — Payment API"
    assert "→ dependsOn infrastructure/postgres-payments" in tree.stdout
    assert "← dependsOn service/shop/cart-api" in tree.stdout
    result = run("graph", "Service/cart-api", "--namespace", "shop", "--json",
                 "--direction", "out", "--depth", "2")
    data = json.loads(result.stdout)
    assert data["nodes"][0]["id"] == "service/shop/cart-api"
    assert {"from": "service/payment-api", "to": "api/ledger-api", "type": "consumesApi"} \
        in data["edges"]


def test_graph_errors(workdir):
    assert run("build").exit_code == 0
    unknown = run("graph", "service/ghost")
    assert unknown.exit_code == 1 and "no entity service:default/ghost" in unknown.output
    assert run("graph", "service/payment-api", "--depth", "6").exit_code == 2
    assert run("graph", "service/payment-api", "--direction", "up").exit_code == 2
    bad = run("graph", "payment-api")
    assert bad.exit_code == 2 and "KIND/NAME" in bad.output


def test_unreadable_gantry_yaml_stops_before_writing(workdir):
    (workdir / "gantry.yaml").write_text("dashboard: [unclosed\n")
    result = run("build")
    assert result.exit_code == 2 and "cannot read gantry.yaml" in result.output
    assert not (workdir / "dist").exists()
    (workdir / "gantry.yaml").write_text("- a list\n")
    result = run("build")
    assert result.exit_code == 2 and "must be a mapping" in result.output


def test_build_timings_name_every_step(workdir):
    cold = run("build", "--timings")
    assert cold.exit_code == 0, cold.output
    steps = [line.split()[1:-1] for line in cold.stderr.splitlines()
             if line.startswith("timing: ")]
    names = [" ".join(words) for words in steps]
    assert names[:5] == ["validation", "git metadata", "index rows", "scoring",
                         "index finish"]
    assert {"site data", "entity pages", "list pages", "search index"} <= set(names)
    assert names[-1] == "total"
    again = run("build", "--timings")
    assert "timing: index check" in again.stderr and "validation" not in again.stderr
    assert "timing:" not in run("build").stderr
