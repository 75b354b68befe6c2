"""Rebuilds do only what changed: an identical rebuild stops at once, a changed entity
rewrites its page and its neighbours' (old and new), a deleted one loses its page."""

from __future__ import annotations

from pathlib import Path

from generator.index.incremental import update_files
from generator.site.build import build_site

PAYMENT = "catalog/service/default/payment-api/index.html"
USER = "catalog/service/default/user-service/index.html"
UNRELATED = "catalog/api/data/analytics-events/index.html"


def _mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns
            for p in site.rglob("*") if p.is_file()}


def _rebuild(built, changed_files: list[str]):
    refs = update_files(built.index, built.catalog, changed_files)
    return refs, build_site(built.index, built.catalog, built.site, config=built.config,
                            changed_refs=refs)


def test_identical_rebuild_is_skipped_and_touches_nothing(fresh_example):
    before = _mtimes(fresh_example.site)
    stats = build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
                       config=fresh_example.config)
    assert stats.skipped and stats.pages_written == 0
    assert _mtimes(fresh_example.site) == before


def test_config_change_is_not_skipped(fresh_example):
    config = {**fresh_example.config, "title": "Another Portal"}
    stats = build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
                       config=config)
    assert not stats.skipped and stats.pages_written > 0
    assert "Another Portal" in fresh_example.page(UNRELATED)


def test_changed_entity_rewrites_only_its_neighbourhood(fresh_example):
    path = fresh_example.catalog / "Service/default/payment-api.yaml"
    path.write_text(path.read_text().replace("Handles all payment processing",
                                             "Takes every payment, fast"))
    before = _mtimes(fresh_example.site)
    refs, stats = _rebuild(fresh_example, ["Service/default/payment-api.yaml"])
    assert "service:default/payment-api" in refs
    assert "Takes every payment, fast" in fresh_example.page(PAYMENT)
    assert 1 < stats.entity_pages < 20
    after = _mtimes(fresh_example.site)
    assert after[UNRELATED] == before[UNRELATED]
    assert after[PAYMENT] != before[PAYMENT]
    assert after["actions/deploy-service/index.html"] == before[
        "actions/deploy-service/index.html"]  # rendered again, same bytes: not rewritten


def test_removed_edge_updates_the_old_neighbour(fresh_example):
    assert "payment-api/index.html" in fresh_example.page(USER)
    path = fresh_example.catalog / "Service/default/payment-api.yaml"
    text = path.read_text()
    edited = text.replace("    - kind: Service\n      name: user-service\n", "")
    assert edited != text
    path.write_text(edited)
    _rebuild(fresh_example, ["Service/default/payment-api.yaml"])
    assert "payment-api/index.html" not in fresh_example.page(USER)


def test_deleted_entity_loses_its_page(fresh_example):
    target = fresh_example.site / "catalog/service/default/legacy-billing/index.html"
    assert target.is_file()
    (fresh_example.catalog / "Service/default/legacy-billing.yaml").unlink()
    refs, stats = _rebuild(fresh_example, ["Service/default/legacy-billing.yaml"])
    assert "service:default/legacy-billing" in refs
    assert not target.exists() and stats.pages_removed == 1
    assert "legacy-billing" not in fresh_example.page("catalog/catalog-data.js")


def test_full_rebuild_removes_stale_pages(fresh_example):
    stale = fresh_example.site / "catalog/service/default/gone/index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    path = fresh_example.catalog / "Service/default/payment-api.yaml"
    path.write_text(path.read_text().replace("Handles all", "Handles nearly all"))
    update_files(fresh_example.index, fresh_example.catalog, ["Service/default/payment-api.yaml"])
    stats = build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
                       config=fresh_example.config)
    assert not stale.exists() and stats.pages_removed == 1
    assert stats.pages_written < 10 and stats.pages_unchanged > 40


def test_partial_rebuild_becomes_full_when_settings_change(fresh_example):
    path = fresh_example.catalog / "Service/default/payment-api.yaml"
    path.write_text(path.read_text().replace("Handles all", "Handles nearly all"))
    refs = update_files(fresh_example.index, fresh_example.catalog,
                        ["Service/default/payment-api.yaml"])
    config = {**fresh_example.config, "title": "Renamed Portal"}
    stats = build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
                       config=config, changed_refs=refs)
    assert stats.entity_pages > 40
    assert "Renamed Portal" in fresh_example.page(UNRELATED)
    again = build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
                       config=config)
    assert again.skipped  # the partial-turned-full build left a valid stamp


def test_deleted_action_loses_its_form(fresh_example):
    form = fresh_example.site / "actions/page-oncall/index.html"
    assert form.is_file()
    (fresh_example.catalog / "Action/default/page-oncall.yaml").unlink()
    _rebuild(fresh_example, ["Action/default/page-oncall.yaml"])
    assert not form.exists()
    assert "page-oncall" not in fresh_example.page("actions/index.html")


def test_search_bundle_is_replaced_not_accumulated(fresh_example):
    bundle = fresh_example.site / "pagefind"
    before = {p.name for p in (bundle / "fragment").iterdir()}
    path = fresh_example.catalog / "Service/default/payment-api.yaml"
    path.write_text(path.read_text().replace("Handles all payment processing",
                                             "Settles invoices"))
    _, stats = _rebuild(fresh_example, ["Service/default/payment-api.yaml"])
    assert stats.search_indexed
    after = {p.name for p in (bundle / "fragment").iterdir()}
    assert len(after) == len(before) and after != before
    assert not [p for p in fresh_example.site.iterdir() if p.name.startswith(".pagefind")]
