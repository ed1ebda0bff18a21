// Sign-in (and, for customers, sign-up) form; resolves once the page has a token.

import { h, $, busy } from "./ui.js";

export function requireLogin(api, { title, allowSignup = false, onReady }) {
  const main = $("#main");
  api.onUnauthorized = () => showForm();
  if (api.token) {
    onReady();
    return;
  }
  showForm();

  function showForm() {
    const email = h("input", { type: "email", name: "email", required: true, autocomplete: "username" });
    const password = h("input", { type: "password", name: "password", required: true, minlength: 8, autocomplete: "current-password" });
    const name = h("input", { type: "text", name: "display_name", autocomplete: "name" });
    const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
    const signup = allowSignup ? h("button", { type: "button", id: "signup" }, "Create account") : null;
    const form = h(
      "form",
      { class: "card login", id: "login" },
      h("h2", {}, title),
      h("label", {}, "E-mail", email),
      h("label", {}, "Password", password),
      allowSignup ? h("label", {}, "Name (for sign-up)", name) : null,
      h("div", { class: "row" }, submit, signup),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        await api.login(email.value.trim(), password.value);
        onReady();
      });
    });
    signup?.addEventListener("click", () => {
      if (!form.reportValidity()) return;
      busy(signup, async () => {
        await api.post("/auth/register", { email: email.value.trim(), password: password.value, display_name: name.value.trim() });
        await api.login(email.value.trim(), password.value);
        onReady();
      });
    });
    main.replaceChildren(form);
    email.focus();
  }
}

export function logoutButton(api) {
  return h("button", { type: "button", class: "link", id: "logout", onclick: () => { api.logout(); location.reload(); } }, "Sign out");
}
