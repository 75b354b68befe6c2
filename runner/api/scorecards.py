"""Scorecard results from the runner's index (`/api/v1/scorecards`, an entity's `/scores`).

The runner re-scores the written entities after every write (`update_files`), so these
answers follow the catalog the API serves; what they contain is built by
`generator.score.read`, the same as the static site's scorecard pages and `gantry score`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from generator.score import read

from ..auth import require_role
from .common import requested_entity, workspace
from .errors import ApiError
from .names import checked_names

bp = Blueprint("scorecards", __name__, url_prefix="/api/v1")


@bp.get("/scorecards")
@require_role("viewer")
def list_scorecards() -> Response:
    """Every scorecard with its levels and how many entities sit at each."""
    with workspace().connect() as con:
        return jsonify(read.scorecards(con))


@bp.get("/scorecards/<name>")
@require_role("viewer")
@checked_names
def get_scorecard(name: str) -> Response:
    """One scorecard: distribution, one row per owning team, rules from the most failed,
    and each entity's level and score."""
    with workspace().connect() as con:
        found = read.scorecard(con, name)
    if found is None:
        raise ApiError(404, f"scorecard not found: {name!r}")
    return jsonify(found)


@bp.get("/entities/<kind>/<name>/scores")
@require_role("viewer")
@checked_names
def entity_scores(kind: str, name: str) -> Response:
    """The entity's level, score and rule outcomes on each scorecard that applies to it."""
    ref = requested_entity(kind, name).ref
    with workspace().connect() as con:
        return jsonify({"ref": ref, "scorecards": read.entity_scores(con, ref)})
