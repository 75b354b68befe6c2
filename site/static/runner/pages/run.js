/* One run, followed live over the WebSocket (polling while the socket is down). */
import { api, followRuns, siteRoot } from "../api.js";
import { fill, h, notice, statusBadge, when } from "../dom.js";
import { actionNamed, decisionForm, mayDecide } from "../runs-common.js";

const TERMINAL = ["success", "failed"];
const POLL_MS = 2000;

function isUrl(value) {
  return typeof value === "string" && /^https?:\/\//i.test(value);
}

function valueOf(value) {
  if (isUrl(value)) return h("a", { href: value, rel: "noopener" }, value);
  if (value !== null && typeof value === "object") return h("code", {}, JSON.stringify(value));
  return String(value);
}

function pairs(object, id) {
  const keys = Object.keys(object || {});
  if (!keys.length) return h("p", { class: "muted", id }, "None.");
  return h("dl", { class: "kv", id }, keys.map((key) => [h("dt", {}, key), h("dd", {}, valueOf(object[key]))]));
}

/** Where the executor's own record of the run is: the GitHub workflow run, the ArgoCD sync. */
function executorLinks(outputs) {
  const links = [];
  if (isUrl(outputs.htmlUrl)) {
    links.push(h("li", {}, h("a", { href: outputs.htmlUrl, rel: "noopener", id: "executor-link" },
      "GitHub workflow run", outputs.runId ? ` #${outputs.runId}` : "")));
  }
  if (outputs.appName && outputs.instance) {
    links.push(h("li", {}, `ArgoCD operation on ${outputs.appName} (${outputs.instance}): `,
      outputs.phase || "started", outputs.revision ? ` at ${outputs.revision}` : ""));
  }
  return links.length ? h("ul", { class: "plain" }, links) : null;
}

function approvalsList(approvals) {
  if (!approvals || !approvals.length) return null;
  return h("ul", { class: "plain", id: "run-approvals" }, approvals.map((a) => h("li", {},
    h("strong", {}, a.user), ` ${a.decision} `, when(a.at), a.reason ? ` — ${a.reason}` : "")));
}

export async function render(holder, user) {
  const params = new URLSearchParams(window.location.search);
  const actionName = params.get("action") || "";
  const runId = params.get("run") || "";
  if (!actionName || !runId) {
    fill(holder, notice("error", "Which run? This page needs ?action=NAME&run=ID."),
      h("p", {}, h("a", { href: `${siteRoot}runs/index.html` }, "All runs")));
    return;
  }
  const path = `/api/v1/actions/${encodeURIComponent(actionName)}/runs/${encodeURIComponent(runId)}`;
  let run;
  try {
    run = (await api(path)).body;
  } catch (error) {
    fill(holder, notice("error", `Cannot read run ${runId}: ${error.message}`));
    return;
  }
  const action = await actionNamed(actionName).catch(() => null);
  const live = h("span", { class: "muted", id: "run-live" });
  const body = h("div", { id: "run" });
  fill(holder, body);

  function draw() {
    const title = document.querySelector("h1");
    if (title) title.textContent = `Run of ${(action && action.metadata && action.metadata.title) || actionName}`;
    const approvedBy = (run.approvals || []).filter((a) => a.decision === "approved").map((a) => a.user);
    fill(body,
      h("section", { class: "card", "aria-labelledby": "run-h" },
        h("h2", { id: "run-h" }, h("span", { id: "run-status", "data-status":
          run.awaitingApproval ? "pending approval" : run.status }, statusBadge(run)), " ", live),
        h("dl", { class: "facts" },
          h("dt", {}, "Action"), h("dd", {}, h("a", {
            href: `${siteRoot}actions/${encodeURIComponent(actionName)}/index.html` }, actionName)),
          h("dt", {}, "Run"), h("dd", {}, h("code", {}, run.id)),
          h("dt", {}, "Triggered by"), h("dd", { id: "run-triggered-by" }, run.triggeredBy),
          h("dt", {}, "Approved by"), h("dd", { id: "run-approved-by" },
            approvedBy.length ? approvedBy.join(", ") : run.approvalRequired ? "not yet" : "no approval needed"),
          h("dt", {}, "Started"), h("dd", {}, when(run.startedAt)),
          h("dt", {}, "Completed"), h("dd", {}, run.completedAt ? when(run.completedAt) : "not yet")),
        executorLinks(run.outputs || {}),
        approvalsList(run.approvals),
        run.error ? h("div", { class: "notice error", id: "run-error", role: "alert" },
          h("strong", {}, "Error: "), run.error) : null,
        mayDecide(action, run, user) ? decisionForm(run, (answer) => update(answer)) : null),
      h("section", { class: "card", "aria-labelledby": "out-h" },
        h("h2", { id: "out-h" }, "Outputs"), pairs(run.outputs, "run-outputs")),
      h("section", { class: "card", "aria-labelledby": "in-h" },
        h("h2", { id: "in-h" }, "Inputs"), pairs(run.inputs, "run-inputs")));
  }

  function update(next) {
    if (!next || next.id !== run.id) return;
    run = { ...run, ...next };
    draw();
  }

  let socketOpen = false;
  async function reread() {
    try { update((await api(path)).body); } catch { /* keep what is shown */ }
  }
  followRuns((type, payload) => update(payload), (open) => {
    socketOpen = open;
    live.textContent = open ? "· live" : "";
    if (open) reread();  // whatever changed before the subscription began
  });
  (function poll() {
    if (TERMINAL.includes(run.status)) return;
    setTimeout(async () => {
      if (!socketOpen) await reread();
      poll();
    }, POLL_MS);
  })();
  draw();
}
