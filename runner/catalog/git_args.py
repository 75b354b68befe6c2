"""The one way to run `git` with values that came from outside the code.

Remote URLs, branch names and paths come from plugin settings, the catalog and requests. A
value that starts with `-` would be read by Git as an option (`--upload-pack=<command>` runs
a command), and a transport helper URL (`ext::<command>`) runs one as well. So:

- every such value is checked first: `safe_remote_url`, `safe_ref_name`, `safe_path` raise
  `UnsafeGitValue` naming the field and what is wrong;
- `run_git` passes untrusted values only as operands, after `--` (or `--end-of-options`
  where `--` would start a pathspec), and refuses any operand starting with `-` anyway;
- `git` runs in a clean environment (no `GIT_*` variable of the process) that allows only
  the transports https, http, ssh, git and file (`GIT_ALLOW_PROTOCOL`) and sets
  `protocol.ext.allow=never`, so even a value that slipped past the checks cannot reach a
  transport helper. Extra configuration travels as `GIT_CONFIG_*` variables, never on the
  command line (an `http.extraHeader` holding a token stays out of process listings).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

ALLOWED_SCHEMES = ("https", "http", "ssh", "git", "file")
"""Git transports a remote may use; `ext::`, `fd::` and other helpers are never allowed."""
GIT_ALLOW_PROTOCOL = ":".join(ALLOWED_SCHEMES)
DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_REF_LENGTH = 255
_PROTECTIVE_CONFIG = (("protocol.ext.allow", "never"),)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HELPER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.-]*::")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)$")
_PORT = re.compile(r"^[0-9]{0,5}$")
_REF_CHARS = re.compile(r"^[A-Za-z0-9._/+-]+$")
_RESERVED_ENV = re.compile(r"^GIT_(CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS)|ALLOW_PROTOCOL"
                           r"|PROTOCOL_FROM_USER)$")


class UnsafeGitValue(ValueError):
    """A value may not be given to `git`; the message names the field and the reason."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class GitRunError(Exception):
    """`git` could not be started or did not finish in time."""


