"""The locked install: every declared dependency is pinned with hashes, and the set-up uses it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements-lock.txt"


def locked() -> dict[str, tuple[str, list[str]]]:
    """Each pinned package of the lock: canonical name → (version, hashes)."""
    pins: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
            pins[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = project["build-system"]["requires"]
    names = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["test"]
    return [Requirement(text) for text in names + build]


def test_every_declared_dependency_is_pinned_within_its_range_with_hashes() -> None:
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in the lock: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name}=={version} is outside {requirement.specifier}: run `make lock`")
        assert hashes, f"{requirement.name} has no hash in the lock"
        for extra in requirement.extras:  # pagefind[bin], psycopg[binary]: a package each
            assert f"{name}-{extra}" in pins, f"{requirement.name}[{extra}] is not locked"


def test_every_pin_of_the_lock_is_exact_and_hashed() -> None:
    pins = locked()
    assert len(pins) > 40
    for name, (version, hashes) in pins.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), (name, version)
        assert hashes, name


def test_make_installs_from_the_lock_with_hashes_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    install = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r $(LOCK)" in install
    assert "--no-deps --no-build-isolation -e ." in install
    assert "$(LOCK)" in install.splitlines()[0], "the venv must be refreshed when the lock changes"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
