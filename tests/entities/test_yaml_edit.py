"""In-place edits of catalog YAML: only the changed values' lines move, byte for byte."""

from __future__ import annotations

import copy
import difflib

import pytest

from generator.load import parse_text
from runner.catalog.yaml_edit import EditError, edit_file, identity_of, merge_lines, new_file_text

MULTI = """\
# Environments of the platform.
# Two documents, hand formatted.
apiVersion: gantry.io/v1
kind: Environment
metadata:
  name: staging      # aligned comment
  tags: [non-production, eu]
  labels: {tier: pre-production}
spec:
  type: staging
  accountId: "444455556666"  # quoted on purpose
  region:   eu-west-1
---
# Production, reviewed by SRE.
apiVersion: gantry.io/v1
kind: Environment
metadata:
  name: production
  description: >
    Customer-facing production
    cluster.
  links:
  - title: Grafana
    url: https://grafana.example.com
spec:
  type: production
  region: eu-west-1
"""


def documents(text: str) -> list[dict]:
    entities, problems = parse_text(text, "x.yaml")
    assert problems == []
    return [entity.data for entity in entities]


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_changing_one_value_changes_only_its_line() -> None:
    data = documents(MULTI)[1]
    data["spec"]["region"] = "eu-central-1"
    out = edit_file(MULTI, identity_of(data), data)
    removed, added = changed_lines(MULTI, out)
    assert removed == ["  region: eu-west-1\n"]
    assert added == ["  region: eu-central-1\n"]
    assert documents(out)[1] == data


def test_every_untouched_line_is_kept_byte_for_byte_in_both_documents() -> None:
    staging, production = documents(MULTI)
    production["metadata"]["title"] = "Production"
    production["spec"]["cluster"] = "prod-eu"
    out = edit_file(MULTI, identity_of(production), production)
    first_doc_end = MULTI.index("---")
    assert out[:first_doc_end] == MULTI[:first_doc_end]
    removed, added = changed_lines(MULTI, out)
    assert removed == []
    assert sorted(added) == ["  cluster: prod-eu\n", "  title: Production\n"]
    assert documents(out) == [staging, production]


def test_odd_formatting_elsewhere_in_the_document_survives_an_edit() -> None:
    staging = documents(MULTI)[0]
    staging["spec"]["type"] = "development"
    out = edit_file(MULTI, identity_of(staging), staging)
    assert "  region:   eu-west-1\n" in out
    assert '  accountId: "444455556666"  # quoted on purpose\n' in out
    assert "  name: staging      # aligned comment\n" in out
    removed, added = changed_lines(MULTI, out)
    assert (removed, added) == (["  type: staging\n"], ["  type: development\n"])


def test_list_item_inserted_keeps_neighbours_and_indentation() -> None:
    production = documents(MULTI)[1]
    production["metadata"]["links"].append({"title": "Logs", "url": "https://logs.example.com"})
    out = edit_file(MULTI, identity_of(production), production)
    removed, added = changed_lines(MULTI, out)
    assert removed == []
    assert added == ["  - title: Logs\n", "    url: https://logs.example.com\n"]


def test_removing_a_key_removes_only_its_lines() -> None:
    production = documents(MULTI)[1]
    del production["metadata"]["description"]
    out = edit_file(MULTI, identity_of(production), production)
    removed, added = changed_lines(MULTI, out)
    assert added == []
    assert removed == ["  description: >\n", "    Customer-facing production\n",
                       "    cluster.\n"]


def test_deleting_a_document_keeps_the_other_document_intact() -> None:
    staging, production = documents(MULTI)
    out = edit_file(MULTI, identity_of(staging), None)
    assert documents(out) == [production]
    assert out.endswith(MULTI[MULTI.index("apiVersion", MULTI.index("---")):])


def test_deleting_the_only_document_leaves_nothing() -> None:
    text = new_file_text({"apiVersion": "gantry.io/v1", "kind": "Team",
                          "metadata": {"name": "solo"}, "spec": {}})
    assert edit_file(text, ("team", "default", "solo"), None) == ""


def test_strings_that_yaml_1_1_would_misread_are_quoted() -> None:
    data = {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": "svc", "tags": ["on", "yes", "1.5", "2024-01-01", "null"]},
            "spec": {"type": "backend", "note": "line one\nline two\n"}}
    text = new_file_text(data)
    assert documents(text) == [data]
    assert "note: |\n" in text


def test_unknown_entity_raises_key_error() -> None:
    with pytest.raises(KeyError):
        edit_file(MULTI, ("environment", "default", "nowhere"), None)


def test_broken_file_is_refused() -> None:
    with pytest.raises(EditError):
        edit_file("kind: [unclosed\n", ("service", "default", "x"), None)


def test_unchanged_document_gives_identical_text() -> None:
    for data in documents(MULTI):
        assert edit_file(MULTI, identity_of(data), copy.deepcopy(data)) == MULTI


def test_merge_prefers_the_change_where_formatting_and_change_collide() -> None:
    original = "a:   1\nb: 2\nc: 3\n"
    base = "a: 1\nb: 2\nc: 3\n"
    changed = "a: 9\nb: 2\nc: 4\n"
    assert merge_lines(original, base, changed) == "a: 9\nb: 2\nc: 4\n"
    assert merge_lines(original, base, "a: 1\nb: 2\nc: 4\n") == "a:   1\nb: 2\nc: 4\n"


@pytest.mark.parametrize("value", ["a\nb", "a\nb\n", " a\nb", "a \nb", "a\n\n\nb\n\n",
                                   "\ta\nb", "x\r\ny", "a\n  indented\nb", "key: value",
                                   "- item", "#not a comment", "'quoted'", "@at", "*star"])
def test_awkward_strings_read_back_exactly(value: str) -> None:
    data = {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": "svc", "description": value}, "spec": {"type": "backend"}}
    assert documents(new_file_text(data)) == [data]
    production = documents(MULTI)[1]
    production["metadata"]["description"] = value
    assert documents(edit_file(MULTI, identity_of(production), production))[1] == production
