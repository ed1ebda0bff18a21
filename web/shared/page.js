// The frame every page shares: header with title, connection badge and sign-out; error banner.

import { h, catchStrays } from "./ui.js";

export function frame(title) {
  catchStrays();
  document.body.replaceChildren(
    h("header", { class: "bar" }, h("h1", {}, title), h("span", { id: "connection", "data-state": "idle" }, "Offline"), h("span", { id: "who" })),
    h("div", { id: "error", role: "alert", hidden: true }),
    h("main", { id: "main" }, h("p", { class: "skeleton" }, "Loading…")),
  );
}
