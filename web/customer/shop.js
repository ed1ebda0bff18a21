// The catalogue for the chosen door, the cart, and checkout with one idempotency key per basket:
// retrying the same click after a network error can never place a second order.

import { h, busy, money, uuid } from "../shared/ui.js";

export class Shop {
  constructor(api, { card, getDropoff, onPlaced }) {
    Object.assign(this, { api, card, getDropoff, onPlaced });
    this.cart = new Map();
    this.key = null;
    this.items = [];
  }

  async load(point) {
    this.card.replaceChildren(h("h2", {}, "Shop"), h("p", { class: "skeleton" }, "Loading the catalogue…"));
    const catalogue = await this.api.get(`/customer/catalogue?lat=${point.lat}&lon=${point.lon}&limit=100`);
    this.items = catalogue.items;
    this.render();
    return catalogue;
  }

  // Any change to the basket is a different intended order: it gets a new key.
  change(item, delta) {
    const qty = Math.max(0, Math.min(item.max_order_qty, item.available_qty, (this.cart.get(item.sku_id)?.qty || 0) + delta));
    if (qty === 0) this.cart.delete(item.sku_id);
    else this.cart.set(item.sku_id, { item, qty });
    this.key = null;
    this.render();
  }

  render() {
    const search = h("input", { type: "search", placeholder: "Search products", "aria-label": "Search products" });
    const list = h("ul", { class: "plain", id: "catalogue" });
    const fill = () => {
      const q = search.value.trim().toLowerCase();
      list.replaceChildren(
        ...this.items
          .filter((item) => !q || item.name.toLowerCase().includes(q) || item.code.toLowerCase().includes(q))
          .map((item) => this.row(item)),
      );
      if (!list.children.length) list.append(h("li", { class: "muted" }, "Nothing matches."));
    };
    search.addEventListener("input", fill);
    fill();
    this.card.replaceChildren(h("h2", {}, "Shop"), search, list, this.cartView());
  }

  row(item) {
    const inCart = this.cart.get(item.sku_id)?.qty || 0;
    return h(
      "li",
      { class: "spread", dataset: { sku: item.code } },
      h("div", {}, h("div", {}, item.name), h("div", { class: "muted" }, `${money(item.price_minor, item.currency)} · ${item.available ? `${item.available_qty} available` : "sold out"}`)),
      h(
        "div",
        { class: "row" },
        inCart ? h("button", { type: "button", "aria-label": `Remove one ${item.name}`, onclick: () => this.change(item, -1) }, "−") : null,
        inCart ? h("span", {}, inCart) : null,
        h("button", { type: "button", class: "add", disabled: !item.available, "aria-label": `Add ${item.name}`, onclick: () => this.change(item, 1) }, "+"),
      ),
    );
  }

  cartView() {
    if (!this.cart.size) return h("p", { class: "muted", id: "cart" }, "Your cart is empty.");
    const lines = [...this.cart.values()];
    const total = lines.reduce((sum, { item, qty }) => sum + item.price_minor * qty, 0);
    const policy = h("select", { id: "substitution", "aria-label": "If something is missing" },
      h("option", { value: "contact" }, "Ask me about substitutes"),
      h("option", { value: "allow" }, "Substitutes are fine"),
      h("option", { value: "refund" }, "No substitutes, refund"));
    const button = h("button", { type: "button", class: "primary big", id: "checkout" }, `Order · ${money(total, lines[0].item.currency)}`);
    button.addEventListener("click", () => busy(button, () => this.checkout(policy.value)));
    return h("div", { id: "cart" }, h("h3", {}, "Cart"),
      h("ul", { class: "plain" }, ...lines.map(({ item, qty }) => h("li", { class: "spread" }, h("span", {}, `${qty} × ${item.name}`), h("span", {}, money(item.price_minor * qty, item.currency))))),
      h("label", {}, "If something is missing", policy), button);
  }

  async checkout(substitution) {
    const { point, address } = this.getDropoff();
    if (!address) throw { title: "Address missing", detail: "Tell the courier where to ring (street, number, floor).", code: "address_required" };
    this.key = this.key || uuid();
    const body = {
      dropoff: point,
      address,
      substitution,
      lines: [...this.cart.values()].map(({ item, qty }) => ({ sku: item.sku_id, qty })),
    };
    const order = await this.api.post("/customer/orders", body, { "Idempotency-Key": this.key });
    this.cart.clear();
    this.key = null;
    this.render();
    this.onPlaced(order);
  }
}
