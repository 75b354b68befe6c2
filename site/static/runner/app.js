/* Progressive enhancement by the runner: who is signed in (header), and the runner's pages.
 *
 * Loaded only by sites that name a runner. When the runner cannot be reached the header
 * stays empty and the static pages work as before.
 */
import { api, assetVersion, atLeast, me, siteRoot, signInHref } from "./api.js";
import { fill, h, notice } from "./dom.js";

const account = document.getElementById("account");

function load(module) {
  return import(`./${module}.js?v=${assetVersion}`);
}

async function signOut() {
  try {
    await api("/api/v1/auth/logout", { method: "POST" });
  } catch (error) {
    window.alert(`Signing out failed: ${error.message}`);
    return;
  }
  window.location.assign(`${siteRoot}signin/index.html?signedout=1`);
}

function drawAccount(user) {
  if (!user) {
    fill(account, h("a", { class: "signin", href: signInHref() }, "Sign in"));
    return;
  }
  const links = [h("a", { href: `${siteRoot}runs/index.html` }, "Runs")];
  if (atLeast(user.role, "developer")) {
    links.push(h("a", { href: `${siteRoot}approvals/index.html` }, "Approvals"));
  }
  links.push(h("a", { href: `${siteRoot}account/keys/index.html` }, "API keys"));
  if (atLeast(user.role, "platform-engineer")) {
    links.push(h("a", { href: `${siteRoot}admin/plugins/index.html` }, "Plugins"));
  }
  if (user.role === "admin") {
    links.push(h("a", { href: `${siteRoot}admin/users/index.html` }, "Users"),
      h("a", { href: `${siteRoot}admin/audit/index.html` }, "Audit"));
  }
  fill(account,
    h("nav", { "aria-label": "Runner" }, links),
    h("span", { class: "who", "data-user": user.username, "data-role": user.role },
      h("strong", {}, user.username), " ", h("span", { class: "pill" }, user.role)),
    h("button", { type: "button", class: "secondary", id: "sign-out", onclick: signOut },
      "Sign out"));
}

async function runnerPage(user) {
  const holder = document.getElementById("runner-page");
  if (!holder) return;
  const { page, role } = holder.dataset;
  if (role && !user) {
    fill(holder, notice("info", "This page needs you to be signed in to the runner. ",
      h("a", { href: signInHref() }, "Sign in")));
    return;
  }
  if (role && !atLeast(user.role, role)) {
    fill(holder, notice("error", `This page needs the ${role} role; you have ${user.role}.`));
    return;
  }
  const module = await load(`pages/${page}`);
  await module.render(holder, user);
}

async function main() {
  let user;
  try {
    user = await me();
  } catch (error) {
    const holder = document.getElementById("runner-page");
    if (holder) {
      fill(holder, notice("error", `The runner cannot be reached: ${error.message}`));
    }
    const waiting = document.getElementById("execute-wait");
    if (waiting) waiting.textContent = `The runner cannot be reached (${error.message}).`;
    return;  // no runner: the static pages stay as they are
  }
  if (account) {
    drawAccount(user);
    account.hidden = false;
  }
  if (document.querySelector("article.entity[data-kind]")) {
    (await load("entity-page")).enhance(user);
  }
  if (document.getElementById("action-form")) {
    (await load("action-page")).enhance(user);
  }
  await runnerPage(user);
}

main();
