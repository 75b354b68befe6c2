/* The sign-in page: the runner's session cookie, set by POST /api/v1/auth/login. */
import { api, siteRoot } from "../api.js";
import { fill, h, notice } from "../dom.js";

/** Where to go after signing in: a path on this site only (never another origin). */
function nextPage() {
  const next = new URLSearchParams(window.location.search).get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") && !next.includes("\\")
    ? next : `${siteRoot}index.html`;
}

export function render(holder, user) {
  const params = new URLSearchParams(window.location.search);
  const status = h("div", { id: "signin-status", "aria-live": "polite" });
  if (params.has("signedout") && !user) status.append(notice("ok", "You are signed out."));
  if (user) {
    status.append(notice("info", `You are signed in as ${user.username} (${user.role}).`));
  }
  const username = h("input", { id: "signin-username", name: "username", autocomplete: "username",
    required: true, autofocus: !user });
  const password = h("input", { id: "signin-password", name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Sign in");
  let timer = null;

  function wait(seconds) {
    submit.disabled = true;
    let left = seconds;
    const line = notice("error", "");
    const tick = () => {
      line.textContent = `Too many failed sign-ins. Try again in ${left} second${left === 1 ? "" : "s"}.`;
      if (left-- <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        line.textContent = "You may try again now.";
      }
    };
    fill(status, line);
    tick();
    timer = setInterval(tick, 1000);
  }

  async function signIn(event) {
    event.preventDefault();
    if (!event.target.reportValidity()) return;
    fill(status, notice("info", "Signing in…"));
    try {
      await api("/api/v1/auth/login", { method: "POST",
        body: { username: username.value, password: password.value } });
    } catch (error) {
      password.value = "";
      if (error.status === 429 && error.retryAfter) { wait(error.retryAfter); return; }
      const why = error.status === 401 ? "Wrong user name or password." : error.message;
      fill(status, notice("error", why));
      password.focus();
      return;
    }
    window.location.assign(nextPage());
  }

  fill(holder,
    h("form", { class: "card narrow stack", id: "signin-form", onsubmit: signIn },
      h("label", { for: "signin-username" }, "User name"), username,
      h("label", { for: "signin-password" }, "Password"), password,
      h("p", {}, submit)),
    status);
}
