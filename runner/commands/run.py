"""`gantry run ACTION` — execute an action on a runner and, with `--wait`, follow it to its end.

Inputs come from `--inputs JSON` and repeated `--input name=value` (the latter win); values
given as `name=value` are converted to the action's declared input types (numbers, booleans,
select options), so the shell and the web form behave the same.

While waiting, progress lines are printed as the status changes. The command follows the run
over the runner's WebSocket when the `websocket-client` package is installed, and by polling
the run otherwise (or when the WebSocket cannot be opened).

Exit codes: 0 the run succeeded (or was created, without `--wait`); 1 the run failed or was
rejected; 2 bad usage, refused request or unreachable runner; 3 `--timeout` passed first.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import click
import httpx

EXIT_SUCCESS, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3
DEFAULT_SERVER = "http://127.0.0.1:8080"
POLL_INTERVAL = 1.0
TERMINAL = ("success", "failed")


class _Stop(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _coerce(name: str, text: str, declared: dict[str, Any] | None) -> Any:
    """Turn a `--input` string into the declared type; unknown names stay strings."""
    kind = (declared or {}).get("type", "string")
    if kind == "number":
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise _Stop(f"--input {name}: {text!r} is not a number", EXIT_USAGE) from None
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise _Stop(f"--input {name}: {text!r} is not true or false", EXIT_USAGE)
    if kind == "select":
        for option in (declared or {}).get("options") or []:
            if str(option) == text or (isinstance(option, bool) and str(option).lower() == text):
                return option
    return text


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    lines = [f"{body.get('error', 'error')} (HTTP {response.status_code})"]
    for field, message in (body.get("fields") or {}).items():
        lines.append(f"  {field}: {message}")
    for problem in body.get("problems") or []:
        lines.append(f"  {problem}")
    return "\n".join(lines)


class _Client:
    def __init__(self, server: str, token: str | None):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.server = server.rstrip("/")
        self.token = token
        self.http = httpx.Client(base_url=self.server + "/api/v1", headers=headers, timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _Stop(f"cannot reach the runner at {self.server}: {exc}", EXIT_USAGE) from exc
        if response.status_code >= 400:
            raise _Stop(_error_text(response), EXIT_USAGE)
        try:
            return response.json()
        except ValueError as exc:
            raise _Stop(f"the runner at {self.server} did not answer JSON", EXIT_USAGE) from exc


def _inputs(client: _Client, action: str, inputs_json: str | None,
            pairs: tuple[str, ...]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if inputs_json:
        try:
            inputs = json.loads(inputs_json)
        except ValueError as exc:
            raise _Stop(f"--inputs is not valid JSON: {exc}", EXIT_USAGE) from exc
        if not isinstance(inputs, dict):
            raise _Stop("--inputs must be a JSON object", EXIT_USAGE)
    if not pairs:
        return inputs
    definition = client.call("GET", f"/actions/{quote(action, safe='')}")
    declared = {item.get("name"): item for item in (definition.get("spec") or {}).get("inputs")
                or [] if isinstance(item, dict)}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise _Stop(f"--input {pair!r}: expected name=value", EXIT_USAGE)
        inputs[name] = _coerce(name, value, declared.get(name))
    return inputs


def _describe(run: dict[str, Any]) -> str:
    status = run.get("status")
    if status == "pending" and run.get("awaitingApproval"):
        return "pending (waiting for approval)"
    return str(status)


def _follow_ws(client: _Client, run: dict[str, Any], deadline: float, echo) -> dict | None:
    """Follow over the WebSocket; None when the WebSocket cannot be used."""
    try:
        import websocket  # websocket-client, optional
    except ImportError:
        return None
    parts = urlsplit(client.server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    url = urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/api/v1/ws", "", ""))
    headers = [f"Authorization: Bearer {client.token}"] if client.token else []
    try:
        ws = websocket.create_connection(url, header=headers, timeout=5)
    except Exception:
        return None
    try:
        ws.send(json.dumps({"action": "subscribe", "channel": "actions"}))
        current = _get_run(client, run)
        last = _report(current, None, echo)
        while current.get("status") not in TERMINAL:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Stop(f"timed out waiting for run {run['id']} ({last})", EXIT_TIMEOUT)
            ws.settimeout(min(remaining, 5.0))
            try:
                message = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                current = _get_run(client, run)
                last = _report(current, last, echo)
                continue
            payload = message.get("payload") if isinstance(message, dict) else None
            if isinstance(payload, dict) and payload.get("id") == run["id"]:
                current = payload
                last = _report(current, last, echo)
        return current
    except (websocket.WebSocketException, OSError, ValueError):
        return None
    finally:
        try:
            ws.close()
        except Exception:
            pass


def _follow_polling(client: _Client, run: dict[str, Any], deadline: float, echo) -> dict:
    last = None
    while True:
        current = _get_run(client, run)
        last = _report(current, last, echo)
        if current.get("status") in TERMINAL:
            return current
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Stop(f"timed out waiting for run {run['id']} ({last})", EXIT_TIMEOUT)
        time.sleep(min(POLL_INTERVAL, remaining))


def _get_run(client: _Client, run: dict[str, Any]) -> dict[str, Any]:
    name = quote(run["actionName"], safe="")
    return client.call("GET", f"/actions/{name}/runs/{quote(run['id'], safe='')}")


def _report(run: dict[str, Any], last: str | None, echo) -> str:
    described = _describe(run)
    if described != last:
        echo(f"run {run['id']}: {described}")
    return described


@click.command(name="run")
@click.argument("action")
@click.option("--input", "pairs", multiple=True, metavar="NAME=VALUE",
              help="An input value (repeatable); converted to the input's declared type.")
@click.option("--inputs", "inputs_json", metavar="JSON", help="All inputs as a JSON object.")
@click.option("--wait", is_flag=True, help="Follow the run until it ends.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=600.0,
              show_default=True, help="Seconds to wait with --wait.")
@click.option("--server", envvar="GANTRY_URL", default=DEFAULT_SERVER, show_default=True,
              help="The runner's URL (or GANTRY_URL).")
@click.option("--token", envvar="GANTRY_TOKEN", help="A session token or API key "
              "(or GANTRY_TOKEN).")
@click.option("--json", "as_json", is_flag=True, help="Print the final run as JSON on stdout "
              "(progress goes to stderr).")
def command(action: str, pairs: tuple[str, ...], inputs_json: str | None, wait: bool,
            timeout: float, server: str, token: str | None, as_json: bool) -> None:
    """Execute ACTION on the runner; exit 0 success, 1 failed/rejected, 2 error, 3 timeout."""
    def echo(line: str) -> None:
        click.echo(line, err=as_json)

    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.UsageError(f"--server {server!r} must be an http or https URL")
    client = _Client(server, token)
    try:
        inputs = _inputs(client, action, inputs_json, pairs)
        run = client.call("POST", f"/actions/{quote(action, safe='')}/execute",
                          json={"inputs": inputs})
        echo(f"run {run['id']} of {action} created")
        if wait:
            deadline = time.monotonic() + timeout
            final = _follow_ws(client, run, deadline, echo)
            if final is None:
                final = _follow_polling(client, run, deadline, echo)
            run = final
    except _Stop as stop:
        click.echo(f"error: {stop}", err=True)
        raise SystemExit(stop.code) from None
    finally:
        client.http.close()
    if as_json:
        click.echo(json.dumps(run, indent=2))
    elif run.get("status") in TERMINAL:
        if run.get("error"):
            click.echo(f"error: {run['error']}")
        for key, value in (run.get("outputs") or {}).items():
            click.echo(f"{key}: {json.dumps(value) if not isinstance(value, str) else value}")
    if run.get("status") == "failed":
        raise SystemExit(EXIT_FAILED)
