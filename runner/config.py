"""Typed runner settings, read from `GANTRY_*` environment variables.

One frozen object is built at start and handed to every part of the runner, so no module
reads the environment on its own and tests can build settings directly.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .actions.placeholders import parse_allow_list

MIN_SECRET_KEY_LENGTH = 16
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the runner needs to know about its surroundings."""

    catalog: Path = Path("catalog")
    data_dir: Path = Path(".gantry")
    admin_password: str | None = None
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    trusted_proxies: tuple[IPNetwork, ...] = field(default_factory=tuple)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    runner_url: str | None = None
    healthcheck_allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)
    action_env: tuple[str, ...] = ()
    """`GANTRY_ACTION_ENV`: the variables an action's `${NAME}` may read (names, `PREFIX*`)."""
    cors_origins: tuple[str, ...] = ()
    """`GANTRY_CORS_ORIGINS`: origins (`https://portal.acme.com`) whose pages may call the
    API with the session cookie: CORS with credentials, and trusted like the runner's own
    origin by the cross-site checks."""
    database_url: str | None = None
    """`GANTRY_DATABASE_URL`: a `postgresql://` database shared by replicas (None: SQLite)."""
    run_lease_seconds: int = 30
    """`GANTRY_RUN_LEASE_SECONDS`: how long a replica holds an in-flight run unrenewed."""
    workers: int = 1
    """`GANTRY_WORKERS` / `gantry serve --workers`: gunicorn worker processes sharing the
    clone and the data folder (see `runner.catalog.workers`)."""
    index_seed: Path | None = None
    """`GANTRY_INDEX_SEED`: a `catalog.duckdb` written by `gantry build` at some commit of
    this catalog (CI's artifact, a file baked into the image); a runner without an index of
    its own starts from a copy of it and re-reads only the files that differ."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment (or the given mapping)."""
        env = os.environ if environ is None else environ
        return cls(
            catalog=Path(env.get("GANTRY_CATALOG") or "catalog"),
            data_dir=Path(env.get("GANTRY_DATA_DIR") or ".gantry"),
            admin_password=env.get("GANTRY_ADMIN_PASSWORD") or None,
            secret_key=env.get("GANTRY_SECRET_KEY") or "",
            host=env.get("GANTRY_HOST") or "127.0.0.1",
            port=_parse_port(env.get("GANTRY_PORT"), "GANTRY_PORT"),
            trusted_proxies=parse_networks(env.get("GANTRY_TRUSTED_PROXIES") or "",
                                           "GANTRY_TRUSTED_PROXIES"),
            max_body_bytes=_parse_positive_int(
                env.get("GANTRY_MAX_BODY_BYTES"), "GANTRY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES
            ),
            runner_url=env.get("GANTRY_RUNNER_URL") or None,
            healthcheck_allowed_networks=parse_networks(
                env.get("GANTRY_HEALTHCHECK_ALLOWED_NETWORKS") or "",
                "GANTRY_HEALTHCHECK_ALLOWED_NETWORKS"),
            action_env=_parse_action_env(env.get("GANTRY_ACTION_ENV") or ""),
            cors_origins=parse_origins(env.get("GANTRY_CORS_ORIGINS") or ""),
            database_url=_parse_database_url(env.get("GANTRY_DATABASE_URL") or ""),
            run_lease_seconds=_parse_positive_int(env.get("GANTRY_RUN_LEASE_SECONDS"),
                                                  "GANTRY_RUN_LEASE_SECONDS", 30),
            workers=_parse_positive_int(env.get("GANTRY_WORKERS"), "GANTRY_WORKERS", 1),
            index_seed=Path(env["GANTRY_INDEX_SEED"]) if env.get("GANTRY_INDEX_SEED") else None,
        )

    @property
    def db_path(self) -> Path:
        """The runner's SQLite store."""
        return self.data_dir / "gantry.db"

    @property
    def replica_name(self) -> str:
        """This runner's name on a shared store: host and port, which two running processes
        never share, and which a restarted process keeps (it takes its own runs back at once)."""
        return f"{socket.gethostname()}:{self.port}" if self.port else \
            f"{socket.gethostname()}:pid{os.getpid()}"

    @property
    def store_location(self) -> Path | str:
        """Where the store is: the database URL when one is set, else the SQLite file."""
        return self.database_url or self.db_path

    def check_secret_key(self) -> None:
        """Refuse to run with a missing or short secret key (it derives encryption keys)."""
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            state = "is not set" if not self.secret_key else "is too short"
            raise ConfigError(
                f"GANTRY_SECRET_KEY {state}: set it to a random string of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (it derives the keys that encrypt "
                "stored secrets)"
            )


def parse_networks(text: str, variable: str = "GANTRY_TRUSTED_PROXIES") -> tuple[IPNetwork, ...]:
    """Parse a comma-separated list of addresses or CIDR blocks."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"{variable}: {item!r} is not an IP address or CIDR block"
            ) from exc
    return tuple(networks)


def parse_origins(text: str, variable: str = "GANTRY_CORS_ORIGINS") -> tuple[str, ...]:
    """Comma-separated origins (`scheme://host[:port]`), lower-cased; no wildcard, no path."""
    origins = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if item == "*" or parts.scheme not in ("http", "https") or not parts.hostname \
                or parts.path not in ("", "/") or parts.query or parts.fragment \
                or parts.username or parts.password:
            raise ConfigError(f"{variable}: {item!r} is not an origin like "
                              "https://portal.example.com (scheme and host, an optional port, "
                              "no path; '*' is refused since credentials are allowed)")
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(origins)


def _parse_database_url(text: str) -> str | None:
    url = text.strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("GANTRY_DATABASE_URL: must start with postgresql:// (unset it to "
                          "keep the store in SQLite under GANTRY_DATA_DIR)")
    return url


def _parse_action_env(text: str) -> tuple[str, ...]:
    try:
        return parse_allow_list(text)
    except ValueError as exc:
        raise ConfigError(f"GANTRY_ACTION_ENV: {exc}") from exc


def _parse_port(value: str | None, name: str) -> int:
    port = _parse_positive_int(value, name, 8080)
    if not 0 < port < 65536:
        raise ConfigError(f"{name}: {port} is not a TCP port (1-65535)")
    return port


def _parse_positive_int(value: str | None, name: str, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {value!r} is not a whole number") from exc
    if number <= 0:
        raise ConfigError(f"{name}: must be positive, got {number}")
    return number
