"""Each plugin's settings are described once, by `schemas/plugins/<name>.json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.structure.bundle import published_schemas
from generator.structure.kinds import SchemaRegistry
from runner.plugins.durations import PATTERN
from runner.plugins.registry import PLUGINS, secret_locations, secret_urls

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
FILES = sorted((SCHEMAS / "plugins").glob("*.json"))


def test_every_plugin_is_described_by_its_file():
    assert sorted(path.stem for path in FILES) == sorted(PLUGINS)
    for path in FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        plugin = PLUGINS[path.stem]
        assert plugin.schema == document
        assert (plugin.title, plugin.description) == (document["title"],
                                                      document["description"])
        assert plugin.defaults == document["default"]


def test_plugin_schemas_are_neither_kinds_nor_published_with_the_site():
    registry = SchemaRegistry()
    titles = {plugin.title.lower() for plugin in PLUGINS.values()} | set(PLUGINS)
    assert not titles & {kind.lower() for kind in registry.kinds()}
    published = published_schemas(registry)
    assert not set(published) & {path.name for path in FILES}
    assert all("x-gantry-plugin" not in json.dumps(schema) for schema in published.values())


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_config_is_checked_against_the_file(name):
    plugin = PLUGINS[name]
    assert plugin.problems(plugin.defaults) == []
    problems = plugin.problems({**plugin.defaults, "notASetting": 1})
    assert problems and problems[0].startswith("config: ") and "notASetting" in problems[0]


def test_secret_markers_live_in_the_files():
    github = PLUGINS["github"].schema
    config = {"personalAccessToken": "t", "privateKey": "k", "apiUrl": "https://x"}
    assert {path for path, _ in secret_locations(github, config)} == {
        ("personalAccessToken",), ("privateKey",)}
    argocd = PLUGINS["argocd"].schema
    assert secret_urls(argocd, ("instances", 0, "token")) == ["argocdUrl"]
    assert secret_urls(PLUGINS["gitops"].schema, ("authToken",)) == ["repoUrl"]


def test_the_duration_pattern_is_the_one_the_parser_uses():
    for name in ("argocd", "gitops"):
        interval = PLUGINS[name].schema["properties"]["syncInterval"]
        assert interval["pattern"] == PATTERN
