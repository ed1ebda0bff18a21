// One order on the pick list: its lines in pick-path order with picked/short/substitute, then pack.
// The element is kept between polls so that a half-typed count is not wiped by a refresh.

import { h, busy, clock } from "../shared/ui.js";

export class Ticket {
  constructor(api, { onChange, locationId }) {
    Object.assign(this, { api, onChange, locationId });
    this.node = h("li", { class: "ticket" });
    this.key = null;
  }

  update(ticket) {
    const key = JSON.stringify(ticket);
    if (key === this.key) return;
    this.key = key;
    this.ticket = ticket;
    this.node.dataset.order = ticket.order_id;
    this.node.replaceChildren(...this.render(ticket));
  }

  post(path, body) {
    return async (event) => busy(event.target, async () => {
      await this.api.post(`/staff/orders/${this.ticket.order_id}/${path}`, typeof body === "function" ? body() : body);
      await this.onChange();
    });
  }

  render(t) {
    const allDone = t.lines.every((l) => l.state !== "open");
    const head = h("div", { class: "spread" },
      h("strong", {}, `Order ${t.order_id.slice(0, 8)}`),
      h("span", { class: "pill", "data-status": t.fulfilment_status }, t.fulfilment_status.replace("_", " ")));
    const when = h("p", { class: "muted" }, `Courier expected ${clock(t.courier_expected_at)} · start by ${clock(t.start_by)}${t.note ? ` · “${t.note}”` : ""}`);
    const actions = [];
    if (t.order_status === "placed") actions.push(h("button", { type: "button", class: "primary", onclick: this.post("accept") }, "Accept"));
    if (["placed", "accepted"].includes(t.order_status)) actions.push(h("button", { type: "button", class: "primary start", onclick: this.post("start-picking") }, "Start picking"));
    const lines = t.lines.map((line) => this.line(line, t.order_status === "picking"));
    if (t.order_status === "picking" && allDone && !t.ready_at) actions.push(...this.packControls(t));
    if (t.ready_at) actions.push(h("span", { class: "muted" }, `Packed ${clock(t.ready_at)} · ${t.bags} bag(s)`));
    return [head, when, h("ul", { class: "plain" }, ...lines), h("div", { class: "row pack-row" }, ...actions)];
  }

  line(line, picking) {
    const done = line.state !== "open";
    const status = done ? `${line.state}${line.picked_qty !== null ? ` ${line.picked_qty}/${line.qty}` : ""}` : [line.bin && `bin ${line.bin}`, `aisle ${line.aisle}`, line.temperature].filter(Boolean).join(" · ");
    const sub = line.substitute ? h("div", { class: "muted" }, `→ ${line.substitute.qty} × ${line.substitute.name} (${line.substitute.state})`) : null;
    if (!picking || done) return h("li", { dataset: { line: line.line_no } }, h("div", { class: "spread" }, h("span", {}, `${line.qty} × ${line.name}`), h("span", { class: "muted" }, status)), sub);
    const found = h("input", { type: "number", min: 0, max: line.qty, value: line.qty, class: "qty", "aria-label": `Found of ${line.name}` });
    const pick = h("button", { type: "button", class: "primary pick", onclick: this.post(`lines/${line.line_no}/pick`, () => ({ picked: Number(found.value) })) }, "Picked");
    const substitute = h("button", { type: "button", class: "substitute", onclick: (e) => this.chooseSubstitute(e.target, line, found) }, "Substitute…");
    return h("li", { dataset: { line: line.line_no } },
      h("div", { class: "spread" }, h("span", {}, `${line.qty} × ${line.name}`), h("span", { class: "muted" }, status)),
      h("div", { class: "row pack-row" }, h("label", {}, "Found", found), pick, substitute));
  }

  async chooseSubstitute(button, line, found) {
    await busy(button, async () => {
      const stock = await this.api.get(`/staff/locations/${this.locationId()}/stock?limit=100`);
      const options = stock.items.filter((s) => s.sku_id !== line.sku_id && s.available > 0);
      const select = h("select", { "aria-label": "Substitute product" }, ...options.map((s) => h("option", { value: s.sku_id }, `${s.sku_name} (${s.available})`)));
      const qty = h("input", { type: "number", min: 1, max: line.qty, value: line.qty, class: "qty", "aria-label": "Substitute quantity" });
      const confirm = h("button", { type: "button", class: "primary", onclick: this.post(`lines/${line.line_no}/pick`, () => ({
        picked: Number(found.value) < line.qty ? Number(found.value) : 0,
        substitute: { sku_id: select.value, qty: Number(qty.value) },
      })) }, "Use substitute");
      button.replaceWith(h("div", { class: "row" }, select, qty, confirm));
    });
  }

  packControls(t) {
    const bags = h("input", { type: "number", min: 1, max: 50, value: 1, class: "qty", id: `bags-${t.order_id}`, "aria-label": "Bags" });
    const cold = t.lines.some((l) => l.temperature !== "ambient");
    const coldBox = h("input", { type: "checkbox", checked: cold, "aria-label": "Cold bag" });
    return [h("label", {}, "Bags", bags), h("label", { class: "row" }, coldBox, "Cold bag"),
      h("button", { type: "button", class: "primary pack", onclick: this.post("pack", () => ({ bags: Number(bags.value), cold_chain: coldBox.checked })) }, "Pack")];
  }
}
