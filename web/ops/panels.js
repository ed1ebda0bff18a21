// The ops side panels: KPIs, dispatch runs, an order's explanation, stock alerts and transfers.

import { h, clock, minutes, showError } from "../shared/ui.js";

export class Panels {
  constructor(api, cards) {
    Object.assign(this, { api, cards });
  }

  async refresh() {
    const [kpis, runs, alerts, transfers] = await Promise.all([
      this.api.get("/ops/kpis"),
      this.api.get("/ops/dispatch-runs?limit=8"),
      this.api.get("/ops/stock-alerts?limit=10"),
      this.api.get("/ops/transfers?limit=10"),
    ]);
    this.renderKpis(kpis);
    this.renderRuns(runs.items);
    this.renderStock(alerts.items, transfers.items);
  }

  renderKpis(k) {
    const kpi = (id, value, label) => h("div", { class: "kpi", id }, h("b", {}, value), h("span", {}, label));
    this.cards.kpis.replaceChildren(h("h2", {}, `Now · ${clock(k.at)}`), h("div", { class: "kpis" },
      kpi("kpi-open", k.open_orders, "open orders"),
      kpi("kpi-late", k.late_orders, "late"),
      kpi("kpi-c2d", minutes(k.median_click_to_door_s), "median click-to-door today"),
      kpi("kpi-idle", k.couriers_idle, "couriers idle"),
      kpi("kpi-busy", k.couriers_busy, "couriers busy"),
      kpi("kpi-cycle", k.last_cycle_s === null ? "–" : `${k.last_cycle_s.toFixed(2)} s`, `last dispatch cycle${k.last_cycle_at ? ` (${clock(k.last_cycle_at)})` : ""}`)));
  }

  renderRuns(runs) {
    this.cards.runs.replaceChildren(h("h2", {}, "Dispatch runs"), runs.length
      ? h("ul", { class: "plain", id: "run-list" }, ...runs.map((r) => h("li", { dataset: { run: r.id } },
        h("div", { class: "spread" }, h("strong", {}, `${clock(r.started_at)} · ${r.policy}`), h("span", { class: "muted" }, `solve ${r.solve_s.toFixed(2)} s`)),
        h("div", { class: "muted" }, `${r.orders} orders · ${r.couriers} couriers · ${r.assigned} assigned · ${r.moved} moved · ${r.unassigned} unassigned`))))
      : h("p", { class: "muted" }, "No dispatch run yet."));
  }

  async explain(orderId) {
    const box = document.querySelector("#explanation");
    try {
      const e = await this.api.get(`/ops/orders/${orderId}/explanation`);
      const next = e.details?.next_best;
      box.replaceChildren(h("h3", {}, `Why order ${orderId.slice(0, 8)}`), h("p", {}, e.decision),
        h("p", { class: "muted" }, `ETA ${clock(e.eta_at)} · detour ${minutes(e.detour_s)}${next ? ` · runner-up: ${next.reason || next.courier_id}` : ""}`));
    } catch (err) {
      showError(err);
    }
  }

  renderStock(alerts, transfers) {
    this.cards.stock.replaceChildren(h("h2", {}, "Stock alerts and transfers"),
      h("h3", {}, `Alerts · ${alerts.length}`),
      alerts.length ? h("ul", { class: "plain" }, ...alerts.map((a) => h("li", {}, h("strong", {}, `${a.location_code} · ${a.sku_code}`), ` ${a.kind.replace("_", " ")} – ${a.detail}`))) : h("p", { class: "muted" }, "No open alerts."),
      h("h3", {}, `Transfers · ${transfers.length}`),
      transfers.length ? h("ul", { class: "plain" }, ...transfers.map((t) => h("li", { class: "spread" }, h("span", {}, `${t.total_qty} units · ${t.reason}`), h("span", { class: "pill" }, t.status.replace("_", " "))))) : h("p", { class: "muted" }, "No transfers."));
  }
}
