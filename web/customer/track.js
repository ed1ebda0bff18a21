// Read-only tracking for someone the customer shared a link with: /app/customer/track.html
// ?order=<id>#share=<token>. The token stays in the fragment, so it never reaches server logs;
// it authenticates the socket and, in a header, the map of streets and the order's store
// (GET /customer/orders/{id}/share/city.geojson).

import { Api } from "../shared/api.js";
import { frame } from "../shared/page.js";
import { h, $, clock, showError } from "../shared/ui.js";
import { CityMap } from "../shared/map.js";
import { Tracking } from "./tracking.js";

frame("O2O · Delivery on its way");
const orderId = new URLSearchParams(location.search).get("order");
const share = new URLSearchParams(location.hash.slice(1)).get("share");

if (!orderId || !share) {
  showError({ title: "Incomplete link", detail: "Open the whole link you were sent (it ends with #share=…).", code: "bad_share_link" });
  $("#main").replaceChildren(h("p", { class: "muted" }, "Nothing to show."));
} else {
  const status = h("span", { class: "pill", id: "order-status" }, "connecting");
  const info = h("p", { class: "muted" }, h("span", { id: "eta" }), " ", h("span", { id: "stops-before" }));
  const mapBox = h("div", { id: "map" });
  $("#main").replaceChildren(
    h("section", { class: "card" }, h("div", { class: "spread" }, h("h2", {}, "Delivery"), status), info, h("p", { class: "muted", id: "courier-marker", hidden: true })),
    h("div", { class: "map-wrap" }, mapBox),
  );
  const map = new CityMap(mapBox);
  const tracking = new Tracking(null, {
    orderId,
    share,
    map,
    dropoff: null,
    onStatus: async () => ({}),
    onLive: (live) => {
      if (live.status) {
        status.textContent = live.status.replace("_", " ");
        status.dataset.status = live.status;
      }
      $("#eta").textContent = live.eta ? `Arrives about ${clock(live.eta)}` : "";
      $("#stops-before").textContent = live.stops_before_you ? `${live.stops_before_you} stop(s) before this one` : "";
    },
  });
  tracking.start();
  loadSharedMap(map, tracking);
}

// The viewer has no account (a separate Api role keeps any token of this browser out of it).
async function loadSharedMap(map, tracking) {
  const api = new Api("share");
  try {
    map.setCity(await api.request("GET", `/customer/orders/${orderId}/share/city.geojson`, { headers: { "X-Share-Token": share } }));
  } catch (err) {
    map.note.textContent = `Map unavailable: ${err.title || err.message}`;
    showError(err);
    return;
  }
  // The courier may have shown up before the streets did: zoom to them now.
  tracking.refit();
}
