/* The runner's public REST API and WebSocket, as the site's pages use them.
 *
 * Requests carry the runner's session cookie (`credentials: "include"`) and the
 * X-Requested-With header the runner's cross-site protection asks of cookie writes.
 * Errors become ApiError with the HTTP status, the JSON body and Retry-After.
 */

const account = document.getElementById("account");

/** The runner's base URL: "/" in gantry.yaml means the origin serving this page. */
export const runnerBase = (() => {
  const configured = account ? account.dataset.runner : "";
  if (!configured || configured === "/") return window.location.origin;
  return configured.replace(/\/+$/, "");
})();

/** The relative path from this page to the site's root ("../../"). */
export const siteRoot = account ? account.dataset.root : "./";

/** The asset version, for module imports that must not come from a stale cache. */
export const assetVersion = account ? account.dataset.v : "";

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.error) || `the runner answered ${status}`);
    this.status = status;
    this.body = body || {};
    this.retryAfter = retryAfter;
  }
}

/** Call the API: `path` starts with /api/v1; `body` is sent as JSON; `headers` are added. */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = {
    method,
    credentials: "include",
    headers: { "X-Requested-With": "gantry-site", Accept: "application/json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(runnerBase + path, init);
  let payload = null;
  if (response.status !== 204) {
    const text = await response.text();
    try { payload = text ? JSON.parse(text) : null; } catch { payload = { error: text }; }
  }
  if (!response.ok) {
    const wait = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, payload, Number.isFinite(wait) && wait > 0 ? wait : null);
  }
  return { body: payload, headers: response.headers, status: response.status };
}

let mePromise = null;

/** The signed-in user ({username, role, teams}), null when signed out, or throws when the
 * runner cannot be reached. Read once per page. */
export function me() {
  if (!mePromise) {
    mePromise = api("/api/v1/auth/me").then(
      (answer) => answer.body,
      (error) => {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      });
  }
  return mePromise;
}

export const ROLES = ["viewer", "developer", "platform-engineer", "admin"];

/** Whether `role` is at least `wanted` (viewer < developer < platform-engineer < admin). */
export function atLeast(role, wanted) {
  return ROLES.indexOf(role) >= ROLES.indexOf(wanted) && ROLES.indexOf(wanted) >= 0;
}

/** Follow the "actions" channel of the WebSocket; `onEvent(type, payload)` for each event.
 * Returns {close()}; `onState(open)` says whether the socket is live (pages poll when not). */
export function followRuns(onEvent, onState = () => {}) {
  const url = runnerBase.replace(/^http/, "ws") + "/api/v1/ws";
  let socket = null;
  let stopped = false;
  let retry = 1000;
  function connect() {
    try { socket = new WebSocket(url); } catch { onState(false); return; }
    socket.addEventListener("open", () => {
      retry = 1000;
      socket.send(JSON.stringify({ action: "subscribe", channel: "actions" }));
      onState(true);
    });
    socket.addEventListener("message", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (data && typeof data.type === "string" && data.type.startsWith("action.run.")) {
        onEvent(data.type, data.payload || {});
      }
    });
    socket.addEventListener("close", (event) => {
      onState(false);
      if (stopped || event.code === 4401) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }
  connect();
  return { close() { stopped = true; if (socket) socket.close(); } };
}

/** A link to one run's page, relative to the site root. */
export function runHref(actionName, runId) {
  const query = new URLSearchParams({ action: actionName, run: runId });
  return `${siteRoot}runs/view/index.html?${query}`;
}

/** A link to the sign-in page that comes back here afterwards. */
export function signInHref() {
  const back = window.location.pathname + window.location.search;
  return `${siteRoot}signin/index.html?${new URLSearchParams({ next: back })}`;
}
