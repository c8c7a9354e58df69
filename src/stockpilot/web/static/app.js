// Stock look-up: reads an item's master data and positions from the REST API.
// Every value from the server is written with textContent, never parsed as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "stockpilot.token";
  const API = "/api/v1";

  const $ = (id) => document.getElementById(id);

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function showTokenState() {
    $("token-state").textContent = token()
      ? "A token is set for this tab."
      : "No token set yet.";
  }

  function showError(text) {
    const box = $("message");
    box.textContent = text;
    box.hidden = false;
  }

  function clearError() {
    const box = $("message");
    box.textContent = "";
    box.hidden = true;
  }

  async function getJson(path) {
    const response = await fetch(API + path, {
      headers: { Authorization: "Bearer " + token(), Accept: "application/json" },
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_ignored) {
      body = null;
    }
    if (!response.ok) {
      const detail = body && body.detail ? body.detail : response.statusText;
      const field = body && body.field ? " (" + body.field + ")" : "";
      throw new Error(response.status + ": " + detail + field);
    }
    return body;
  }

  function addPair(list, term, value) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
    list.append(dt, dd);
  }

  function renderItem(item) {
    const list = $("item-details");
    list.replaceChildren();
    $("item-heading").textContent = "Item " + item.sku;
    addPair(list, "Description", item.description);
    addPair(list, "Base unit", item.base_uom);
    addPair(
      list,
      "Other units",
      (item.units || []).map((u) => u.uom + " = " + u.factor + " " + item.base_uom).join(", ")
    );
    addPair(list, "Lot tracked", item.lot_tracked ? "yes" : "no");
    addPair(list, "Serial tracked", item.serial_tracked ? "yes" : "no");
    addPair(list, "Shelf life (days)", item.shelf_life_days);
    addPair(list, "Pack size", item.pack_size);
    addPair(list, "Minimum order", item.moq);
    addPair(list, "Supplier", item.supplier);
    if ("unit_cost" in item) {
      addPair(list, "Unit cost", item.unit_cost);
    }
    addPair(list, "Active", item.active ? "yes" : "no");
  }

  function renderStock(stock) {
    const totals = $("totals");
    totals.replaceChildren();
    addPair(totals, "On hand", stock.quantity_on_hand);
    addPair(totals, "Allocated", stock.quantity_allocated);
    addPair(totals, "Available", stock.quantity_available);
    addPair(totals, "In transit", stock.quantity_in_transit);

    const body = $("positions").querySelector("tbody");
    body.replaceChildren();
    const columns = [
      ["site", false], ["location", false], ["location_type", false], ["lot", false],
      ["expiry_date", false], ["status", false], ["owner", false],
      ["quantity_on_hand", true], ["quantity_allocated", true],
      ["quantity_available", true], ["quantity_in_transit", true],
    ];
    for (const row of stock.breakdown) {
      const tr = document.createElement("tr");
      for (const [name, numeric] of columns) {
        const td = document.createElement("td");
        const value = row[name];
        td.textContent = value === null || value === undefined ? "—" : String(value);
        if (numeric) td.className = "num";
        tr.append(td);
      }
      body.append(tr);
    }
    $("positions").hidden = stock.breakdown.length === 0;
    $("no-positions").hidden = stock.breakdown.length !== 0;
  }

  async function lookUp(event) {
    event.preventDefault();
    clearError();
    if (!token()) {
      showError("Set an API token first.");
      $("token").focus();
      return;
    }
    const sku = $("sku").value.trim();
    const site = $("site").value.trim();
    const query = new URLSearchParams({ sku: sku });
    if (site) query.set("site", site);
    $("loading").textContent = "Looking up " + sku + "…";
    try {
      const [item, stock] = await Promise.all([
        getJson("/items/" + encodeURIComponent(sku)),
        getJson("/stock?" + query.toString()),
      ]);
      renderItem(item);
      renderStock(stock);
      $("result").hidden = false;
      $("loading").textContent = "Showing " + sku + (site ? " at " + site : " at every site you can see") + ".";
    } catch (error) {
      $("result").hidden = true;
      $("loading").textContent = "";
      showError(error.message);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      $("token").value = "";
      showTokenState();
    });
    $("forget-token").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      showTokenState();
    });
    $("lookup-form").addEventListener("submit", lookUp);
    showTokenState();
  });
})();
