// A live feed that survives bad networks: a WebSocket that re-opens itself with back-off, and
// while it is down, REST polling so the page keeps moving (and says it is disconnected).

import { setConnection } from "./ui.js";

const MAX_BACKOFF_MS = 15000;

export class LiveFeed {
  // url: WebSocket path; hello(): the messages to send after opening (auth first);
  // onFrame(frame); poll(): one REST refresh, run while the socket is down and once at start.
  constructor({ url, hello, onFrame, poll, pollMs = 4000, label = "Live" }) {
    Object.assign(this, { url, hello, onFrame, poll, pollMs, label });
    this.backoff = 1000;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
  }

  start() {
    this._refresh();
    this._connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.polling);
    this.socket?.close(1000);
  }

  _connect() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    setConnection("connecting", "Connecting…");
    const socket = new WebSocket(`${scheme}//${location.host}${this.url}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      for (const message of this.hello()) socket.send(JSON.stringify(message));
      // A refused token closes the socket at once; until then, treat it as live.
      this._setLive(true);
    });
    socket.addEventListener("message", (event) => {
      if (this.socket !== socket) return;
      this.backoff = 1000;
      this._setLive(true);
      this.onFrame(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.stopped) return;
      this._setLive(false, event.reason);
      this.timer = setTimeout(() => this._connect(), this.backoff);
      this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    });
  }

  send(message) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  _setLive(live, reason = "") {
    if (live) {
      setConnection("live", this.label);
      clearInterval(this.polling);
      this.polling = null;
      return;
    }
    setConnection("disconnected", `Disconnected${reason ? ` (${reason})` : ""} – retrying`);
    if (!this.polling) this.polling = setInterval(() => this._refresh(), this.pollMs);
  }

  async _refresh() {
    try {
      await this.poll();
    } catch (err) {
      setConnection("disconnected", `Offline – ${err.title || err.message}`);
    }
  }
}
