// A canvas map of the city drawn from the API's GeoJSON: streets, zones, locations, and overlays
// (couriers, doors, routes) the pages update. Pan by dragging, zoom with the wheel, pinch or the
// buttons; a tap reports its coordinates. No tiles: everything comes from /ops/city.geojson.

import { h } from "./ui.js";

const M_PER_DEG = 111195;
const STREET_STYLE = {
  primary: { color: "#f3c26b", width: 5 },
  secondary: { color: "#f6d99a", width: 4 },
  tertiary: { color: "#ffffff", width: 3.2 },
  residential: { color: "#ffffff", width: 2.2, minScale: 0.04 },
  footway: { color: "#cfd8c4", width: 1, dash: [3, 3], minScale: 0.25 },
};
const DEFAULT_STREET = { color: "#ffffff", width: 2, minScale: 0.04 };
const LOCATION_COLORS = { store: "#1f7a4d", dark_store: "#6a3fb5", distribution_centre: "#b5541f", central_warehouse: "#7a1f1f", delivery_station: "#1f5f7a" };

export class CityMap {
  constructor(container, { onTap } = {}) {
    this.onTap = onTap;
    this.canvas = h("canvas", { class: "map-canvas", role: "img", "aria-label": "City map" });
    const zoomIn = h("button", { type: "button", "aria-label": "Zoom in", onclick: () => this.zoomBy(1.5) }, "+");
    const zoomOut = h("button", { type: "button", "aria-label": "Zoom out", onclick: () => this.zoomBy(1 / 1.5) }, "−");
    this.note = h("div", { class: "map-note" }, "Loading map…");
    container.classList.add("map");
    container.replaceChildren(this.canvas, h("div", { class: "map-zoom" }, zoomIn, zoomOut), this.note);
    this.streets = [];
    this.zones = [];
    this.locations = [];
    this.overlays = new Map();
    this.view = { cx: 0, cy: 0, scale: 0.05 };
    this.origin = null;
    this._bindPointer();
    new ResizeObserver(() => this._resize()).observe(container);
    this.container = container;
  }

  // Streets are grouped per highway class into one Path2D each, in metres from the origin.
  setCity(geojson) {
    const features = geojson.features || [];
    const first = features.find((f) => f.properties.feature === "location") || features[0];
    if (!first) {
      this.note.textContent = "No city to draw yet";
      return;
    }
    const [lon0, lat0] = firstCoordinate(first.geometry);
    this.origin = { lat0, lon0, kx: M_PER_DEG * Math.cos((lat0 * Math.PI) / 180) };
    this.streets = features.filter((f) => f.properties.feature === "streets").map((f) => ({
      style: STREET_STYLE[f.properties.highway] || DEFAULT_STREET,
      path: this._path(f.geometry.coordinates),
    }));
    this.zones = features.filter((f) => f.properties.feature === "service_zone").map((f) => ({
      kind: f.properties.kind,
      path: this._polygonPath(f.geometry),
    }));
    this.locations = features.filter((f) => f.properties.feature === "location").map((f) => ({
      ...f.properties,
      at: this.project(f.geometry.coordinates[1], f.geometry.coordinates[0]),
    }));
    this.note.textContent = geojson.properties?.streets_source === "synthetic" ? "Streets: generated grid" : "";
    this.note.hidden = !this.note.textContent;
    this.fit(features.filter((f) => f.properties.feature !== "streets").flatMap((f) => allCoordinates(f.geometry)));
  }

  project(lat, lon) {
    return { x: (lon - this.origin.lon0) * this.origin.kx, y: (lat - this.origin.lat0) * M_PER_DEG };
  }

  unproject(x, y) {
    return { lat: this.origin.lat0 + y / M_PER_DEG, lon: this.origin.lon0 + x / this.origin.kx };
  }

