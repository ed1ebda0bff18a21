// The route as a list and on the map, with the next stop large and its buttons.

import { h, busy, clock, fill } from "../shared/ui.js";

const OPEN = new Set(["pending", "arrived"]);
const KIND = { pickup: "Pick up", dropoff: "Deliver", return: "Return to store" };

export class RouteView {
  constructor(api, { nextCard, listCard, getMap, driver }) {
    Object.assign(this, { api, nextCard, listCard, getMap, driver });
    this.onChange = async () => {};
  }

  // Unchanged routes are not redrawn: a refresh must not wipe a PIN being typed.
  render(route) {
    const key = JSON.stringify([route.status, route.version, route.stops]);
    if (key === this.shown) return;
    this.shown = key;
    const stops = route.stops.filter((s) => OPEN.has(s.status));
    this.stops = stops;
    this.driver.setStops(stops);
    this.drawMap(stops);
    this.listCard.replaceChildren(
      h("h2", {}, `Route · ${stops.length} stop${stops.length === 1 ? "" : "s"}`),
      stops.length
        ? h("ol", { id: "stops" }, ...stops.map((s) => h("li", {}, `${KIND[s.kind]} · ${s.address || "store"} · ${clock(s.planned_arrival_at)}`)))
        : h("p", { class: "muted" }, route.status === "offline" ? "Start your shift to get orders." : "No stops yet – dispatch will send you work."),
    );
    const next = stops[0];
    // Off shift there is no next stop; the route card already says to start the shift.
    this.nextCard.hidden = route.status === "offline";
    fill(this.nextCard, ...(next ? this.nextStop(next) : [h("h2", {}, "Next stop"), h("p", { class: "muted" }, "Nothing to do right now.")]));
  }

  drawMap(stops) {
    const map = this.getMap();
    if (!map) return;
    map.setOverlay("stops", stops.map((s, i) => ({
      kind: "point", lat: s.lat, lon: s.lon, radius: 7, label: `${i + 1}`,
      color: s.kind === "pickup" ? "#1f7a4d" : "#dc2626",
    })));
    const here = this.driver.position;
    const coords = [...(here ? [[here.lon, here.lat]] : []), ...stops.map((s) => [s.lon, s.lat])];
    map.setOverlay("route", coords.length > 1 ? [{ kind: "line", coords, color: "#2563eb", width: 3, dash: [8, 6] }] : []);
    // Zoom to the work once per new route, not at every refresh (the courier may have panned).
    const key = stops.map((s) => s.id).join();
    if (key && key !== this.fitted) map.fit(coords, { minSpanM: 800 });
    this.fitted = key;
  }

  nextStop(stop) {
    const act = (path, body) => (event) => busy(event.target, async () => {
      await this.api.post(`/courier/stops/${stop.id}/${path}`, body ? body() : undefined);
      await this.onChange();
    });
    const header = [
      h("h2", {}, "Next stop"),
      h("p", { class: "big-number", id: "next-kind" }, KIND[stop.kind]),
      h("p", {}, stop.address || "At the store", stop.note ? h("span", { class: "muted" }, ` – ${stop.note}`) : null),
      h("p", { class: "muted" }, `${stop.items} item${stop.items === 1 ? "" : "s"}${stop.bags ? ` · ${stop.bags} bag${stop.bags === 1 ? "" : "s"}` : ""} · planned ${clock(stop.planned_arrival_at)}`),
    ];
    if (stop.offer === "offered") {
      return [...header, h("div", { class: "row" },
        h("button", { type: "button", class: "primary big", onclick: (e) => busy(e.target, async () => { await this.api.post(`/courier/offers/${stop.order_id}/accept`); await this.onChange(); }) }, "Accept"),
        h("button", { type: "button", class: "big", onclick: (e) => busy(e.target, async () => { await this.api.post(`/courier/offers/${stop.order_id}/decline`); await this.onChange(); }) }, "Decline"))];
    }
    const arrive = stop.status === "pending" ? h("button", { type: "button", class: "big", id: "arrive", onclick: act("arrive") }, "Arrived") : null;
    return [...header, arrive, ...(stop.kind === "dropoff" ? this.dropoffButtons(act, stop) : this.pickupButtons(act, stop))];
  }

  pickupButtons(act, stop) {
    const bags = h("input", { type: "number", min: 1, max: 50, value: stop.bags || 1, id: "bags", class: "qty", "aria-label": "Bags" });
    return [h("div", { class: "row" }, h("label", {}, "Bags", bags),
      h("button", { type: "button", class: "primary big", id: "picked-up", onclick: act(stop.kind === "return" ? "delivered" : "picked-up", () => (stop.kind === "return" ? {} : { bags: Number(bags.value) })) },
        stop.kind === "return" ? "Handed back" : "Picked up"))];
  }

  dropoffButtons(act, stop) {
    const pin = h("input", { id: "pin", inputmode: "numeric", pattern: "[0-9]{4}", maxlength: 4, placeholder: "PIN", class: "qty", "aria-label": "Customer PIN" });
    const reason = h("select", { id: "fail-reason", "aria-label": "Why it failed" },
      h("option", { value: "customer_absent" }, "Customer absent"),
      h("option", { value: "address_not_found" }, "Address not found"),
      h("option", { value: "refused" }, "Refused"));
    return [
      h("div", { class: "row" }, h("label", {}, stop.pod_policy === "pin" ? "Customer PIN (required)" : "Customer PIN", pin),
        h("button", { type: "button", class: "primary big", id: "delivered", onclick: act("delivered", () => ({ pin: pin.value.trim() })) }, "Delivered")),
      h("details", {}, h("summary", {}, "Could not deliver"),
        h("div", { class: "row" }, reason, h("button", { type: "button", class: "danger", id: "failed", onclick: act("failed", () => ({ reason: reason.value })) }, "Report failure"))),
    ];
  }
}
