// Operations page: live map (couriers by state, stores, zones, open orders, routes), KPIs,
// dispatch runs with per-order explanations, stock alerts and transfers.

import { Api } from "../shared/api.js";
import { requireLogin, logoutButton } from "../shared/login.js";
import { loadCityMap } from "../shared/map.js";
import { frame } from "../shared/page.js";
import { h, $, showError } from "../shared/ui.js";
import { Board } from "./board.js";
import { Panels } from "./panels.js";

const PANEL_MS = 5000;
const api = new Api("dispatcher");
frame("O2O · Operations");
requireLogin(api, { title: "Dispatcher sign-in", onReady: start });

async function start() {
  $("#who").replaceChildren(logoutButton(api));
  const mapBox = h("div", { id: "map" });
  const cards = {
    kpis: h("section", { class: "card", id: "kpis" }, h("h2", {}, "Now"), h("p", { class: "skeleton" }, "Loading…")),
    orders: h("section", { class: "card", id: "open-orders" }, h("h2", {}, "Open orders"), h("p", { class: "skeleton" }, "Loading…")),
    runs: h("section", { class: "card", id: "runs" }, h("h2", {}, "Dispatch runs"), h("p", { class: "skeleton" }, "Loading…")),
    stock: h("section", { class: "card", id: "stock" }, h("h2", {}, "Stock alerts and transfers"), h("p", { class: "skeleton" }, "Loading…")),
  };
  $("#main").className = "split";
  $("#main").replaceChildren(h("div", { class: "map-wrap" }, mapBox, legend()), h("div", { class: "side" }, cards.kpis, cards.orders, cards.runs, cards.stock));
  const panels = new Panels(api, cards);
  let board = null;
  try {
    const map = await loadCityMap(api, mapBox);
    board = new Board(api, { map, ordersCard: cards.orders, explain: (id) => panels.explain(id) });
    await board.start();
  } catch (err) {
    showError(err);
  }
  const tick = async () => {
    await panels.refresh().catch(showError);
    setTimeout(tick, PANEL_MS);
  };
  tick();
}

function legend() {
  const dot = (color, text) => h("span", { class: "row" }, h("span", { style: `display:inline-block;width:.8rem;height:.8rem;border-radius:50%;background:${color}` }), text);
  return h("div", { class: "row muted", style: "margin-top:.4rem" },
    dot("#16a34a", "idle"), dot("#2563eb", "on route"), dot("#f59e0b", "break"), dot("#dc2626", "late order"), dot("#6b7280", "open order"));
}
