"""Finding docs folders from the field and from the TechDocs annotation, page order with
and without mkdocs.yml, and the loader leaving docs folders out of the catalog."""

from __future__ import annotations

from pathlib import Path

from generator.docs.sources import pointer_of, read_site
from generator.index.build import build_index
from generator.load import load_catalog
from generator.validate.catalog import validate_catalog

from .conftest import TEAM, service, write


def test_field_and_annotation_are_relative_to_the_entity_file() -> None:
    field = pointer_of("Service/default/api.yaml", {"docs": {"path": "../../docs/api"}})
    assert field is not None and field.folder == "docs/api"
    assert field.field == ("metadata", "docs", "path")
    techdocs = pointer_of("repo/catalog-info.yaml",
                          {"annotations": {"backstage.io/techdocs-ref": "dir:."}})
    assert techdocs is not None and techdocs.folder == "repo"
    assert techdocs.field == ("metadata", "annotations", "backstage.io/techdocs-ref")
    url = pointer_of("a.yaml", {"annotations": {"backstage.io/techdocs-ref": "url:https://x"}})
    assert url is None
    assert pointer_of("a.yaml", {"name": "x"}) is None
    both = pointer_of("a/b.yaml", {"docs": {"path": "d"},
                                   "annotations": {"backstage.io/techdocs-ref": "dir:e"}})
    assert both is not None and both.folder == "a/d"


def test_without_mkdocs_index_and_readme_come_first(tmp_path: Path) -> None:
    for name in ("zebra.md", "alpha.md", "index.md", "guide/b.md", "guide/README.md",
                 "guide/a.md", "img/x.png"):
        write(tmp_path, f"docs/{name}", "# x\n")
    site = read_site(tmp_path, "docs")
    assert site is not None and site.site_name == ""
    assert [entry.file for entry in site.nav] == [
        "index.md", "alpha.md", "zebra.md", "guide/README.md", "guide/a.md", "guide/b.md"]
    assert "img/x.png" in site.files


def test_mkdocs_nav_and_site_name_are_honoured(tmp_path: Path) -> None:
    write(tmp_path, "svc/mkdocs.yml", """
        site_name: Orders handbook
        docs_dir: pages
        plugins:
          - techdocs-core
        markdown_extensions:
          - pymdownx.emoji:
              emoji_index: !!python/name:material.extensions.emoji.twemoji
        nav:
          - Home: index.md
          - Operations:
              - Deploys: ops/deploy.md
              - ops/rollback.md
          - Gone: missing.md
          - External: https://example.com/
    """)
    for name in ("index.md", "ops/deploy.md", "ops/rollback.md", "unlisted.md"):
        write(tmp_path, f"svc/pages/{name}", "# x\n")
    site = read_site(tmp_path, "svc")
    assert site is not None
    assert site.site_name == "Orders handbook" and site.markdown_root == "svc/pages"
    assert [(e.file, e.title, e.section) for e in site.nav] == [
        ("index.md", "Home", ""), ("ops/deploy.md", "Deploys", "Operations"),
        ("ops/rollback.md", None, "Operations")]
    assert [(e.file, e.line) for e in site.missing_nav] == [("missing.md", 13)]


def test_loader_skips_mkdocs_files_and_yaml_inside_docs_folders(tmp_path: Path) -> None:
    write(tmp_path, "Team/platform-team.yaml", TEAM)
    write(tmp_path, "orders/catalog-info.yaml", service("orders", techdocs="dir:."))
    write(tmp_path, "orders/mkdocs.yml", "site_name: Orders\n")
    write(tmp_path, "orders/docs/index.md", "# Orders\n")
    write(tmp_path, "Service/api.yaml", service("api", docs="../api-docs"))
    write(tmp_path, "api-docs/index.md", "# API\n")
    write(tmp_path, "api-docs/example.yaml", "openapi: 3.0.0\ninfo: {}\n")
    loaded = load_catalog(tmp_path)
    assert sorted(e.name for e in loaded.entities) == ["api", "orders", "platform-team"]
    assert loaded.problems == []
    result = validate_catalog(tmp_path)
    assert result.problems == [], result.problems
    build_index(tmp_path, tmp_path.parent / "catalog.duckdb")
    again = build_index(tmp_path, tmp_path.parent / "catalog.duckdb")
    assert again.unchanged  # the docs' YAML does not make every build a full one


def test_symbolic_links_in_a_docs_folder_are_not_published(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("PRIVATE KEY")
    write(tmp_path, "catalog/docs/index.md", "# Home\n")
    (tmp_path / "catalog/docs/key.png").symlink_to(secret)
    (tmp_path / "catalog/docs/notes.md").symlink_to(secret)
    site = read_site(tmp_path / "catalog", "docs")
    assert site is not None and site.files == ["index.md"]
