/* What the run pages share: who may decide on a run, the decision form, a runs table. */
import { api, atLeast, runHref, siteRoot } from "./api.js";
import { fill, h, notice, statusBadge, when } from "./dom.js";

function names(value) {
  return Array.isArray(value) ? value.filter((item) => typeof item === "string") : [];
}

/** The action's `spec.permissions` ({} when absent). */
export function permissionsOf(action) {
  const spec = (action && action.spec) || {};
  return spec.permissions && typeof spec.permissions === "object" ? spec.permissions : {};
}

/** Whether the user may run the action: the runner's rule, so no button it would refuse. */
export function mayExecute(action, user) {
  if (!user || !atLeast(user.role, "developer")) return false;
  const permissions = permissionsOf(action);
  const roles = names(permissions.allowedRoles);
  const teams = names(permissions.allowedTeams);
  if (!roles.length && !teams.length) return true;
  return roles.includes(user.role) || (user.teams || []).some((team) => teams.includes(team));
}

/** Whether the user may approve or reject a run of the action (never the requester). */
export function mayDecide(action, run, user) {
  if (!user || !run.awaitingApproval || user.username === run.triggeredBy) return false;
  if (!atLeast(user.role, "developer")) return false;
  const approvers = names(permissionsOf(action).approvers);
  if (!approvers.length) return user.role === "admin";
  return approvers.includes(user.username) ||
    (user.teams || []).some((team) => approvers.includes(team));
}

const actionCache = new Map();

/** The Action entity by name, read once per page. */
export function actionNamed(name) {
  if (!actionCache.has(name)) {
    actionCache.set(name, api(`/api/v1/actions/${encodeURIComponent(name)}`).then((a) => a.body));
  }
  return actionCache.get(name);
}

/** Approve and reject buttons (reject asks for a reason); `done(run)` gets the answer. */
export function decisionForm(run, done) {
  const id = `reason-${run.id}`;
  const reason = h("input", { id, name: "reason", maxlength: 500 });
  const status = h("span", { class: "decision-status", "aria-live": "polite" });
  async function decide(approve) {
    if (!approve && !reason.value.trim()) {
      status.textContent = "Give a reason for the rejection.";
      reason.focus();
      return;
    }
    const verb = approve ? "approve" : "reject";
    try {
      const answer = await api(
        `/api/v1/actions/${encodeURIComponent(run.actionName)}/runs/${encodeURIComponent(run.id)}/${verb}`,
        { method: "POST", body: approve ? {} : { reason: reason.value.trim() } });
      status.textContent = approve ? "Approved." : "Rejected.";
      done(answer.body);
    } catch (error) {
      status.textContent = `Cannot ${verb}: ${error.message}`;
    }
  }
  return h("form", { class: "decision", "data-run": run.id, onsubmit: (e) => e.preventDefault() },
    h("label", { for: id }, "Reason (needed to reject)"), reason,
    h("span", { class: "row" },
      h("button", { type: "button", class: "approve", onclick: () => decide(true) }, "Approve"),
      h("button", { type: "button", class: "danger reject", onclick: () => decide(false) }, "Reject")),
    status);
}

/** A table of runs, each linking to its page. */
export function runsTable(runs, { showAction = true } = {}) {
  if (!runs.length) return h("p", { class: "muted" }, "No runs.");
  const head = ["Run", showAction && "Action", "Status", "Triggered by", "Started"].filter(Boolean);
  return h("div", { class: "table-wrap" }, h("table", { class: "runs" },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, runs.map((run) => h("tr", { "data-run": run.id },
      h("td", {}, h("a", { href: runHref(run.actionName, run.id) }, run.id.slice(0, 8))),
      showAction && h("td", {}, h("a", {
        href: `${siteRoot}actions/${encodeURIComponent(run.actionName)}/index.html` },
      run.actionName)),
      h("td", {}, statusBadge(run)),
      h("td", {}, run.triggeredBy),
      h("td", {}, when(run.startedAt)))))));
}

/** Draw `what` into `node`, or the error when the promise fails. */
export async function drawInto(node, what) {
  try {
    fill(node, await what);
  } catch (error) {
    fill(node, notice("error", error.message));
  }
}
