"""Build the static site from the index: `build_site()` is the one entry point.

A full build renders every page in one pass over data read from DuckDB in a few bulk
queries; large catalogs render entity pages in a pool of processes (forked, so they share
the loaded data without copying). Files whose content did not change are not rewritten,
and a build whose inputs are identical to the previous one (same index fingerprint,
gantry.yaml, templates, assets and schema files) returns at once.

A full build also publishes the self-contained JSON Schemas under `schemas/` (one per kind,
`catalog.json` for any kind, `gantry-yaml.json`), the files `/api/v1/schemas` answers, so
editors can validate catalog files against the site's stable address.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment

from .. import __version__
from ..docs import output as docs_output
from ..resources import schemas_dir, site_dir
from ..score import read as read_scores
from ..structure.bundle import CATALOG_FILE
from . import pages, runner_pages
from .model import SiteData, fingerprint, load_site_data
from .output import WriteTally, remove_page, write_if_changed, write_new_page
from .render import environment, script_json
from .repo import repo_info
from .search import BUNDLE, build_search_index, scratch_folder, write_documents
from .urls import entity_dir, page_file

STAMP = ".gantry-site.json"
"""Records the inputs of the last build: an identical rebuild stops early, and a partial
rebuild (`changed_refs`) becomes a full one when settings, templates or assets changed."""
NOSCRIPT_LIMIT = 2000
"""Catalogs up to this size list every entity as a plain link on /catalog/ (works without
JavaScript); larger catalogs load the table from catalog-data.js only."""
POOL_THRESHOLD = 3000
"""Entity pages to render before a process pool pays for itself."""
SCHEMAS = "schemas"
"""The site folder of the published schemas."""
_NEIGHBOUR_LINK = re.compile(rb'data-ref="([^"]+)"')


@dataclass
class SiteStats:
    """What a build did; `skipped` is True when the inputs matched the previous build.

    `render_seconds` covers every page, `search_seconds` the search index; on a full build of
    a large catalog the two run at the same time."""

    pages_written: int = 0
    pages_unchanged: int = 0
    entity_pages: int = 0
    pages_removed: int = 0
    max_entity_page_bytes: int = 0
    max_entity_page_ref: str = ""
    search_indexed: bool = False
    skipped: bool = False
    seconds: float = 0.0
    render_seconds: float = 0.0
    search_seconds: float = 0.0
    docs_rendered: list[str] | None = None
    docs_max_page_bytes: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds of each step, in order (`gantry build --timings`); `search index`
    overlaps the page steps when it ran in its own process (`search_concurrent`)."""
    search_concurrent: bool = False


