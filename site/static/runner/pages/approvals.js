/* The approvals inbox: pending runs the signed-in user may approve or reject. */
import { api, followRuns, runHref } from "../api.js";
import { fill, h, notice, when } from "../dom.js";
import { actionNamed, decisionForm, mayDecide } from "../runs-common.js";

export async function render(holder, user) {
  const list = h("div", { id: "approvals-list", "aria-live": "polite" });
  const status = h("div", { id: "approvals-status", "aria-live": "polite" });
  fill(holder, status, list);

  async function load() {
    let pending;
    try {
      pending = (await api("/api/v1/actions/runs?status=pending&limit=500")).body
        .filter((run) => run.awaitingApproval);
    } catch (error) {
      fill(list, notice("error", `Cannot list runs: ${error.message}`));
      return;
    }
    const mine = [];
    for (const run of pending) {
      const action = await actionNamed(run.actionName).catch(() => null);
      if (mayDecide(action, run, user)) mine.push(run);
    }
    if (!mine.length) {
      fill(list, h("p", { class: "muted", id: "approvals-empty" }, "Nothing waits for your decision."));
      return;
    }
    fill(list, h("ul", { class: "plain approvals" }, mine.map((run) => h("li", { class: "card", "data-run": run.id },
      h("h2", {}, h("a", { href: runHref(run.actionName, run.id) }, run.actionName),
        " requested by ", run.triggeredBy),
      h("p", { class: "muted" }, "Started ", when(run.startedAt)),
      h("dl", { class: "kv" }, Object.entries(run.inputs || {}).map(([key, value]) =>
        [h("dt", {}, key), h("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value))])),
      decisionForm(run, (answer) => {
        fill(status, notice("ok", `Run ${answer.id.slice(0, 8)} of ${answer.actionName}: `,
          answer.status === "failed" ? "rejected." : "approved.", " ",
          h("a", { href: runHref(answer.actionName, answer.id) }, "Follow it")));
        load();
      })))));
  }

  followRuns((type, payload) => {
    if (payload && (payload.awaitingApproval || list.querySelector(`[data-run="${CSS.escape(payload.id || "")}"]`))) load();
  });
  await load();
}
