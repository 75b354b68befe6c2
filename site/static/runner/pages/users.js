/* Admin: the runner's users — create, change role, disable or enable, delete. */
import { api, ROLES } from "../api.js";
import { fill, h, notice, when } from "../dom.js";

export async function render(holder, user) {
  const status = h("div", { id: "users-status", "aria-live": "polite" });
  const list = h("div", { id: "users-list" });
  const name = h("input", { id: "user-name", name: "username", required: true, autocomplete: "off" });
  const password = h("input", { id: "user-password", name: "password", type: "password",
    required: true, minlength: 8, autocomplete: "new-password" });
  const email = h("input", { id: "user-email", name: "email", type: "email", autocomplete: "off" });
  const role = h("select", { id: "user-role", name: "role" },
    ROLES.map((r) => h("option", { value: r, selected: r === "viewer" }, r)));

  /* Each outcome is announced after the table is redrawn, so what it says is on screen. */
  async function change(target, body, done) {
    let outcome;
    try {
      await api(`/api/v1/auth/users/${encodeURIComponent(target.username)}`, { method: "PATCH", body });
      outcome = notice("ok", done);
    } catch (error) {
      outcome = notice("error", `${target.username}: ${error.message}`);
    }
    await refresh();
    fill(status, outcome);
  }
  async function remove(target) {
    if (!window.confirm(`Delete ${target.username}? Their sessions and keys end now.`)) return;
    let outcome;
    try {
      await api(`/api/v1/auth/users/${encodeURIComponent(target.username)}`, { method: "DELETE" });
      outcome = notice("ok", `${target.username} is deleted.`);
    } catch (error) {
      outcome = notice("error", `${target.username}: ${error.message}`);
    }
    await refresh();
    fill(status, outcome);
  }

  function row(target) {
    const id = `role-${target.username}`;
    const select = h("select", { id, "aria-label": `Role of ${target.username}` },
      ROLES.map((r) => h("option", { value: r, selected: r === target.role }, r)));
    select.addEventListener("change", () => change(target, { role: select.value },
      `${target.username} is now ${select.value}; their sessions and higher keys ended.`));
    const self = target.username === user.username;
    return h("tr", { "data-user": target.username },
      h("td", {}, target.username, self ? " (you)" : ""),
      h("td", {}, select),
      h("td", {}, target.email || ""),
      h("td", {}, (target.teams || []).join(", ")),
      h("td", {}, target.disabled ? h("span", { class: "badge st-failed" }, "disabled") : "active"),
      h("td", {}, when(target.createdAt)),
      h("td", { class: "row" },
        h("button", { type: "button", class: "secondary toggle",
          "aria-label": `${target.disabled ? "Enable" : "Disable"} ${target.username}`,
          onclick: () => change(target, { disabled: !target.disabled },
            target.disabled ? `${target.username} is enabled.` : `${target.username} is disabled.`) },
        target.disabled ? "Enable" : "Disable"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete ${target.username}`,
          onclick: () => remove(target) }, "Delete")));
  }

  async function refresh() {
    try {
      const users = (await api("/api/v1/auth/users")).body;
      fill(list, h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["User", "Role", "E-mail", "Teams", "State", "Created", ""]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, users.map(row)))));
    } catch (error) {
      fill(list, notice("error", `Cannot list users: ${error.message}`));
    }
  }

  async function create(event) {
    event.preventDefault();
    if (!event.target.reportValidity()) return;
    const body = { username: name.value, password: password.value, role: role.value };
    if (email.value) body.email = email.value;
    let outcome;
    try {
      await api("/api/v1/auth/users", { method: "POST", body });
      outcome = notice("ok", `${name.value} is created as ${role.value}.`);
      event.target.reset();
    } catch (error) {
      outcome = notice("error", `Cannot create ${name.value}: ${error.message}`);
    }
    await refresh();
    fill(status, outcome);
  }

  fill(holder,
    h("form", { class: "card stack narrow", id: "user-form", onsubmit: create },
      h("h2", {}, "New user"),
      h("label", { for: "user-name" }, "User name"), name,
      h("label", { for: "user-password" }, "Password (at least 8 characters)"), password,
      h("label", { for: "user-email" }, "E-mail (optional)"), email,
      h("label", { for: "user-role" }, "Role"), role,
      h("p", {}, h("button", { type: "submit" }, "Create user"))),
    status,
    h("section", { class: "card", "aria-labelledby": "users-h" }, h("h2", { id: "users-h" }, "Users"), list));
  await refresh();
}
