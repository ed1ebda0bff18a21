// Store staff page: the pick list (courier arriving soonest first), pick/short/substitute, pack;
// incoming transfers to receive. Polled: staff work at a terminal that may lose the network.

import { Api } from "../shared/api.js";
import { requireLogin, logoutButton } from "../shared/login.js";
import { frame } from "../shared/page.js";
import { h, $, clock, setConnection } from "../shared/ui.js";
import { Ticket } from "./ticket.js";
import { Transfers } from "./transfers.js";

const POLL_MS = 5000;
const api = new Api("staff");
frame("O2O · Store");
requireLogin(api, { title: "Staff sign-in", onReady: start });

function start() {
  $("#who").replaceChildren(logoutButton(api));
  const pickCard = h("section", { class: "card", id: "picklist" }, h("h2", {}, "Pick list"), h("p", { class: "skeleton" }, "Loading…"));
  const transferCard = h("section", { class: "card", id: "transfers" }, h("h2", {}, "Incoming transfers"), h("p", { class: "skeleton" }, "Loading…"));
  $("#main").className = "two";
  $("#main").replaceChildren(pickCard, transferCard);
  const tickets = new Map();
  const transfers = new Transfers(api, transferCard);
  let locationId = null;

  // Polls and button presses both refresh; only the newest answer may redraw.
  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    const list = await api.get("/staff/picklist");
    if (mine !== generation) return;
    locationId = list.location_id;
    const seen = new Set();
    for (const item of list.items) {
      seen.add(item.order_id);
      if (!tickets.has(item.order_id)) tickets.set(item.order_id, new Ticket(api, { onChange: refresh, locationId: () => locationId }));
      tickets.get(item.order_id).update(item);
    }
    for (const id of [...tickets.keys()]) if (!seen.has(id)) tickets.delete(id);
    pickCard.replaceChildren(
      h("div", { class: "spread" }, h("h2", {}, `Pick list · ${list.items.length}`), h("span", { class: "muted" }, `updated ${clock(new Date().toISOString())}`)),
      list.items.length ? h("ul", { class: "plain" }, ...list.items.map((i) => tickets.get(i.order_id).node)) : h("p", { class: "muted" }, "Nothing to pick. New orders appear here."),
    );
    await transfers.refresh();
  }

  // A failed poll keeps the last list on screen and says the terminal is offline.
  const tick = async () => {
    try {
      await refresh();
      setConnection("live", "Up to date");
    } catch (err) {
      setConnection("disconnected", `Offline – ${err.title || err.message}`);
    }
    setTimeout(tick, POLL_MS);
  };
  tick();
}
