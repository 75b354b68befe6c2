"""The one check of an Action's `spec`, shared by `gantry validate` and the runner.

What a schema can say lives in `schemas/action.json`: `spec.type`, each executor type's
`spec.config` (`$defs/<type>`), each input declaration (`$defs/input`), `permissions`. The
rules here are only those a schema cannot state, because they span fields or need to know
what a value means: unique input names, a default that fits its input (and is one of a
select's options), no default on a `secret: true` input (the catalog is readable by
everyone), a URL that has a host, a Flux receiver's `/hook/` path, a workflow that is a file
name or a numeric id, one repository named once, `set` paths that leave an entity's identity
alone.

The CLI validates whole documents against the kind's schema and adds `rule_problems`; the
runner, which holds only the action, calls `spec_problems` (schema and rules) or
`config_problems` (one executor's config). Every problem is `(path, at_key, message)`: the
document path (`("spec", "config", "method")`), whether it points at the key rather than the
value, and a message that starts with the dotted path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..resources import schemas_dir
from ..structure.kinds import SchemaRegistry
from .finding import dotted, show
from .messages import Located, describe

MAX_TEXT_LENGTH = 65_536
"""Longest string a text input (or its default) may hold; inputs are stored with the run."""
IDENTITY_PATHS = ("kind", "apiVersion", "metadata.name", "metadata.namespace")
"""What `internal`'s `set` may not change: a different identity is a different entity."""
_WORKFLOW_FILE = re.compile(r"^(?:\.github/workflows/)?[A-Za-z0-9_.-]+\.ya?ml$")
REPO_URL = re.compile(r"^https?://[^/\s]+/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$",
                      re.IGNORECASE)
"""A repository URL: scheme, host, owner and name (`.git` and a final `/` allowed)."""
SPEC = ("spec",)
CONFIG = ("spec", "config")


@cache
def _registry_for(folder: Path) -> SchemaRegistry:
    return SchemaRegistry(builtin_dir=folder)


def default_registry() -> SchemaRegistry:
    """The built-in schemas, read once per schemas folder (the runner's registry)."""
    return _registry_for(schemas_dir())


@lru_cache(maxsize=64)
def _validator(registry: SchemaRegistry, pointer: str) -> Draft202012Validator | None:
    entry = registry.get("Action")
    if entry is None:
        return None
    schema = {"$ref": f"{entry.schema['$id']}#{pointer}"}
    return Draft202012Validator(schema, registry=registry.registry)


def _schema(registry: SchemaRegistry, pointer: str, value: Any, where: tuple) -> list[Located]:
    """The schema problems of `value` against the Action schema at `pointer`, at `where`."""
    validator = _validator(registry, pointer)
    if validator is None:
        return []
    located: list[Located] = []
    for error in validator.iter_errors(value):
        _at(error, where)
        located += describe(error)
    return located


def _at(error: ValidationError, where: tuple) -> None:
    """Give a top-level error the document path of the value that was validated."""
    error.relative_path.extendleft(reversed(where))


def config_types(registry: SchemaRegistry | None = None) -> list[str]:
    """The executor types `schemas/action.json` declares (its `spec.type` enum)."""
    entry = (registry or default_registry()).get("Action")
    if entry is None:
        return []
    declared = entry.schema["properties"]["spec"]["properties"]["type"].get("enum", [])
    return [kind for kind in declared if isinstance(kind, str)]


def spec_problems(action: Any, registry: SchemaRegistry | None = None) -> list[Located]:
    """Every problem of an Action document's `spec`: its schema, then the rules."""
    registry = registry or default_registry()
    if not isinstance(action, dict) or "spec" not in action:
        return [((), False, "missing required key 'spec'")]
    spec = action["spec"]
    return _schema(registry, "/properties/spec", spec, SPEC) + rule_problems(spec)


def config_problems(action_type: str, config: Any,
                    registry: SchemaRegistry | None = None) -> list[Located]:
    """The problems of one executor type's `spec.config`: `$defs/<type>`, then its rules."""
    registry = registry or default_registry()
    if action_type not in config_types(registry):
        return []
    pointer = "/$defs/" + action_type.replace("~", "~0").replace("/", "~1")
    return _schema(registry, pointer, config, CONFIG) + list(_config_rules(action_type, config))


def inputs_problems(inputs: Any, registry: SchemaRegistry | None = None) -> list[Located]:
    """The problems of `spec.inputs`: `$defs/input` for each, then the rules."""
    registry = registry or default_registry()
    if inputs is None:
        return []
    where = SPEC + ("inputs",)
    if not isinstance(inputs, list):
        return _schema(registry, "/properties/spec/properties/inputs", inputs, where)
    located: list[Located] = []
    for index, item in enumerate(inputs):
        located += _schema(registry, "/$defs/input", item, where + (index,))
    return located + list(_input_rules(inputs))


def rule_problems(spec: Any) -> list[Located]:
    """The rules a schema cannot state, for `spec.inputs` and for the type's `spec.config`."""
    if not isinstance(spec, dict):
        return []
    located = list(_input_rules(spec.get("inputs")))
    if isinstance(spec.get("type"), str):
        located += _config_rules(spec["type"], spec.get("config"))
    return located


