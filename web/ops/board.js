// What moves on the ops map. Snapshot and courier frames come from WS /ops/live
// (docs/tracking.md); the REST board (/ops/board.geojson) is the fallback while it is down.

import { LiveFeed } from "../shared/live.js";
import { h, clock, setConnection } from "../shared/ui.js";

export const COURIER_COLORS = { available: "#16a34a", on_route: "#2563eb", break: "#f59e0b", offline: "#9ca3af" };

export class Board {
  constructor(api, { map, ordersCard, explain }) {
    Object.assign(this, { api, map, ordersCard, explain });
    this.couriers = new Map();
    this.orders = [];
    this.routes = [];
  }

  async start() {
    const page = await this.api.get("/ops/couriers?limit=100");
    // Live frames carry ids only; names come from the courier list.
    this.names = new Map(page.items.map((c) => [c.id, c.display_name]));
    const zones = [...new Set(page.items.map((c) => c.zone_id))].slice(0, 50);
    if (!zones.length) {
      // No courier, no zone to watch yet: poll until the fleet exists.
      const refresh = () => this.poll().then(
        () => setConnection("live", "Polling"),
        (err) => setConnection("disconnected", `Offline – ${err.title || err.message}`),
      );
      await refresh();
      this.timer = setInterval(refresh, 5000);
      return;
    }
    this.feed = new LiveFeed({
      url: "/ops/live",
      hello: () => [{ type: "auth", token: this.api.token }, ...(zones.length ? [{ type: "zones", zone_ids: zones }] : [])],
      onFrame: (frame) => this.apply(frame),
      poll: () => this.poll(),
      pollMs: 5000,
      label: "Live",
    }).start();
  }

  async poll() {
    const board = await this.api.get("/ops/board.geojson");
    const of = (kind) => board.features.filter((f) => f.properties.feature === kind);
    this.couriers = new Map(of("courier").map((f) => [f.properties.id, { ...f.properties, lat: f.geometry.coordinates[1], lon: f.geometry.coordinates[0] }]));
    this.orders = of("order").map((f) => ({ ...f.properties, lat: f.geometry.coordinates[1], lon: f.geometry.coordinates[0] }));
    this.routes = of("route").map((f) => f.geometry.coordinates);
    this.draw();
  }

  apply(frame) {
    if (frame.type === "snapshot") {
      const zones = frame.zones || [];
      this.couriers = new Map(zones.flatMap((z) => z.couriers).map((c) => [c.id, { ...c, name: this.name(c.id) }]));
      const now = Date.now();
      this.orders = zones.flatMap((z) => z.orders).map((o) => ({ ...o, late: o.promised_to && Date.parse(o.promised_to) < now }));
      this.routes = zones.flatMap((z) => z.routes).map((r) => {
        const c = this.couriers.get(r.courier_id);
        return [...(c ? [[c.lon, c.lat]] : []), ...r.stops.map((s) => [s.lon, s.lat])];
      });
      this.draw();
    } else if (frame.type === "courier") {
      const c = this.couriers.get(frame.courier_id) || { id: frame.courier_id, name: this.name(frame.courier_id), status: "on_route" };
      this.couriers.set(frame.courier_id, { ...c, lat: frame.lat, lon: frame.lon });
      this.draw();
    }
  }

  name(id) {
    return this.names?.get(id) || id.slice(0, 8);
  }

  draw() {
    this.map.setOverlay("routes", this.routes.filter((r) => r.length > 1).map((coords) => ({ kind: "line", coords, color: "rgba(37,99,235,.7)", width: 2.5, dash: [6, 4] })));
    this.map.setOverlay("orders", this.orders.map((o) => ({ kind: "point", lat: o.lat, lon: o.lon, radius: 5, color: o.late ? "#dc2626" : "#6b7280" })));
    this.map.setOverlay("couriers", [...this.couriers.values()].map((c) => ({
      kind: "point", lat: c.lat, lon: c.lon, radius: 8, color: COURIER_COLORS[c.status] || "#2563eb", label: c.name,
    })));
    this.renderCouriers();
    this.renderOrders();
  }

  // The map's content as text too: for screen readers, and for the browser test.
  renderCouriers() {
    let list = document.querySelector("#couriers");
    if (!list) {
      list = h("ul", { id: "couriers", class: "plain", "aria-label": "Couriers on the map" });
      this.map.container.after(list);
    }
    list.replaceChildren(...[...this.couriers.values()].map((c) =>
      h("li", { class: "spread", dataset: { courier: c.id, lat: c.lat, lon: c.lon } }, h("span", {}, c.name), h("span", { class: "pill", "data-status": c.status }, c.status.replace("_", " ")))));
  }

  renderOrders() {
    const items = this.orders.slice(0, 30).map((o) => h("li", { class: "spread", dataset: { order: o.id } },
      h("span", {}, `${o.id.slice(0, 8)} · due ${clock(o.promised_to)}`),
      h("span", { class: "row" }, h("span", { class: `pill${o.late ? " late" : ""}`, "data-status": o.status }, o.late ? `${o.status.replace("_", " ")} · late` : o.status.replace("_", " ")),
        h("button", { type: "button", class: "link", onclick: () => this.explain(o.id) }, "Why?"))));
    this.ordersCard.replaceChildren(h("h2", {}, `Open orders · ${this.orders.length}`),
      items.length ? h("ul", { class: "plain" }, ...items) : h("p", { class: "muted" }, "No open orders."), h("div", { id: "explanation" }));
  }
}
