// Customer page: sign in, choose the door on the map, shop, check out, follow the order.

import { Api } from "../shared/api.js";
import { requireLogin, logoutButton } from "../shared/login.js";
import { loadCityMap } from "../shared/map.js";
import { frame } from "../shared/page.js";
import { h, $, busy, clock, showError } from "../shared/ui.js";
import { Shop } from "./shop.js";
import { Orders } from "./orders.js";

const api = new Api("customer");
frame("O2O · Shop");
requireLogin(api, { title: "Sign in to order", allowSignup: true, onReady: start });

async function start() {
  $("#who").replaceChildren(logoutButton(api));
  const mapBox = h("div", { id: "map" });
  const lat = h("input", { id: "lat", type: "number", step: "any", min: -90, max: 90, placeholder: "Latitude", "aria-label": "Latitude" });
  const lon = h("input", { id: "lon", type: "number", step: "any", min: -180, max: 180, placeholder: "Longitude", "aria-label": "Longitude" });
  const address = h("input", { id: "address", type: "text", maxlength: 300, placeholder: "Street and number, floor", value: "" });
  const use = h("button", { type: "button", class: "primary", id: "use-point" }, "Deliver here");
  const window_ = h("p", { id: "window", class: "muted" }, "Tap the map where we should deliver, or type coordinates.");
  const shopCard = h("section", { class: "card", id: "shop" }, h("h2", {}, "Shop"), h("p", { class: "muted" }, "Choose a delivery point first."));
  const orderCard = h("section", { class: "card", id: "order", hidden: true });
  const listCard = h("section", { class: "card", id: "orders" }, h("h2", {}, "My orders"), h("p", { class: "skeleton" }, "Loading…"));
  $("#main").className = "split";
  // The order being tracked comes first on a phone, above the map.
  $("#main").replaceChildren(
    orderCard,
    h("div", { class: "map-wrap" }, mapBox),
    h("div", { class: "side" },
      h("section", { class: "card", id: "dropoff" }, h("h2", {}, "Deliver to"), h("div", { class: "row" }, lat, lon, use), h("label", {}, "Address", address), window_),
      shopCard,
      listCard),
  );

  let map = null;
  const pick = ({ lat: la, lon: lo }) => {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    map?.setOverlay("door", [{ kind: "point", lat: la, lon: lo, color: "#dc2626", radius: 8, label: "Door" }]);
  };
  const orders = new Orders(api, { card: orderCard, list: listCard, getMap: () => map });
  const shop = new Shop(api, {
    card: shopCard,
    getDropoff: () => ({ point: { lat: Number(lat.value), lon: Number(lon.value) }, address: address.value.trim() }),
    onPlaced: (order) => orders.open(order.id, order),
  });
  use.addEventListener("click", () =>
    busy(use, async () => {
      if (!lat.value || !lon.value) throw { title: "No delivery point", detail: "Tap the map or type latitude and longitude.", code: "no_point" };
      pick({ lat: Number(lat.value), lon: Number(lon.value) });
      const catalogue = await shop.load({ lat: Number(lat.value), lon: Number(lon.value) });
      const w = catalogue.delivery_window;
      window_.textContent = w ? `Delivered between ${clock(w.start)} and ${clock(w.end)} · from ${catalogue.locations.join(", ")}` : "Nothing is open for this point right now.";
    }),
  );
  orders.refreshList().catch(showError);
  try {
    map = await loadCityMap(api, mapBox, { onTap: pick });
  } catch (err) {
    showError(err);
  }
  const last = JSON.parse(localStorage.getItem("o2o.lastOrder") || "null");
  if (last) orders.open(last).catch(() => localStorage.removeItem("o2o.lastOrder"));
}