# -- inputs -----------------------------------------------------------------------------------

def _input_rules(inputs: Any) -> Iterator[Located]:
    if not isinstance(inputs, list):
        return
    first_seen: dict[str, int] = {}
    for index, item in enumerate(inputs):
        if not isinstance(item, dict):
            continue
        where = SPEC + ("inputs", index)
        label = dotted(where)
        name = item.get("name")
        if isinstance(name, str):
            if name in first_seen:
                yield (where + ("name",), False, f"{label}.name: duplicate input name "
                       f"'{name}' (also spec.inputs[{first_seen[name]}])")
            else:
                first_seen[name] = index
        if item.get("secret") is True and item.get("default") is not None:
            yield (where + ("default",), False, f"{label}.default: a secret input cannot "
                   "have a default (the catalog is readable by everyone)")
            continue
        if item.get("default") is None or not isinstance(item.get("type"), str):
            continue
        message = _default_problem(item["type"], item["default"], item.get("options"))
        if message:
            yield (where + ("default",), False, f"{label}.default: {message}")


def _default_problem(input_type: str, default: Any, options: Any) -> str | None:
    """Why `default` cannot be the value of an input of `input_type`, or None."""
    if input_type == "select":
        if isinstance(options, list) and options and (
                isinstance(default, bool) or default not in options):
            listed = ", ".join(show(option) for option in options)
            return f"{show(default)} is not one of the options ({listed})"
        return None
    fits = {
        "string": isinstance(default, str), "textarea": isinstance(default, str),
        "number": isinstance(default, int | float) and not isinstance(default, bool),
        "boolean": isinstance(default, bool),
    }.get(input_type, True)
    if not fits:
        return f"{show(default)} does not fit a {input_type} input"
    if isinstance(default, str) and len(default) > MAX_TEXT_LENGTH:
        return f"is longer than {MAX_TEXT_LENGTH} characters"
    if isinstance(default, float) and not math.isfinite(default):
        return f"{show(default)} is not a finite number"
    return None


# -- config -----------------------------------------------------------------------------------

def _config_rules(action_type: str, config: Any) -> Iterator[Located]:
    if not isinstance(config, dict):
        return
    rules = {"webhook": _webhook, "flux-update": _flux, "github-action": _github,
             "internal": _internal}.get(action_type)
    if rules is not None:
        yield from rules(config)


def _problem(key: str, message: str) -> Located:
    path = CONFIG + (key,)
    return (path, False, f"{dotted(path)}: {message}")


def _url_problem(config: dict[str, Any], key: str) -> Located | None:
    """An http(s) URL must name a host (the schema says how a URL starts; `${VAR}` URLs are
    checked once resolved, at run time)."""
    url = config.get(key)
    if not isinstance(url, str) or not re.match(r"(?i)https?://", url):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        return _problem(key, f"{show(url)} names no host")
    return None


def _webhook(config: dict[str, Any]) -> Iterator[Located]:
    problem = _url_problem(config, "url")
    if problem:
        yield problem


def _flux(config: dict[str, Any]) -> Iterator[Located]:
    problem = _url_problem(config, "url")
    if problem:
        yield problem
        return
    url = config.get("url")
    if isinstance(url, str) and re.match(r"(?i)https?://", url) and \
            "/hook/" not in urlsplit(url).path:
        yield _problem("url", "must be the Flux receiver's /hook/<digest> URL")


def _github(config: dict[str, Any]) -> Iterator[Located]:
    if "repository" in config and "repoURL" in config:
        yield (CONFIG + ("repoURL",), True, "spec.config.repoURL: spec.config.repository "
               "already names the repository; keep one of the two")
    repo_url = config.get("repoURL")
    if isinstance(repo_url, str) and re.match(r"(?i)https?://\S", repo_url):
        match = REPO_URL.match(repo_url.strip())
        if match is None:
            yield _problem("repoURL", f"{show(repo_url)} is not a repository URL such as "
                           "https://github.com/owner/name")
        elif {match.group(1), match.group(2)} & {".", ".."}:
            yield _problem("repoURL", "'.' and '..' are not GitHub owner or repository names")
    workflow = config.get("workflow")
    if isinstance(workflow, str) and not (
            workflow.strip().isdigit() or _WORKFLOW_FILE.match(workflow.strip())):
        yield _problem("workflow", f"{show(workflow)} is neither a workflow file name ending "
                       "in .yml or .yaml nor a numeric workflow id")


def _internal(config: dict[str, Any]) -> Iterator[Located]:
    paths = config.get("set")
    if not isinstance(paths, dict):
        return
    for path in paths:
        if isinstance(path, str) and (path.split(".")[0] in IDENTITY_PATHS[:2]
                                      or path in IDENTITY_PATHS[2:]):
            yield (CONFIG + ("set", path), True, f"spec.config.set.{path}: cannot be changed "
                   "by an action (an entity with another identity is a new entity)")
