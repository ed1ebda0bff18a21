// Courier page: sign in, start the shift on a vehicle, follow the route stop by stop.

import { Api } from "../shared/api.js";
import { LiveFeed } from "../shared/live.js";
import { requireLogin, logoutButton } from "../shared/login.js";
import { loadCityMap } from "../shared/map.js";
import { frame } from "../shared/page.js";
import { h, $, busy, showError } from "../shared/ui.js";
import { Driver } from "./drive.js";
import { RouteView } from "./route.js";
import { VehiclePicker } from "./vehicles.js";

const api = new Api("courier");
frame("O2O · Courier");
requireLogin(api, { title: "Courier sign-in", onReady: start });

async function start() {
  $("#who").replaceChildren(logoutButton(api));
  const mapBox = h("div", { id: "map" });
  const shiftCard = h("section", { class: "card", id: "shift" });
  const nextCard = h("section", { class: "card", id: "next-stop" }, h("p", { class: "skeleton" }, "Loading your route…"));
  const listCard = h("section", { class: "card", id: "route" });
  $("#main").className = "split";
  $("#main").replaceChildren(nextCard, h("div", { class: "map-wrap" }, mapBox), h("div", { class: "side" }, shiftCard, listCard));

  let map = null;
  const driver = new Driver(api, { getMap: () => map, send: (ping) => feed.send(ping) });
  const view = new RouteView(api, { nextCard, listCard, getMap: () => map, driver });
  driver.onMove = () => view.drawMap(view.stops || []);
  // Socket pushes, polls and button presses all refresh; an answer to an older request must not
  // overwrite a newer one (it would bring back buttons for a stop already done).
  let generation = 0;
  const refresh = async () => {
    const mine = ++generation;
    const route = await api.get("/courier/route");
    if (mine !== generation) return;
    renderShift(route.status);
    view.render(route);
  };
  view.onChange = refresh;
  const feed = new LiveFeed({
    url: "/courier/stream",
    hello: () => [{ type: "auth", token: api.token }],
    onFrame: (message) => {
      if (message.type !== "ack") refresh().catch(showError);
    },
    poll: refresh,
    pollMs: 5000,
    label: "Connected",
  });

  // Re-rendered only when the status changes, so a chosen vehicle survives a refresh.
  let shownStatus = null;
  function renderShift(status) {
    if (status === shownStatus) return;
    shownStatus = status;
    const onShift = status !== "offline";
    // Off shift, starting one is the only thing to do: the phone layout shows that card first.
    $("#main").classList.toggle("off-shift", !onShift);
    const vehicle = onShift ? null : new VehiclePicker(api);
    const startButton = h("button", { type: "button", class: "primary", id: "start-shift" }, "Start shift");
    startButton.addEventListener("click", () => busy(startButton, async () => {
      if (!vehicle.value) throw { title: "Choose a vehicle", detail: "Pick the vehicle you ride from the list.", code: "vehicle_required" };
      try {
        await api.post("/courier/shift/start", { vehicle: vehicle.value });
      } catch (err) {
        // Someone else took it (or it was retired) since the list was loaded.
        if (err.code === "vehicle_in_use" || err.code === "vehicle_not_found") vehicle.reload();
        throw err;
      }
      await refresh();
    }));
    const breakButton = h("button", { type: "button", id: "break" }, status === "break" ? "End break" : "Take a break");
    breakButton.addEventListener("click", () => busy(breakButton, async () => {
      await api.post("/courier/shift/break", { on: status !== "break" });
      await refresh();
    }));
    const endButton = h("button", { type: "button", class: "danger", id: "end-shift" }, "End shift");
    endButton.addEventListener("click", () => busy(endButton, async () => {
      await api.post("/courier/shift/end");
      await refresh();
    }));
    shiftCard.replaceChildren(
      h("div", { class: "spread" }, h("h2", {}, "Shift"), h("span", { class: "pill", id: "courier-status", "data-status": status }, status.replace("_", " "))),
      onShift ? h("div", { class: "row" }, breakButton, endButton, driver.button()) : h("div", { class: "row pack-row" }, vehicle.element, startButton),
    );
  }

  // The route comes first: a large city map must not keep the next stop from showing.
  feed.start();
  try {
    map = await loadCityMap(api, mapBox);
  } catch (err) {
    showError(err);
    return;
  }
  view.drawMap(view.stops || []);
}
