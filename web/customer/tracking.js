// Live courier position for one order (docs/tracking.md): the socket's snapshot/position/status
// frames move the marker; while the socket is down, the order is polled so the status still moves.

import { LiveFeed } from "../shared/live.js";

const ENDED = new Set(["delivered", "cancelled", "failed_delivery", "returned"]);

export class Tracking {
  constructor(api, { orderId, map, dropoff, onStatus, onLive, share = null }) {
    Object.assign(this, { api, orderId, map, dropoff, onStatus, onLive, share });
    this.seq = -1;
    this.status = null;
  }

  start() {
    if (this.dropoff) this.map?.setOverlay("door", [{ kind: "point", lat: this.dropoff.lat, lon: this.dropoff.lon, color: "#dc2626", radius: 8, label: "You" }]);
    this.feed = new LiveFeed({
      url: `/customer/orders/${this.orderId}/track`,
      hello: () => [this.share ? { type: "auth", share: this.share } : { type: "auth", token: this.api.token }],
      onFrame: (frame) => this.apply(frame),
      poll: () => this.poll(),
      label: "Live tracking",
    }).start();
    return this;
  }

  stop() {
    this.feed?.stop();
  }

  redrawMarker() {
    if (this.last) this.courier(this.last);
  }

  // After the map got its city: zoom to the courier again (the first fit had nothing to place them on).
  refit() {
    this.fitted = false;
    this.redrawMarker();
  }

  async poll() {
    if (this.share) return;
    const order = await this.onStatus();
    this.status = order.status;
    if (ENDED.has(order.status)) this.courier(null);
  }

  apply(frame) {
    if (frame.type !== "snapshot" && frame.seq <= this.seq) return;
    this.seq = frame.seq;
    if (frame.type === "snapshot" || frame.type === "position") {
      this.onLive(frame);
      this.courier(frame.lat === null || frame.lat === undefined ? null : frame);
    }
    if (frame.type === "status") this.onLive({ status: frame.status });
    if (frame.status && frame.status !== this.status && frame.status !== "arriving") {
      this.status = frame.status;
      if (ENDED.has(frame.status)) this.courier(null);
      if (!this.share) this.onStatus().catch(() => {});
    }
    if (frame.type === "delay") this.onLive({ eta: frame.eta, delay: frame.late_by_s });
  }

  // The marker's position is mirrored into the DOM so people using screen readers (and tests) get it.
  courier(position) {
    this.last = position;
    const note = document.querySelector("#courier-marker");
    if (!position) {
      this.map?.setOverlay("courier", []);
      if (note) note.hidden = true;
      return;
    }
    this.map?.setOverlay("courier", [{ kind: "point", lat: position.lat, lon: position.lon, color: "#2563eb", radius: 9, label: "Courier", faded: position.stale }]);
    // First sight of the courier: zoom to the stretch between them and the door.
    const door = this.dropoff ? [[this.dropoff.lon, this.dropoff.lat]] : [];
    if (!this.fitted && this.map?.origin) {
      this.map.fit([[position.lon, position.lat], ...door], { minSpanM: 700 });
      this.fitted = true;
    }
    if (note) {
      note.hidden = false;
      note.dataset.lat = position.lat;
      note.dataset.lon = position.lon;
      const away = this.dropoff ? `${metresBetween(position, this.dropoff)} m away` : "on the way";
      note.textContent = `Courier ${away}${position.stale ? " (signal lost – last known position)" : ""}`;
    }
  }
}

function metresBetween(a, b) {
  const k = Math.cos((a.lat * Math.PI) / 180);
  return Math.round(Math.hypot((a.lat - b.lat) * 111195, (a.lon - b.lon) * 111195 * k) / 10) * 10;
}