def _assets_digest(site_root: Path) -> str:
    digest = hashlib.sha256(__version__.encode())
    for folder in ("templates", "static"):
        for path in sorted((site_root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(site_root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _schemas_digest() -> str:
    """The schema files the published schemas are made from."""
    digest = hashlib.sha256()
    for path in sorted(schemas_dir().glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _settings_digest(catalog_root: Path, config: dict, assets: str) -> str:
    """Everything besides the index that every page depends on."""
    settings = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(
        f"{settings}|{assets}|{Path(catalog_root).resolve()}".encode()).hexdigest()


def _index_digest(index_path: Path) -> str:
    con = duckdb.connect(str(index_path), read_only=True)
    try:
        return fingerprint(con)
    finally:
        con.close()


def _digest_later(index_path: Path) -> Future[str]:
    """`_index_digest` in a thread (DuckDB works without the GIL), started only once no
    process is forked any more: forking while DuckDB runs a query is unsafe."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="site-digest")
    try:
        return pool.submit(_index_digest, index_path)
    finally:
        pool.shutdown(wait=False)


def _read_stamp(out_dir: Path) -> dict[str, Any]:
    try:
        value = json.loads((out_dir / STAMP).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


_WORKER: dict[str, Any] = {}


def _render_entities(refs: list[str]) -> WriteTally:
    """Render and write the pages of `refs` (in a worker or in the calling process)."""
    ctx: pages.SiteContext = _WORKER["ctx"]
    template = _WORKER["env"].get_template("entity.html")
    out_dir: Path = _WORKER["out_dir"]
    fresh: bool = _WORKER["fresh"]
    reader = pages.YamlReader(_WORKER["catalog_root"])
    scores = _scores_of(refs) if ctx.data.scorecards else {}
    tally = WriteTally()
    gc.disable()
    try:
        for ref in refs:
            html = template.render(pages.entity_page(ctx, ref, reader,
                                                     scores.get(ref, ()))).encode()
            if len(html) > tally.max_entity_bytes:
                tally.max_entity_bytes = len(html)
                tally.max_entity_ref = ref
            if fresh:
                write_new_page(out_dir / entity_dir(ref), html, tally)
            else:
                write_if_changed(out_dir / page_file(entity_dir(ref)), html, tally)
    finally:
        gc.enable()
    return tally


def _scores_of(refs: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The scorecard results of a batch of pages, read in two queries (a worker opens its
    own read-only connection)."""
    con = duckdb.connect(str(_WORKER["index_path"]), read_only=True)
    try:
        return read_scores.scores_by_entity(con, refs)
    finally:
        con.close()


def _render_all_entities(refs: list[str]) -> WriteTally:
    workers = min(os.cpu_count() or 1, 4)
    if len(refs) < POOL_THRESHOLD or not _can_fork():
        return _render_entities(refs)
    size = max(len(refs) // (workers * 8), 200)
    chunks = [refs[i:i + size] for i in range(0, len(refs), size)]
    total = WriteTally()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for tally in pool.imap_unordered(_render_entities, chunks):
            total.add(tally)
    return total


def _old_neighbours(out_dir: Path, refs: set[str]) -> set[str]:
    """Neighbours listed on the pages written last time, which may have lost an edge."""
    found: set[str] = set()
    for ref in refs:
        try:
            html = (out_dir / page_file(entity_dir(ref))).read_bytes()
        except OSError:
            continue
        found.update(match.decode() for match in _NEIGHBOUR_LINK.findall(html))
    return found


def _affected(data: SiteData, changed: set[str], out_dir: Path) -> set[str]:
    affected = set(changed) | _old_neighbours(out_dir, changed)
    for ref in changed:
        affected.update(target for _, target in data.outgoing.get(ref, ()))
        affected.update(source for _, source in data.incoming.get(ref, ()))
    return affected


def _stale_pages(out_dir: Path, current: set[str]) -> list[Path]:
    catalog = out_dir / "catalog"
    if not catalog.is_dir():
        return []
    wanted = {entity_dir(ref) for ref in current}
    stale = []
    for page in catalog.glob("*/*/*/index.html"):
        folder = page.parent.relative_to(out_dir).as_posix()
        if folder not in wanted:
            stale.append(page.parent)
    return stale


def _search_index(data: SiteData, out_dir: Path) -> float:
    """Write every entity's search document to a scratch folder and run Pagefind on it;
    returns the seconds it took."""
    started = time.perf_counter()
    scratch = scratch_folder()
    try:
        for folder in {entity_dir(ref).rpartition("/")[0] for ref in data.entities}:
            (scratch / folder).mkdir(parents=True, exist_ok=True)
        write_documents(scratch, list(data.entities.values()))
        _copy_docs_pages(out_dir, scratch)
        build_search_index(scratch, out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return time.perf_counter() - started


def _copy_docs_pages(out_dir: Path, scratch: Path) -> None:
    """Docs pages are indexed as built: their article is the search body."""
    for page in (out_dir / "catalog").glob(f"*/*/*/{docs_output.DOCS_FOLDER}/**/index.html"):
        target = scratch / page.relative_to(out_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)


def _search_in_worker(out_dir: str) -> float:
    return _search_index(_WORKER["data"], Path(out_dir))


def _can_fork() -> bool:
    return (os.cpu_count() or 1) >= 2 and "fork" in multiprocessing.get_all_start_methods()


def _write_static(site_root: Path, out_dir: Path, tally: WriteTally) -> None:
    for path in sorted((site_root / "static").rglob("*")):
        if path.is_file():
            target = out_dir / "static" / path.relative_to(site_root / "static")
            write_if_changed(target, path.read_bytes(), tally)


def _write_schemas(out_dir: Path, tally: WriteTally) -> None:
    """Publish every self-contained schema under `schemas/`, removing ones no longer made."""
    from ..structure.bundle import published_schemas
    from ..structure.kinds import SchemaRegistry

    files = published_schemas(SchemaRegistry())
    folder = out_dir / SCHEMAS
    for name, schema in files.items():
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        write_if_changed(folder / name, text.encode(), tally)
    for path in folder.glob("*.json"):
        if path.name not in files:
            path.unlink()


def _write_page(env, template: str, context: dict, out_dir: Path, folder: str,
                tally: WriteTally) -> None:
    html = env.get_template(template).render(context).encode()
    write_if_changed(out_dir / page_file(folder), html, tally)


def _write_list_pages(ctx: pages.SiteContext, env: Environment, site_root: Path, out_dir: Path,
                     tally: WriteTally, stats: SiteStats) -> None:
    """Assets, the dashboard, catalog, teams, actions (removing forms of deleted actions)
    and search pages."""
    _write_static(site_root, out_dir, tally)
    _write_page(env, "dashboard.html", pages.dashboard_page(ctx), out_dir, "", tally)
    catalog_data = (b"window.GANTRY_CATALOG=" + script_json(pages.catalog_data(ctx)).encode()
                    + b";\n")
    write_if_changed(out_dir / "catalog" / "catalog-data.js", catalog_data, tally)
    _write_page(env, "catalog.html", pages.catalog_page(
        ctx, NOSCRIPT_LIMIT, hashlib.sha256(catalog_data).hexdigest()[:8]), out_dir,
        "catalog", tally)
    _write_page(env, "teams.html", pages.teams_page(ctx), out_dir, "teams", tally)
    _write_page(env, "actions.html", pages.actions_page(ctx), out_dir, "actions", tally)
    action_names = set()
    for row in pages.actions(ctx.data):
        action_names.add(row.name)
        _write_page(env, "action.html", pages.action_page(ctx, row), out_dir,
                    f"actions/{row.name}", tally)
    for folder in (out_dir / "actions").glob("*/"):
        if folder.is_dir() and folder.name not in action_names:
            stats.pages_removed += remove_page(folder)
    _write_page(env, "search.html", pages.search_page(ctx), out_dir, "search", tally)
    _write_page(env, "scorecards.html", pages.scorecards_page(ctx), out_dir, "scorecards",
                tally)
    card_names = set()
    for card in ctx.data.scorecards:
        card_names.add(card["name"])
        _write_page(env, "scorecard.html", pages.scorecard_page(ctx, card), out_dir,
                    f"scorecards/{card['name']}", tally)
    for folder in (out_dir / "scorecards").glob("*/"):
        if folder.is_dir() and folder.name not in card_names:
            stats.pages_removed += remove_page(folder)
    for page in runner_pages.RUNNER_PAGES:
        if ctx.runner_url:
            _write_page(env, "runner.html", runner_pages.runner_page(ctx, page), out_dir,
                        page.folder, tally)
        elif (out_dir / page_file(page.folder)).is_file():
            stats.pages_removed += remove_page(out_dir / page.folder)
    (out_dir / ".nojekyll").touch()


def build_site(index_path: Path, catalog_root: Path, out_dir: Path, *,
               config: dict | None = None, changed_refs: set[str] | None = None) -> SiteStats:
    """Render the site into `out_dir` (the folder that receives index.html) from the index.

    `config` is gantry.yaml as a dict. With `changed_refs`, only those entity pages, their
    old and new neighbours (owning teams included) and the list pages are rendered.
    """
    started = time.perf_counter()
    index_path, catalog_root, out_dir = Path(index_path), Path(catalog_root), Path(out_dir)
    config = config or {}
    site_root = site_dir()
    assets = _assets_digest(site_root)
    repo = repo_info(catalog_root, config)
    settings = _settings_digest(catalog_root, config, f"{assets}|{repo}|{_schemas_digest()}")
    stamp = _read_stamp(out_dir)
    # Without a previous build nothing is compared with the index's digest: it is only
    # recorded at the end, so it is computed beside the search index (`_digest_later`).
    indexed = _index_digest(index_path) if stamp else None
    docs = docs_output.docs_entries(catalog_root, docs_output.index_rows(index_path), settings)
    docs_state = docs_output.state_digest(docs)
    stats = SiteStats()
    complete = (stamp.get("settings") == settings and (out_dir / "index.html").is_file()
                and (out_dir / SCHEMAS / CATALOG_FILE).is_file())
    if not complete:
        changed_refs = None  # new settings, templates or output folder: every page changes
    elif changed_refs is None and stamp.get("index") == indexed and stamp.get(
            "docs") != docs_state:
        changed_refs = docs_output.changed_refs(out_dir, docs)  # only docs were edited
    elif changed_refs is None and stamp.get("index") == indexed:
        stats.skipped = True
        stats.max_entity_page_bytes = int(stamp.get("maxEntityPageBytes", 0))
        stats.seconds = time.perf_counter() - started
        return stats
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / STAMP).unlink(missing_ok=True)
    data = load_site_data(index_path)
    ctx = pages.make_site_context(data, repo, config, assets[:8])
    ctx.docs_refs = set(docs)
    if changed_refs is not None:
        changed_refs = set(changed_refs) | docs_output.changed_refs(out_dir, docs)
    env = environment(site_root / "templates")
    tally = WriteTally()

    fresh = not (out_dir / "catalog").exists()
    if fresh:
        for folder in {entity_dir(ref).rpartition("/")[0] for ref in data.entities}:
            (out_dir / folder).mkdir(parents=True, exist_ok=True)
    if changed_refs is None:
        targets = list(data.entities)
        removed = [] if fresh else _stale_pages(out_dir, set(data.entities))
    else:
        affected = _affected(data, set(changed_refs), out_dir)
        targets = [ref for ref in data.entities if ref in affected]
        removed = [out_dir / entity_dir(ref) for ref in changed_refs if ref not in data.entities]
    render_started = time.perf_counter()
    stats.phases["site data"] = render_started - started
    _WORKER.update(ctx=ctx, env=env, out_dir=out_dir, catalog_root=catalog_root, fresh=fresh,
                   data=data, index_path=index_path)
    gc.freeze()
    search_pool = None
    try:
        if (changed_refs is None and len(targets) >= POOL_THRESHOLD and _can_fork()
                and not docs):
            # A full build always needs a new search index, and it only needs the index's
            # data: build it in another process while the pages render.
            search_pool = multiprocessing.get_context("fork").Pool(1)
            search_job = search_pool.apply_async(_search_in_worker, (str(out_dir),))
        entity_tally = _render_all_entities(targets)
        tally.add(entity_tally)
        stats.pages_removed = sum(remove_page(folder) for folder in removed)
        lap = time.perf_counter()
        stats.phases["entity pages"] = lap - render_started
        _write_list_pages(ctx, env, site_root, out_dir, tally, stats)
        stats.phases["list pages"] = time.perf_counter() - lap
        lap = time.perf_counter()
        docs_stats = docs_output.write_docs(catalog_root, out_dir, docs, env, pages.base(
            ctx, "", "catalog", ""), tally)
        stats.phases["docs pages"] = time.perf_counter() - lap
        stats.docs_rendered = docs_stats.rendered_entities
        stats.docs_max_page_bytes = docs_stats.max_page_bytes
        if changed_refs is None:
            _write_schemas(out_dir, tally)
        stats.render_seconds = time.perf_counter() - render_started
        if indexed is None:
            digest = _digest_later(index_path)
        if search_pool is not None:
            stats.search_seconds = search_job.get()
            stats.search_indexed = stats.search_concurrent = True
        elif (entity_tally.written or stats.pages_removed or not (out_dir / BUNDLE).is_dir()
              or docs_stats.rendered_entities or docs_stats.removed_entities):
            stats.search_seconds = _search_index(data, out_dir)
            stats.search_indexed = True
    finally:
        if search_pool is not None:
            search_pool.terminate()
            search_pool.join()
        _WORKER.clear()
        gc.unfreeze()
    if stats.search_indexed:
        stats.phases["search index"] = stats.search_seconds
    if indexed is None:
        lap = time.perf_counter()
        indexed = digest.result()
        stats.phases["index digest (wait)"] = time.perf_counter() - lap

    stats.pages_written, stats.pages_unchanged = tally.written, tally.unchanged
    stats.entity_pages = len(targets)
    stats.max_entity_page_bytes = entity_tally.max_entity_bytes
    stats.max_entity_page_ref = entity_tally.max_entity_ref
    largest = stats.max_entity_page_bytes if changed_refs is None else max(
        stats.max_entity_page_bytes, int(stamp.get("maxEntityPageBytes", 0)))
    (out_dir / STAMP).write_text(json.dumps(
        {"settings": settings, "index": indexed, "maxEntityPageBytes": largest,
         "docs": docs_state}))
    stats.seconds = time.perf_counter() - started
    return stats