def _common(value: object, field: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise UnsafeGitValue(field, f"must be a non-empty {what}")
    if _CONTROL.search(value):
        raise UnsafeGitValue(field, "must not contain control characters (newlines, tabs, NUL)")
    if value.startswith("-"):
        raise UnsafeGitValue(field, "must not start with '-' (Git would read it as an "
                             "option)")
    return value


def _check_authority(authority: str, field: str, scheme: str) -> None:
    """user@host:port of a URL: no part may look like an option (ssh would read it as one)."""
    userinfo, _, hostport = authority.rpartition("@")
    if userinfo.startswith("-"):
        raise UnsafeGitValue(field, "the user name of the URL must not start with '-'")
    if not hostport:
        if scheme == "file":
            return
        raise UnsafeGitValue(field, "the URL has no host")
    if hostport.startswith("-"):
        raise UnsafeGitValue(field, "the host of the URL must not start with '-'")
    host, port = hostport, ""
    if not hostport.endswith("]") and ":" in hostport:
        host, _, port = hostport.rpartition(":")
    if not _HOST.match(host):
        raise UnsafeGitValue(field, f"{host!r} is not a valid host name")
    if not _PORT.match(port):
        raise UnsafeGitValue(field, f"{port!r} is not a valid port")


def safe_remote_url(value: object, field: str = "repoUrl") -> str:
    """`value` when it is a Git remote Gantry may use, else `UnsafeGitValue`.

    Accepted: `https://`, `http://`, `ssh://`, `git://`, `file://` URLs, scp-like
    `user@host:path`, and absolute local paths. Refused: anything starting with `-`,
    transport helpers (`ext::…`, `fd::…`), other schemes, hosts or user names starting
    with `-` (`ssh://-oProxyCommand=…`), control characters.
    """
    url = _common(value, field, "Git remote URL")
    if _HELPER.match(url):
        helper = url.split("::", 1)[0]
        raise UnsafeGitValue(field, f"the transport helper {helper!r}:: is not allowed; use "
                             "an https, ssh, git or file URL")
    scheme_url = _SCHEME.match(url)
    if scheme_url:
        scheme, rest = scheme_url.group(1).lower(), scheme_url.group(2)
        if scheme not in ALLOWED_SCHEMES:
            raise UnsafeGitValue(field, f"the scheme {scheme!r} is not allowed; use one of "
                                 f"{', '.join(ALLOWED_SCHEMES)}")
        authority = rest.split("/", 1)[0]
        _check_authority(authority, field, scheme)
        if scheme != "file" and not rest[len(authority):].strip("/"):
            raise UnsafeGitValue(field, "the URL names no repository path")
        return url
    if url.startswith("/"):
        return url  # a local repository: the file transport
    colon, slash = url.find(":"), url.find("/")
    if colon > 0 and (slash == -1 or colon < slash):
        authority, path = url[:colon], url[colon + 1:]
        _check_authority(authority, field, "ssh")
        if not path or path.startswith("-"):
            raise UnsafeGitValue(field, "the path after ':' must be non-empty and must not "
                                 "start with '-'")
        return url
    raise UnsafeGitValue(field, "not a Git remote: use an https://, ssh://, git:// or file:// "
                         "URL, user@host:path, or an absolute path")


def safe_ref_name(value: object, field: str = "branch") -> str:
    """`value` when it is a branch name Git accepts (`git check-ref-format --branch` rules)
    made only of letters, digits and `. _ - + /`; else `UnsafeGitValue`."""
    name = _common(value, field, "branch name")
    if len(name) > MAX_REF_LENGTH:
        raise UnsafeGitValue(field, f"must be at most {MAX_REF_LENGTH} characters")
    if not _REF_CHARS.match(name):
        raise UnsafeGitValue(field, "may contain only letters, digits and the characters "
                             ". _ - + /")
    if name == "HEAD":
        raise UnsafeGitValue(field, "'HEAD' is not a branch name")
    if name.startswith("/") or name.endswith(("/", ".")) or "//" in name or ".." in name:
        raise UnsafeGitValue(field, "must not start or end with '/', end with '.', or contain "
                             "'//' or '..'")
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            raise UnsafeGitValue(field, f"the part {part!r} must not start with '.' or end "
                                 "with '.lock'")
    return name


def safe_path(value: object, field: str = "path") -> str:
    """`value` when it is a relative path inside a repository; else `UnsafeGitValue`."""
    path = _common(value, field, "relative path")
    parts = PurePosixPath(path).parts
    if path.startswith("/") or ".." in parts:
        raise UnsafeGitValue(field, "must be relative and stay inside the repository "
                             "(no leading '/', no '..')")
    if any(part.startswith("-") for part in parts):
        raise UnsafeGitValue(field, "no part of the path may start with '-'")
    return path


def git_environment(extra: Mapping[str, str] | None = None,
                    config: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for `git`: the process's without any `GIT_*` variable, then `extra`,
    then the protocol limits and `config` as `GIT_CONFIG_*` (which `extra` cannot undo)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({k: v for k, v in (extra or {}).items() if not _RESERVED_ENV.match(k)})
    pairs = [*_PROTECTIVE_CONFIG, *(config or {}).items()]
    for index, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    env["GIT_ALLOW_PROTOCOL"] = GIT_ALLOW_PROTOCOL
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run_git(cwd: Path | str, *args: str, operands: Sequence[str] = (),
            separator: str | None = "--", env: Mapping[str, str] | None = None,
            config: Mapping[str, str] | None = None,
            timeout: float = DEFAULT_TIMEOUT_SECONDS,
            text: bool = True) -> subprocess.CompletedProcess:
    """Run `git *args <separator> *operands` in `cwd` and return the finished process.

    `args` are the command and options the code itself wrote; `operands` are values from
    outside (URLs, refspecs, paths, revisions), placed after `separator` — `--` by default,
    `--end-of-options` where `--` would begin a pathspec, None only for commands that take
    neither (the operand check below still holds). The exit status is the caller's to
    judge; `GitRunError` when git cannot run or times out.
    """
    for operand in operands:
        if not isinstance(operand, str) or operand.startswith("-"):
            raise UnsafeGitValue("argument", f"{operand!r} must not start with '-'")
    command = ["git", *args]
    if operands:
        command += [separator, *operands] if separator else list(operands)
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=text,
                              env=git_environment(env, config), timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise GitRunError(f"git {args[0]} timed out after {timeout:.0f}s") from exc
    except OSError as exc:
        raise GitRunError(f"git {args[0]} could not run: {exc}") from exc
