// Read-only tracking for someone the customer shared a link with: /app/customer/track.html
// ?order=<id>#share=<token>. The token stays in the fragment, so it never reaches server logs;
// it authenticates the socket only (the map's streets are not needed to follow one courier).

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
  map.note.textContent = "Waiting for the courier's position…";
  const tracking = new Tracking(null, {
    orderId,
    share,
    map: null,
    dropoff: null,
    onStatus: async () => ({}),
    onLive: (live) => {
      if (live.status) {
        status.textContent = live.status.replace("_", " ");
        status.dataset.status = live.status;
      }
      $("#eta").textContent = live.eta ? `Arrives about ${clock(live.eta)}` : "";
      $("#stops-before").textContent = live.stops_before_you ? `${live.stops_before_you} stop(s) before this one` : "";
      // Link viewers get no street map (it needs an account): the courier on a blank canvas.
      if (live.lat !== null && live.lat !== undefined && !map.origin) {
        map.setCity({ type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "Point", coordinates: [live.lon, live.lat] }, properties: { feature: "courier" } }] });
        map.note.hidden = true;
        tracking.map = map;
      }
    },
  });
  tracking.start();
}
