"""`python -m runner.demo`: try the runner on a throwaway copy of the example catalog.

The first run copies `catalog/` and `gantry.yaml` into a fresh Git repository under
`.gantry/demo/` and commits them; later runs reuse it, so writes made through the demo
are kept between runs but never land in the project's own history. Demo defaults for
the admin password, the secret key and the variables the example actions may read
(`GANTRY_ACTION_ENV`) are set only when the environment has none.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import click

DEMO_ADMIN_PASSWORD = "gantry-demo"
# the example catalog's page-oncall and reconcile-flux-infra actions read these
DEMO_ACTION_ENV = "INCIDENT_WEBHOOK_*,FLUX_RECEIVER_*"
DEMO_IDENTITY = {"GIT_AUTHOR_NAME": "Gantry demo", "GIT_AUTHOR_EMAIL": "demo@gantry.invalid",
                 "GIT_COMMITTER_NAME": "Gantry demo",
                 "GIT_COMMITTER_EMAIL": "demo@gantry.invalid"}


def _git(repo: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**env, **DEMO_IDENTITY})


def prepare_demo_repo(source: Path, demo_root: Path) -> Path:
    """The demo repository's catalog folder, creating and committing it on first use."""
    catalog = demo_root / "catalog"
    if (demo_root / ".git").is_dir() and catalog.is_dir():
        return catalog
    if not (source / "catalog").is_dir():
        raise click.ClickException(f"no catalog/ folder in {source}: run this from the "
                                   "project's checkout")
    demo_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "catalog", catalog, dirs_exist_ok=True)
    if (source / "gantry.yaml").is_file():
        shutil.copy2(source / "gantry.yaml", demo_root / "gantry.yaml")
    _git(demo_root, "init", "-q", "-b", "main")
    _git(demo_root, "add", "-A")
    _git(demo_root, "-c", "commit.gpgsign=false", "commit", "-q", "-m",
         "Seed the demo catalog from the example catalog")
    return catalog


def _secret_key(state_dir: Path) -> str:
    """A random demo key kept in the demo's data folder, so stored secrets stay readable."""
    path = state_dir / "demo-secret-key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="0 picks a free port (the server logs it).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The project checkout holding catalog/ and gantry.yaml.")
def main(host: str, port: int, root: Path) -> None:
    """Serve a demo workspace under .gantry/demo/ seeded from the example catalog."""
    gantry_dir = root / ".gantry"
    catalog = prepare_demo_repo(root, gantry_dir / "demo")
    data_dir = Path(os.environ.get("GANTRY_DATA_DIR") or gantry_dir / "demo-data")
    os.environ["GANTRY_CATALOG"] = str(catalog)
    os.environ["GANTRY_DATA_DIR"] = str(data_dir)
    if not os.environ.get("GANTRY_SECRET_KEY"):
        os.environ["GANTRY_SECRET_KEY"] = _secret_key(data_dir)
    os.environ.setdefault("GANTRY_ACTION_ENV", DEMO_ACTION_ENV)
    if not os.environ.get("GANTRY_ADMIN_PASSWORD"):
        os.environ["GANTRY_ADMIN_PASSWORD"] = DEMO_ADMIN_PASSWORD
        click.echo(f"demo: log in as admin / {DEMO_ADMIN_PASSWORD} "
                   "(the password of the first start is kept)", err=True)
    click.echo(f"demo: catalog repository {catalog.parent} — writes commit there, "
               f"not into this project; open http://{host}:{port}/", err=True)
    from .commands.serve import command as serve

    serve.main(args=["--host", host, "--port", str(port)], prog_name="gantry serve",
               standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