  // Show these [lon, lat] positions with a margin.
  fit(coords, { minSpanM = 1500 } = {}) {
    if (!this.origin || !coords.length) return;
    const pts = coords.map(([lon, lat]) => this.project(lat, lon));
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.y);
    const spanX = Math.max(minSpanM, Math.max(...xs) - Math.min(...xs));
    const spanY = Math.max(minSpanM, Math.max(...ys) - Math.min(...ys));
    const { width, height } = this._size();
    this.view = {
      cx: (Math.max(...xs) + Math.min(...xs)) / 2,
      cy: (Math.max(...ys) + Math.min(...ys)) / 2,
      scale: Math.min(width / spanX, height / spanY) * 0.85,
    };
    this.redraw();
  }

  // items: {kind: "point", lat, lon, color, radius, label, faded} or {kind: "line", coords, color, width, dash}
  setOverlay(name, items) {
    this.overlays.set(name, items);
    this.redraw();
  }

  zoomBy(factor, screen = null) {
    const { width, height } = this._size();
    const at = screen || { x: width / 2, y: height / 2 };
    const before = this._toWorld(at.x, at.y);
    this.view.scale = Math.min(20, Math.max(0.005, this.view.scale * factor));
    const after = this._toWorld(at.x, at.y);
    this.view.cx += before.x - after.x;
    this.view.cy += before.y - after.y;
    this.redraw();
  }

  redraw() {
    if (this._pending) return;
    this._pending = requestAnimationFrame(() => {
      this._pending = null;
      this._draw();
    });
  }

  _size() {
    return { width: this.canvas.clientWidth || 300, height: this.canvas.clientHeight || 300 };
  }

  _toWorld(sx, sy) {
    const { width, height } = this._size();
    return { x: this.view.cx + (sx - width / 2) / this.view.scale, y: this.view.cy - (sy - height / 2) / this.view.scale };
  }

  _toScreen(p) {
    const { width, height } = this._size();
    return { x: width / 2 + (p.x - this.view.cx) * this.view.scale, y: height / 2 - (p.y - this.view.cy) * this.view.scale };
  }

  _path(lines) {
    const path = new Path2D();
    for (const line of lines) {
      line.forEach(([lon, lat], i) => {
        const p = this.project(lat, lon);
        if (i === 0) path.moveTo(p.x, p.y);
        else path.lineTo(p.x, p.y);
      });
    }
    return path;
  }

  _polygonPath(geometry) {
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    const path = new Path2D();
    for (const rings of polygons) {
      for (const ring of rings) {
        ring.forEach(([lon, lat], i) => {
          const p = this.project(lat, lon);
          if (i === 0) path.moveTo(p.x, p.y);
          else path.lineTo(p.x, p.y);
        });
        path.closePath();
      }
    }
    return path;
  }

  _resize() {
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this._size();
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.redraw();
  }

  _draw() {
    const ctx = this.canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this._size();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#e6e9e1";
    ctx.fillRect(0, 0, width, height);
    if (!this.origin) return;
    const s = this.view.scale;
    // World (metres, y up) → screen pixels.
    ctx.setTransform(ratio * s, 0, 0, -ratio * s, ratio * (width / 2 - this.view.cx * s), ratio * (height / 2 + this.view.cy * s));
    for (const zone of this.zones) {
      ctx.fillStyle = zone.kind === "dark_store" ? "rgba(106,63,181,0.07)" : "rgba(31,122,77,0.07)";
      ctx.fill(zone.path, "evenodd");
      ctx.strokeStyle = "rgba(31,122,77,0.35)";
      ctx.lineWidth = 1.5 / s;
      ctx.stroke(zone.path);
    }
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const pass of ["casing", "fill"]) {
      for (const street of this.streets) {
        const st = street.style;
        if (st.minScale && s < st.minScale) continue;
        const width = Math.max(0.6, st.width * Math.min(1.6, Math.max(0.35, s * 2)));
        ctx.setLineDash(st.dash ? st.dash.map((d) => d / s) : []);
        ctx.strokeStyle = pass === "casing" ? "#b4b9ae" : st.color;
        ctx.lineWidth = (pass === "casing" ? width + 1.2 : width) / s;
        ctx.stroke(street.path);
      }
    }
    ctx.setLineDash([]);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this._drawOverlays(ctx, "line");
    this._drawLocations(ctx);
    this._drawOverlays(ctx, "point");
  }

  _drawLocations(ctx) {
    ctx.font = "11px system-ui, sans-serif";
    for (const loc of this.locations) {
      const p = this._toScreen(loc.at);
      ctx.fillStyle = LOCATION_COLORS[loc.kind] || "#333";
      ctx.globalAlpha = loc.active === false ? 0.4 : 1;
      ctx.fillRect(p.x - 6, p.y - 6, 12, 12);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.strokeRect(p.x - 6, p.y - 6, 12, 12);
      if (this.view.scale > 0.08) label(ctx, loc.name, p.x + 9, p.y + 4);
    }
    ctx.globalAlpha = 1;
  }

  _drawOverlays(ctx, kind) {
    for (const items of this.overlays.values()) {
      for (const item of items) {
        if (item.kind !== kind) continue;
        if (kind === "line") this._drawLine(ctx, item);
        else this._drawPoint(ctx, item);
      }
    }
  }

  _drawLine(ctx, item) {
    ctx.beginPath();
    item.coords.forEach(([lon, lat], i) => {
      const p = this._toScreen(this.project(lat, lon));
      if (i === 0) ctx.moveTo(p.x, p.y);
      else ctx.lineTo(p.x, p.y);
    });
    ctx.strokeStyle = item.color || "#2563eb";
    ctx.lineWidth = item.width || 3;
    ctx.setLineDash(item.dash || []);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  _drawPoint(ctx, item) {
    const p = this._toScreen(this.project(item.lat, item.lon));
    ctx.globalAlpha = item.faded ? 0.4 : 1;
    ctx.beginPath();
    ctx.arc(p.x, p.y, item.radius || 7, 0, 2 * Math.PI);
    ctx.fillStyle = item.color || "#2563eb";
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 2.5;
    ctx.stroke();
    if (item.label) {
      ctx.font = "bold 12px system-ui, sans-serif";
      label(ctx, item.label, p.x + (item.radius || 7) + 4, p.y + 4);
    }
    ctx.globalAlpha = 1;
  }

  _bindPointer() {
    const pointers = new Map();
    let moved = 0;
    let pinch = null;
    this.canvas.addEventListener("pointerdown", (e) => {
      this.canvas.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
      moved = 0;
      pinch = pointers.size === 2 ? distance([...pointers.values()]) : null;
    });
    this.canvas.addEventListener("pointermove", (e) => {
      const last = pointers.get(e.pointerId);
      if (!last) return;
      const now = { x: e.offsetX, y: e.offsetY };
      pointers.set(e.pointerId, now);
      if (pointers.size === 2 && pinch) {
        const d = distance([...pointers.values()]);
        this.zoomBy(d / pinch, now);
        pinch = d;
        moved += 10;
        return;
      }
      moved += Math.abs(now.x - last.x) + Math.abs(now.y - last.y);
      this.view.cx -= (now.x - last.x) / this.view.scale;
      this.view.cy += (now.y - last.y) / this.view.scale;
      this.redraw();
    });
    const up = (e) => {
      if (pointers.delete(e.pointerId) && moved < 6 && pointers.size === 0 && this.onTap && this.origin) {
        const w = this._toWorld(e.offsetX, e.offsetY);
        this.onTap(this.unproject(w.x, w.y));
      }
      pinch = null;
    };
    this.canvas.addEventListener("pointerup", up);
    this.canvas.addEventListener("pointercancel", (e) => pointers.delete(e.pointerId));
    this.canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.zoomBy(e.deltaY < 0 ? 1.25 : 0.8, { x: e.offsetX, y: e.offsetY });
    }, { passive: false });
  }
}

function label(ctx, text, x, y) {
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.strokeText(text, x, y);
  ctx.fillStyle = "#1d232b";
  ctx.fillText(text, x, y);
}

function distance([a, b]) {
  return Math.hypot(a.x - b.x, a.y - b.y) || 1;
}

function firstCoordinate(geometry) {
  return allCoordinates(geometry)[0];
}

function allCoordinates(geometry) {
  switch (geometry.type) {
    case "Point": return [geometry.coordinates];
    case "LineString": case "MultiPoint": return geometry.coordinates;
    case "Polygon": case "MultiLineString": return geometry.coordinates.flat();
    case "MultiPolygon": return geometry.coordinates.flat(2);
    default: return [];
  }
}

export async function loadCityMap(api, container, options) {
  const map = new CityMap(container, options);
  try {
    map.setCity(await api.get("/ops/city.geojson"));
  } catch (err) {
    map.note.textContent = `Map unavailable: ${err.title || err.message}`;
    throw err;
  }
  return map;
}
