"""Small pure functions of the site: URL safety, remotes, widgets, forms, relation picture."""

from __future__ import annotations

import re

import pytest

from generator.site.actions import form_fields, target_input
from generator.site.graph import MAX_PER_SIDE, Node, relations_svg
from generator.site.pages import widget_order
from generator.site.render import script_json
from generator.site.repo import RepoInfo, web_url_of_remote
from generator.site.urls import entity_href, root_prefix, safe_url


@pytest.mark.parametrize("url", ["https://a.example/x?y=1", "http://a.example", "mailto:a@b.c"])
def test_safe_url_accepts_web_and_mail(url):
    assert safe_url(url) == url


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x",
                                 "vbscript:x", "//evil.example/x", "/relative", "https:///x",
                                 "java\tscript:alert(1)", "", None, 42])
def test_safe_url_refuses_everything_else(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("remote, expected", [
    ("git@github.com:acme/portal.git", "https://github.com/acme/portal"),
    ("https://token@github.com/acme/portal.git", "https://github.com/acme/portal"),
    ("ssh://git@gitlab.example.com:2222/group/repo.git", "https://gitlab.example.com/group/repo"),
    ("/srv/git/portal.git", None),
    ("../portal", None),
])
def test_web_url_of_remote(remote, expected):
    assert web_url_of_remote(remote) == expected


def test_file_url():
    info = RepoInfo("https://github.com/acme/portal", "main", "catalog/")
    assert info.file_url("Service/x.yaml") == \
        "https://github.com/acme/portal/blob/main/catalog/Service/x.yaml"
    assert RepoInfo(None, "main", "").file_url("x.yaml") is None


def test_relative_links():
    assert root_prefix("") == "./"
    assert root_prefix("catalog/service/default/x") == "../../../../"
    assert entity_href("../", "service:default/payment-api") == \
        "../catalog/service/default/payment-api/index.html"


def test_widget_order():
    assert widget_order(None) == ["announcements", "entity_stats", "quick_links",
                                  "recent_activity", "scorecards"]
    assert widget_order([{"id": "recent_activity"}, {"id": "quick_links", "enabled": False},
                         {"id": "nope"}, {"id": "entity_stats", "enabled": True}]) == [
        "recent_activity", "entity_stats"]


def test_form_fields_and_targets():
    spec = {"inputs": [
        {"name": "service", "type": "string", "required": True},
        {"name": "count", "type": "number", "default": 3},
        {"name": "env", "type": "select", "options": ["a", 2]},
        {"name": "odd", "type": "mystery"},
        {"title": "no name"},
    ]}
    fields = form_fields(spec)
    assert [(f.name, f.type) for f in fields] == [
        ("service", "string"), ("count", "number"), ("env", "select"), ("odd", "string")]
    assert fields[0].required and fields[1].default == 3 and fields[2].options == ("a", "2")
    assert target_input(spec, "Service") == "service"
    assert target_input(spec, "API") is None
    assert target_input({"targets": ["API"]}, "API") == ""
    assert target_input({"inputs": [{"name": "api_name"}]}, "API") is None


def test_secret_inputs_are_password_fields_without_a_value():
    from generator.resources import site_dir
    from generator.site.render import environment

    spec = {"inputs": [{"name": "note", "type": "string", "secret": True, "required": True},
                       {"name": "plain", "type": "string", "default": "shown"}]}
    fields = form_fields(spec)
    assert [f.secret for f in fields] == [True, False]
    page = environment(site_dir() / "templates").get_template("action.html").render(
        fields=fields, e={"display_name": "x"}, permissions={}, root="../", form_spec={})
    secret = re.search(r'<input[^>]*name="note"[^>]*>', page).group(0)
    assert 'type="password"' in secret and "value=" not in secret and "required" in secret
    plain = re.search(r'<input[^>]*name="plain"[^>]*>', page).group(0)
    assert 'type="text"' in plain and 'value="shown"' in plain


def test_script_json_cannot_end_a_script():
    text = str(script_json({"a": "</script><!--", "b": "\u2028"}))
    assert "<" not in text and ">" not in text and "\u2028" not in text


def test_relations_svg_caps_each_side():
    nodes = [Node(f"n{i}", "Service", f"../{i}/index.html", "depends on") for i in range(30)]
    svg = str(relations_svg("Center <b>", "Service", nodes[:2], nodes))
    assert svg.count("<a href=") == 2 + MAX_PER_SIDE
    assert f"+{30 - MAX_PER_SIDE} more" in svg
    assert "Center &lt;b&gt;" in svg and "<b>" not in svg


def test_search_document_is_escaped_and_splits_names():
    from generator.site.model import EntityRow
    from generator.site.search import search_document

    row = EntityRow(
        ref="service:default/payment-api", kind="Service", namespace="default",
        name="payment-api", title="Pay <b>", description="<script>x</script>", owner="team-a",
        lifecycle="production", type="backend", tags=["a&b"], path="p.yaml", line=1,
        end_line=2, created_at="", updated_at="", created_by="", labels_json="",
        annotations_json="", spec_json="", metadata_json="")
    html = search_document(row).decode()
    assert "Pay &lt;b&gt;" in html and "&lt;script&gt;" in html and "a&amp;b" in html
    assert "payment api" in html and "<script>" not in html
