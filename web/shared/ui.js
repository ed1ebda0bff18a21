// Small DOM helpers shared by the pages: element builder, error banner, busy buttons, formats.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// replaceChildren would print a null child as the text "null"; optional parts are dropped.
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// The one place errors reach the person: problem+json title and detail, with its code.
export function showError(err) {
  const banner = $("#error");
  fill(
    banner,
    h("strong", {}, err.title || "Something went wrong"),
    err.detail || (!err.title && err.message) ? h("span", {}, " " + (err.detail || err.message)) : null,
    err.code ? h("code", {}, err.code) : null,
    h("button", { class: "link", type: "button", onclick: clearError, "aria-label": "Dismiss" }, "×"),
  );
  banner.hidden = false;
}

export function clearError() {
  $("#error").hidden = true;
}

// Unexpected script errors are shown too: a broken page must say so rather than go blank.
export function catchStrays() {
  window.addEventListener("unhandledrejection", (event) => showError(event.reason || {}));
}

export async function busy(button, action) {
  button.disabled = true;
  button.classList.add("loading");
  try {
    clearError();
    return await action();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove("loading");
  }
}

export function money(minor, currency = "EUR") {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
}

export function clock(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

export function setConnection(state, text) {
  const badge = $("#connection");
  if (!badge) return;
  badge.dataset.state = state;
  badge.textContent = text;
}

export function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
