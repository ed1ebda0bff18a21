// The vehicle picker for starting a shift: the free vehicles of the courier's zone
// (GET /courier/vehicles), the one an operator planned for this shift preselected. Reloaded when
// a start fails because someone else just took the vehicle.

import { h, fill, showError } from "../shared/ui.js";

const KIND = { bike: "Bike", scooter: "Scooter", car: "Car" };

export function vehicleLabel(v) {
  // Short enough for a phone's select box: what it is, what it carries, whether it keeps cold.
  const cold = v.cold_box ? " · cold box" : "";
  return `${v.planned ? "Planned: " : ""}${KIND[v.kind] || v.kind} ${v.label} · ${v.capacity_units} bags${cold}`;
}

export class VehiclePicker {
  constructor(api) {
    this.api = api;
    this.select = h("select", { id: "vehicle", "aria-label": "Vehicle", disabled: true });
    this.element = h("label", { class: "grow" }, "Vehicle", this.select);
    this.reload();
  }

  get value() {
    return this.select.value;
  }

  async reload() {
    fill(this.select, h("option", { value: "" }, "Loading vehicles…"));
    this.select.disabled = true;
    let vehicles;
    try {
      vehicles = await this.api.get("/courier/vehicles");
    } catch (err) {
      fill(this.select, h("option", { value: "" }, "Vehicles unavailable"));
      showError(err);
      return;
    }
    if (!vehicles.length) {
      fill(this.select, h("option", { value: "" }, "No free vehicle in your zone – ask your dispatcher"));
      return;
    }
    fill(this.select, vehicles.map((v) => h("option", { value: v.id, selected: v.planned }, vehicleLabel(v))));
    this.select.disabled = false;
  }
}
