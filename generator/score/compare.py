"""`--base REF`: the levels the catalog had at another Git revision, and what dropped since.

The files that differ (`git diff REF` plus untracked files) are checked out at REF in a
temporary `git worktree`; the base index starts as a copy of the current one and is brought
to the base by an incremental update of those files only, so comparing with the previous
commit costs a few files' worth of work, not a checkout and a build. An index that cannot
be updated is built in full from a whole checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..index.build import build_index, index_path_for
from ..index.incremental import update_files
from ..index.schema import IndexUnusable, open_index
from .evaluate import load_scorecards
from .read import levels_by_entity


class BaseError(Exception):
    """The base revision cannot be compared with (not a Git checkout, an unknown REF)."""


@dataclass(frozen=True, slots=True)
class Drop:
    """An entity that is at a lower level than at the base revision."""

    scorecard: str
    ref: str
    before: str | None
    after: str | None
    path: str
    line: int
    failing: list[tuple[str, str, str]] = field(default_factory=list)
    """(rule id, rule title, reason) of the rules that now fail up to the base level."""


def _git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    # Literal pathspecs: a file named `svc[1].yaml` is that file, not a pattern.
    done = subprocess.run(["git", "--literal-pathspecs", "-c", "core.quotepath=off", *args],
                          cwd=cwd, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise BaseError(f"git {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _changed_files(top: Path, catalog_rel: Path, ref: str) -> list[str]:
    """Catalog-relative paths that differ between `ref` and the working tree."""
    listed = _git(top, "diff", "--name-only", "-z", ref, "--").split("\0")
    listed += _git(top, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    prefix = catalog_rel.as_posix()
    found = set()
    for path in filter(None, listed):
        if prefix in ("", "."):
            found.add(path)
        elif path.startswith(prefix + "/"):
            found.add(path[len(prefix) + 1:])
    return sorted(found)


def base_levels(catalog: Path, current_index: Path, ref: str, only: str | None = None
                ) -> dict[tuple[str, str], str | None]:
    """(scorecard, ref) → level at Git revision `ref`. Raises BaseError."""
    catalog = Path(catalog).resolve()
    try:
        top = Path(_git(catalog, "rev-parse", "--show-toplevel").strip())
    except (BaseError, OSError) as exc:
        raise BaseError(f"--base needs the catalog in a Git checkout: {exc}") from None
    try:
        if ref.startswith("-"):
            raise BaseError(ref)
        commit = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except BaseError:
        raise BaseError(f"--base {ref}: not a commit in this repository") from None
    catalog_rel = catalog.relative_to(top)
    prefix = "" if catalog_rel == Path(".") else catalog_rel.as_posix() + "/"
    at_base = {path[len(prefix):] for path in _git(
        top, "ls-tree", "-r", "--name-only", "-z", commit, "--", prefix or ".").split("\0")
        if path.startswith(prefix)}
    if not at_base:
        return {}  # no catalog at that revision: nothing to drop from
    changed = _changed_files(top, catalog_rel, commit)
    work = Path(tempfile.mkdtemp(prefix="gantry-score-base-"))
    tree = work / "tree"
    try:
        # Only the files that differ are checked out: the rest of the base index is the
        # current one, and a checkout of a whole large catalog costs seconds.
        _git(top, "worktree", "add", "--no-checkout", "--detach", "--quiet", str(tree), commit)
        wanted = [prefix + path for path in changed if path in at_base]
        if wanted:
            _git(tree, "checkout", commit, "--pathspec-from-file=-", "--pathspec-file-nul",
                 stdin="\0".join(wanted))
        base_catalog = tree / catalog_rel
        base_catalog.mkdir(parents=True, exist_ok=True)
        index = work / "base.duckdb"
        try:
            shutil.copyfile(index_path_for(current_index), index)
            update_files(index, base_catalog, changed)
        except (IndexUnusable, OSError):
            index.unlink(missing_ok=True)
            _git(tree, "checkout", commit, "--", ".")
            build_index(base_catalog, index)
        con = open_index(index)
        try:
            return levels_by_entity(con, only)
        finally:
            con.close()
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=top,
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def drops(con: duckdb.DuckDBPyConnection, before: dict[tuple[str, str], str | None],
          only: str | None = None) -> list[Drop]:
    """Entities whose level is lower now than in `before`, with the rules that fail."""
    cards = {card.name: card for card in load_scorecards(con)}
    now = levels_by_entity(con, only)
    found = []
    for (name, ref), old in sorted(before.items()):
        card = cards.get(name)
        if card is None or (name, ref) not in now:
            continue
        new = now[(name, ref)]
        old_rank = card.level_index(old) if old else -1
        new_rank = card.level_index(new) if new else -1
        if new_rank >= old_rank:
            continue
        rules = {rule.id: rule for rule in card.usable_rules()}
        failing = [(rule, rules[rule].title, reason) for rule, reason in con.execute(
            "SELECT rule, reason FROM scorecard_results WHERE scorecard = ? AND ref = ? "
            "AND NOT passed", [name, ref]).fetchall()
            if rule in rules and card.level_index(rules[rule].level) <= old_rank]
        path, line = con.execute("SELECT path, line FROM entities WHERE ref = ?",
                                 [ref]).fetchone()
        found.append(Drop(name, ref, old, new, path, line, failing))
    return found
