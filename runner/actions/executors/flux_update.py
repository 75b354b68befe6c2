"""`flux-update`: ask Flux to reconcile now, through a notification-controller Receiver.

Config: `url` (the receiver's full `/hook/<digest>` URL) and `secret` (the receiver's token),
both accepting `${VAR}` (from the variables GANTRY_ACTION_ENV allows). Without `url` the
`flux` plugin's `receiverUrl` is used, with the plugin's `secret` unless the action names its
own, and the plugin's `timeout`: one Receiver configured once serves every action. An action
naming its own `url` never gets the plugin's secret (another receiver has another token).
With a secret the body is signed as a `generic-hmac` receiver checks it:
`X-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body keyed with the token. The
body is JSON describing the run, so that a receiver's `resourceFilter` can use it. The
receiver answers 200 when it accepted the event; any other answer fails the run with what
that code means in Flux.
"""

from __future__ import annotations

import json

import httpx

from ..placeholders import PlaceholderError
from .base import BaseExecutor, Done, Failed, RunContext, Step
from .http import describe_transport_error, excerpt, shared_client, sign

TIMEOUT = 10.0

_MEANING = {
    400: "the receiver refused the request: for generic-hmac the signature did not match "
    "(check that config.secret is the receiver's token) or the payload was not accepted",
    401: "the receiver refused the credentials",
    404: "no Receiver answers at this /hook/ path (check the digest in config.url)",
    405: "the receiver only accepts POST",
    503: "the Receiver exists but is not ready",
}


class FluxUpdateExecutor(BaseExecutor):
    type = "flux-update"

    def start(self, ctx: RunContext) -> Step:
        plugin = ctx.plugin_config("flux") or {}
        try:
            resolved = ctx.placeholders.resolve_all(
                {"url": ctx.config.get("url"), "secret": ctx.config.get("secret")}, ctx.secrets)
        except PlaceholderError as exc:
            return Failed(f"{exc}; nothing was sent")
        url, secret = resolved["url"], resolved["secret"]
        if not url:
            url = plugin.get("receiverUrl")
            if not url:
                return Failed("no receiver: set config.url on the action or receiverUrl in the "
                              "flux plugin's settings; nothing was sent")
            if secret is None:
                secret = plugin.get("secret")
                ctx.add_secret(secret)
        timeout = float(plugin.get("timeout") or TIMEOUT)
        payload = {
            "source": "gantry",
            "action": ctx.action_name,
            "runId": ctx.run_id,
            "triggeredBy": ctx.triggered_by,
            "inputs": ctx.inputs,
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "X-Gantry-Run-Id": ctx.run_id}
        if secret:
            headers["X-Signature"] = sign(secret, body)
        try:
            response = shared_client().post(url, content=body, headers=headers, timeout=timeout)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return Failed("config.url is not a valid URL once resolved; nothing was sent")
        except httpx.HTTPError as exc:
            return Failed(f"the Flux receiver {describe_transport_error(exc)}")
        if response.status_code == 200:
            return Done({"statusCode": 200})
        meaning = _MEANING.get(response.status_code, "unexpected answer")
        text = excerpt(response)
        detail = f" ({text})" if text else ""
        return Failed(
            f"the Flux receiver answered HTTP {response.status_code}: {meaning}{detail}",
            {"statusCode": response.status_code},
        )



EXECUTOR = FluxUpdateExecutor()
