"""`gantry score [CATALOG] [--scorecard NAME] [--format text|json|github] [--base REF]`.

Builds (or reuses) the index of CATALOG in `--out` and prints each scorecard's results.
With `--base REF` it compares every entity's level with the one it had at Git revision REF
and exits 1 when one dropped, naming the rules that now fail. Exit status: 0, 1 (a drop),
2 (usage or I/O error: a missing catalog, an unknown scorecard or revision).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import duckdb

from ..index.build import build_index
from ..index.schema import IndexUnusable, open_index
from ..score.compare import BaseError, Drop, base_levels, drops
from ..score.read import BELOW, scorecard, scorecards
from ..validate.report import escape_data, escape_property
from .validate import display_root_for

FORMATS = ("text", "json", "github")


def _fail(message: str) -> None:
    click.echo(f"gantry score: {message}", err=True)
    sys.exit(2)


def _label(level: str | None) -> str:
    return level or BELOW


def _text(cards: list[dict], found: list[Drop] | None) -> str:
    lines = []
    for card in cards:
        spread = ", ".join(f"{d['label']} {d['count']}" for d in card["distribution"])
        lines.append(f"{card['title']} ({card['name']}): {len(card['entities'])} entities — "
                     f"{spread}")
        for entity in card["entities"]:
            lines.append(f"  {_label(entity['level']):<18} {entity['score']:>5.1f}  "
                         f"{entity['ref']}")
    if found is not None:
        lines.append("")
        lines.append(f"{len(found)} level drop(s) against the base" if found else
                     "no entity dropped a level against the base")
        lines += [line for drop in found for line in _drop_lines(drop)]
    return "\n".join(lines) + "\n"


def _drop_lines(drop: Drop) -> list[str]:
    head = (f"{drop.ref} [{drop.scorecard}]: {_label(drop.before)} → {_label(drop.after)}")
    return [head] + [f"    fails {rule} ({title}): {reason}"
                     for rule, title, reason in drop.failing]


def _github(found: list[Drop], display_root: str) -> str:
    lines = []
    for drop in found:
        file = f"{display_root}/{drop.path}" if display_root else drop.path
        rules = "; ".join(f"{rule}: {reason}" for rule, _title, reason in drop.failing)
        message = (f"{drop.ref} dropped from {_label(drop.before)} to {_label(drop.after)} "
                   f"on scorecard {drop.scorecard}" + (f" — {rules}" if rules else ""))
        lines.append(f"::error file={escape_property(file)},line={drop.line},"
                     f"title={escape_property('Scorecard ' + drop.scorecard)}::"
                     f"{escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _summary(cards: list[dict], found: list[Drop] | None) -> str:
    out = ["## Gantry scorecards", ""]
    for card in cards:
        levels = [d["label"] for d in card["distribution"]]
        out += [f"### {card['title']}", "", "| " + " | ".join(levels) + " |",
                "|" + "---|" * len(levels),
                "| " + " | ".join(str(d["count"]) for d in card["distribution"]) + " |", ""]
    if found:
        out += ["### Level drops", "", "| Entity | Scorecard | Before | After | Failing rules |",
                "|---|---|---|---|---|"]
        out += [f"| `{d.ref}` | {d.scorecard} | {_label(d.before)} | {_label(d.after)} | "
                + "; ".join(rule for rule, _t, _r in d.failing) + " |" for d in found]
    elif found is not None:
        out.append("No entity dropped a level.")
    return "\n".join(out) + "\n"


def _write_summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"gantry score: cannot write the step summary: {exc.strerror}", err=True)


def _results(con: duckdb.DuckDBPyConnection, only: str | None) -> list[dict]:
    names = [card["name"] for card in scorecards(con)]
    if only is not None and only not in names:
        _fail(f"no scorecard named {only!r} (known: {', '.join(names) or 'none'})")
    return [scorecard(con, name) for name in names if only in (None, name)]


@click.command(name="score")
@click.argument("catalog", default="catalog", required=False)
@click.option("--out", default="dist", show_default=True, metavar="DIR",
              help="Where the index is built (and reused when up to date).")
@click.option("--scorecard", "only", default=None, metavar="NAME",
              help="Only this scorecard.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="text for people, json for scripts, github for "
              "workflow annotations and a job summary.")
@click.option("--base", default=None, metavar="REF",
              help="Compare with this Git revision; exit 1 when an entity drops a level.")
def command(catalog: str, out: str, only: str | None, fmt: str, base: str | None) -> None:
    """Score CATALOG (default: catalog) with its Scorecards, or compare with --base."""
    root = Path(catalog)
    if not root.is_dir():
        _fail(f"catalog folder not found: {catalog}")
    try:
        stats = build_index(root, Path(out))
        before = base_levels(root, stats.path, base, only) if base else None
        con = open_index(stats.path)
    except BaseError as exc:
        _fail(str(exc))
    except (IndexUnusable, OSError, duckdb.Error) as exc:
        _fail(f"cannot build or read the index in {out}: {exc}")
    try:
        cards = _results(con, only)
        found = drops(con, before, only) if before is not None else None
    finally:
        con.close()
    if fmt == "json":
        click.echo(json.dumps({"scorecards": cards, "drops": None if found is None else [
            {"scorecard": d.scorecard, "ref": d.ref, "before": d.before, "after": d.after,
             "path": d.path, "line": d.line,
             "failing": [{"rule": r, "title": t, "reason": why} for r, t, why in d.failing]}
            for d in found]}, ensure_ascii=False, indent=2))
    elif fmt == "github":
        click.echo(_github(found or [], display_root_for(catalog, "github")), nl=False)
        click.echo(_text([], found) if found is not None else "", nl=False, err=True)
        _write_summary(_summary(cards, found))
    else:
        click.echo(_text(cards, found), nl=False)
    sys.exit(1 if found else 0)
