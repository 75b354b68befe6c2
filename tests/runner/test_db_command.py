"""`gantry db upgrade` and `gantry db version` as processes, on PostgreSQL and SQLite."""

from __future__ import annotations

import os
import subprocess

from runner.store.schema import LATEST_VERSION
from tests.support.runner_process import GANTRY


def gantry_db(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(GANTRY), "db", *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_upgrade_processes_at_once_upgrade_once(pg_url, tmp_path):
    env = {"GANTRY_DATABASE_URL": pg_url, "GANTRY_DATA_DIR": str(tmp_path)}
    processes = [gantry_db("upgrade", env=env) for _ in range(2)]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    lines = sorted(out.strip().split(": ", 1)[1] for out, _err in outputs)
    assert lines == [f"already at schema version {LATEST_VERSION}",
                     f"upgraded from schema version 0 to {LATEST_VERSION}"]
    assert all(out.startswith("postgresql store ") for out, _err in outputs)
    version = gantry_db("version", env=env)
    out, _ = version.communicate(timeout=60)
    assert out.strip() == f"{LATEST_VERSION} (this Gantry knows {LATEST_VERSION})"
    assert not (tmp_path / "gantry.db").exists()  # nothing went to SQLite


def test_upgrade_without_a_database_url_upgrades_the_sqlite_file(tmp_path):
    env = {"GANTRY_DATA_DIR": str(tmp_path)}
    env_clean = {key: value for key, value in os.environ.items()
                 if key != "GANTRY_DATABASE_URL"}
    done = subprocess.run([str(GANTRY), "db", "upgrade"], env={**env_clean, **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sqlite store ")
    assert (tmp_path / "gantry.db").is_file()


def test_a_malformed_database_url_is_exit_2_naming_the_variable(tmp_path):
    process = gantry_db("upgrade", env={"GANTRY_DATABASE_URL": "mysql://db/gantry",
                                        "GANTRY_DATA_DIR": str(tmp_path)})
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "GANTRY_DATABASE_URL" in err and "Traceback" not in err
