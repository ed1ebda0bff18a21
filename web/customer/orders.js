// My orders: the list, and the open order with its live tracking, PIN, substitutes, cancel and share.

import { h, busy, clock, fill, money, showError } from "../shared/ui.js";
import { Tracking } from "./tracking.js";

const CANCELLABLE = new Set(["placed", "accepted", "picking", "packed", "assigned"]);
const LIVE = new Set(["placed", "accepted", "picking", "packed", "assigned", "picked_up"]);

export class Orders {
  constructor(api, { card, list, getMap }) {
    Object.assign(this, { api, card, list, getMap });
    this.tracking = null;
    this.order = null;
    this.generation = 0;
  }

  async refreshList() {
    const page = await this.api.get("/customer/orders?limit=20");
    const items = page.items.map((o) =>
      h("li", { class: "spread" },
        h("span", {}, `${clock(o.placed_at)} · ${money(o.total_minor, o.currency)}`),
        h("span", { class: "row" }, h("span", { class: "pill", "data-status": o.status }, o.status.replace("_", " ")),
          h("button", { type: "button", class: "link", onclick: () => this.open(o.id).catch(showError) }, "Open"))),
    );
    this.list.replaceChildren(h("h2", {}, "My orders"), items.length ? h("ul", { class: "plain" }, ...items) : h("p", { class: "muted" }, "No orders yet."));
  }

  async open(orderId, known = null) {
    this.tracking?.stop();
    this.order = known || (await this.api.get(`/customer/orders/${orderId}`));
    // Remembered so that a reload (or a phone waking up) comes back to the order being tracked.
    localStorage.setItem("o2o.lastOrder", JSON.stringify(orderId));
    this.card.hidden = false;
    this.render();
    this.refreshList().catch(showError);
    if (LIVE.has(this.order.status)) {
      this.tracking = new Tracking(this.api, {
        orderId,
        map: this.getMap(),
        dropoff: this.order.dropoff,
        onStatus: () => this.reload(),
        onLive: (live) => this.showLive(live),
      }).start();
    }
  }

  // A reload that started before the person acted answers with the old state: only the newest
  // request may redraw the card.
  async reload() {
    const mine = ++this.generation;
    const order = await this.api.get(`/customer/orders/${this.order.id}`);
    if (mine === this.generation) this.show(order);
    return this.order;
  }

  show(order) {
    const changed = order.status !== this.order?.status;
    this.order = order;
    this.render();
    if (!LIVE.has(order.status)) this.tracking?.stop();
    if (changed) this.refreshList().catch(showError);
  }

  // Reloads started before or during the action are dropped (see reload).
  async act(request) {
    this.generation += 1;
    const order = await request();
    this.generation += 1;
    this.show(order);
  }

  showLive(live) {
    const eta = this.card.querySelector("#eta");
    if (eta) eta.textContent = live.eta ? `Arrives about ${clock(live.eta)}` : "";
    const before = this.card.querySelector("#stops-before");
    if (before) before.textContent = live.stops_before_you ? `${live.stops_before_you} stop${live.stops_before_you > 1 ? "s" : ""} before you` : "";
    if (live.status === "arriving") this.card.querySelector("#order-status").textContent = "arriving";
  }

  render() {
    const o = this.order;
    const pin = o.delivery_pin ? h("p", {}, "Your PIN for the courier: ", h("span", { class: "big-number", id: "pin" }, o.delivery_pin)) : null;
    const cancel = CANCELLABLE.has(o.status)
      ? h("button", { type: "button", class: "danger", id: "cancel" }, "Cancel order") : null;
    cancel?.addEventListener("click", () => busy(cancel, async () => {
      await this.act(() => this.api.post(`/customer/orders/${o.id}/cancel`, { reason: "changed my mind" }));
    }));
    const share = LIVE.has(o.status) ? h("button", { type: "button", id: "share" }, "Share tracking link") : null;
    const shareOut = h("p", { class: "muted", id: "share-link" });
    share?.addEventListener("click", () => busy(share, async () => {
      const link = await this.api.post(`/customer/orders/${o.id}/share`, {});
      const url = new URL(link.url, location.origin).href;
      shareOut.replaceChildren(h("a", { href: url }, "Tracking link"), ` valid until ${clock(link.expires_at)}`);
      await navigator.clipboard?.writeText(url).catch(() => {});
    }));
    fill(
      this.card,
      h("div", { class: "spread" }, h("h2", {}, "Your order"), h("span", { class: "pill", id: "order-status", "data-status": o.status }, o.status.replace("_", " "))),
      h("p", {}, `Promised ${clock(o.promised_window.start)}–${clock(o.promised_window.end)} · ${money(o.price.total_minor, o.price.currency)}`),
      h("p", { class: "muted" }, h("span", { id: "eta" }), " ", h("span", { id: "stops-before" })),
      h("p", { class: "muted", id: "courier-marker", hidden: true }),
      pin,
      h("ul", { class: "plain" }, ...o.lines.map((line) => this.line(line))),
      h("div", { class: "row" }, cancel, share),
      shareOut,
    );
    this.tracking?.redrawMarker();
  }

  line(line) {
    const sub = line.substitute;
    const decide = (decision) => (event) => busy(event.target, async () => {
      await this.act(() => this.api.post(`/customer/orders/${this.order.id}/substitutions/${line.line_no}`, { decision }));
    });
    return h("li", {},
      h("div", { class: "spread" }, h("span", {}, `${line.qty} × ${line.name}`), h("span", { class: "muted" }, line.state)),
      sub ? h("div", { class: "row muted" }, `Substitute: ${sub.qty} × ${sub.name} (${money(sub.amount_minor)}) – ${sub.state}`,
        sub.state === "proposed" ? h("button", { type: "button", class: "primary", onclick: decide("approve") }, "Accept") : null,
        sub.state === "proposed" ? h("button", { type: "button", onclick: decide("reject") }, "Refund instead") : null) : null,
    );
  }
}
