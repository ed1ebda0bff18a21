// Demo driving: moves the courier in a straight line towards each open stop in turn, one
// position fix per second (the server rate-limits faster fixes). Over the socket when it is
// open, else as a batch POST. `?drive_mps=` sets the speed (default a brisk bike).

import { h, busy, showError } from "../shared/ui.js";

const TICK_MS = 1100;
const M_PER_DEG = 111195;

export class Driver {
  constructor(api, { getMap, send }) {
    Object.assign(this, { api, getMap, send });
    this.speed = Number(new URLSearchParams(location.search).get("drive_mps")) || 6;
    this.stops = [];
    this.position = null;
    this.timer = null;
    this.onMove = () => {};
  }

  setStops(stops) {
    this.stops = stops;
    if (!this.position && stops.length) this.position = { lat: stops[0].lat, lon: stops[0].lon };
  }

  button() {
    const button = h("button", { type: "button", id: "drive" }, this.timer ? "Stop driving" : "Drive (demo)");
    button.addEventListener("click", () => busy(button, async () => {
      if (this.timer) this.stopDriving();
      else await this.startDriving();
      button.textContent = this.timer ? "Stop driving" : "Drive (demo)";
    }));
    return button;
  }

  async startDriving() {
    this.timer = setInterval(() => this.tick().catch((err) => { this.stopDriving(); showError(err); }), TICK_MS);
  }

  stopDriving() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async tick() {
    const target = this.stops.find((s) => s.status === "pending") || this.stops[0];
    if (!target || !this.position) return;
    const step = this.speed * (TICK_MS / 1000);
    const k = M_PER_DEG * Math.cos((this.position.lat * Math.PI) / 180);
    const dx = (target.lon - this.position.lon) * k;
    const dy = (target.lat - this.position.lat) * M_PER_DEG;
    const dist = Math.hypot(dx, dy);
    const f = dist <= step ? 1 : step / dist;
    this.position = { lat: this.position.lat + (dy * f) / M_PER_DEG, lon: this.position.lon + (dx * f) / k };
    const heading = (Math.atan2(dx, dy) * 180 / Math.PI + 360) % 360;
    const ping = { lat: this.position.lat, lon: this.position.lon, accuracy_m: 5, speed_mps: dist > 0 ? this.speed : 0, heading, ts: new Date().toISOString() };
    if (!this.send({ type: "ping", ...ping })) await this.api.post("/courier/pings", { pings: [ping] });
    this.getMap()?.setOverlay("me", [{ kind: "point", ...this.position, color: "#2563eb", radius: 9, label: "You" }]);
    this.onMove();
  }
}
