"""The static site on a Backstage catalog: parts, what Groups and Users own, members,
annotation links, the ArgoCD card, and each relation listed once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.index.build import build_index
from generator.site.build import build_site
from tests.site.htmltools import Page

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backstage"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bs")
    catalog = root / "catalog"
    shutil.copytree(EXAMPLE, catalog)
    build_index(catalog, root / "catalog.duckdb")
    build_site(root / "catalog.duckdb", catalog, root / "site")
    return root / "site"


def page(site: Path, kind: str, name: str) -> Page:
    """The page without its relations picture, so texts read as the lists show them."""
    html = (site / "catalog" / kind / "default" / name / "index.html").read_text()
    return Page(re.sub(r"<svg.*?</svg>", "", html, flags=re.S))


def section(page: Page, heading: str) -> str:
    text = re.sub(r"\s+", " ", page.text)
    start = text.index(heading)
    return text[start:start + 400]


def test_every_entity_has_a_page(site: Path) -> None:
    pages = {p.parent.relative_to(site / "catalog").as_posix()
             for p in (site / "catalog").glob("*/*/*/index.html")}
    assert len(pages) == 13
    assert "user/default/breanna.davison" in pages


def test_system_and_domain_pages_list_their_parts(site: Path) -> None:
    system = section(page(site, "system", "artist-engagement-portal"), "Parts")
    for part in ("artist-api", "artist-lookup", "artists-db"):
        assert part in system
    domain = section(page(site, "domain", "artists"), "Parts")
    assert "artist-engagement-portal" in domain and "artist-royalties" in domain


def test_group_page_shows_members_children_and_what_it_owns(site: Path) -> None:
    group = page(site, "group", "team-a")
    owned = section(group, "Owned by this group")
    for owned_name in ("artist-api", "artist-lookup", "artists-db", "artist-engagement-portal"):
        assert owned_name in owned
    relations = section(group, "Relationships")
    assert "has member breanna.davison" in relations
    assert "child of music" in relations
    assert "parent of" in section(page(site, "group", "music"), "Relationships")
    # Stored both ways, listed once: no "owned by" beside "owner of".
    assert "owned by" not in relations


def test_user_page_shows_groups_and_what_the_user_owns(site: Path) -> None:
    user = page(site, "user", "breanna.davison")
    assert "member of team-a" in section(user, "Relationships")
    assert "artist-lookup-cache" in section(user, "Owned by this user")


def test_annotations_give_repository_source_links_and_argocd(site: Path) -> None:
    component = page(site, "component", "artist-lookup")
    links = component.links()
    assert "https://github.com/acme/artist-lookup" in links
    assert "https://github.com/acme/artist-lookup/tree/main/" in links
    assert "https://grafana.acme.example.com/d/artist-lookup" in links
    assert "Application artist-lookup" in section(component, "ArgoCD")
