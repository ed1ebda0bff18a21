// Incoming transfers: count what arrived per line and book the receipt.

import { h, busy, clock } from "../shared/ui.js";

export class Transfers {
  constructor(api, card) {
    Object.assign(this, { api, card });
    this.key = null;
  }

  async refresh() {
    const page = await this.api.get("/staff/transfers?limit=20");
    const key = JSON.stringify(page.items);
    if (key === this.key) return;
    this.key = key;
    this.card.replaceChildren(
      h("h2", {}, `Incoming transfers · ${page.items.length}`),
      page.items.length ? h("ul", { class: "plain" }, ...page.items.map((t) => this.transfer(t))) : h("p", { class: "muted" }, "Nothing on its way."),
    );
  }

  transfer(t) {
    const counts = t.lines.map((line) => ({ line, input: h("input", { type: "number", min: 0, max: line.qty, value: line.qty, class: "qty", "aria-label": `Counted ${line.sku_name}` }) }));
    const receive = h("button", { type: "button", class: "primary", disabled: t.status !== "in_transit" }, "Book receipt");
    receive.addEventListener("click", () => busy(receive, async () => {
      await this.api.post(`/staff/transfers/${t.id}/receive`, { lines: counts.map(({ line, input }) => ({ sku_id: line.sku_id, qty_received: Number(input.value) })) });
      this.key = null;
      await this.refresh();
    }));
    return h("li", {},
      h("div", { class: "spread" }, h("strong", {}, `${t.total_qty} units · ${t.reason}`), h("span", { class: "pill" }, t.status.replace("_", " "))),
      h("p", { class: "muted" }, t.expected_at ? `Expected ${clock(t.expected_at)}` : `Planned ${clock(t.planned_at)}`),
      h("ul", { class: "plain" }, ...counts.map(({ line, input }) => h("li", { class: "spread" }, h("span", {}, `${line.qty} × ${line.sku_name}`), input))),
      receive);
  }
}
