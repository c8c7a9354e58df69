// The pages' own script: no inline scripts are allowed (Content-Security-Policy), so the few
// behaviours the pages need are attached here. Server data is only ever written as text.
"use strict";

function selectAll(event) {
  const box = event.target;
  const form = box.closest("form");
  if (!form) return;
  for (const other of form.querySelectorAll('input[type="checkbox"][name="proposal_ids"]')) {
    other.checked = box.checked;
  }
}

function lineOptions(spec, width) {
  return {
    width: width, height: 320,
    series: [{}].concat(spec.series.map((s) => ({
      label: s.label, stroke: s.stroke, width: s.width || 2, dash: s.dash,
      points: { show: false },
    }))),
    scales: { x: { time: true } },
    axes: [{}, { label: spec.unit || "" }],
  };
}

function barOptions(spec, width) {
  const names = spec.names || [];
  const bars = uPlot.paths.bars({ size: [0.35, 80], align: 0 });
  return {
    width: width, height: 320,
    series: [{ label: "scenario", value: (u, v) => (v == null ? "" : names[v] || "") }].concat(
      spec.series.map((s, i) => ({
        label: s.label, stroke: s.stroke, fill: s.fill, width: 1, scale: s.scale,
        paths: bars, points: { show: false },
        // the two measures sit side by side at each scenario
        value: (u, v) => (v == null ? "" : v.toFixed(3)),
      }))),
    scales: { x: { time: false, range: [-0.5, Math.max(names.length - 0.5, 0.5)] } },
    axes: [
      { values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? names[v] || "" : "")) },
      { scale: spec.series[0].scale, label: spec.series[0].label },
      { scale: spec.series[1].scale, label: spec.series[1].label, side: 1, grid: { show: false } },
    ],
  };
}

function drawCharts() {
  if (typeof uPlot === "undefined") return;
  for (const holder of document.querySelectorAll("[data-chart]")) {
    if (holder.dataset.drawn) continue;
    holder.dataset.drawn = "1";
    const spec = JSON.parse(holder.dataset.chart);
    const width = Math.max(320, Math.min(holder.clientWidth || 720, 960));
    const opts = spec.bars ? barOptions(spec, width) : lineOptions(spec, width);
    // uPlot draws on a canvas: the table beside the chart carries the same numbers as text.
    new uPlot(opts, [spec.x].concat(spec.series.map((s) => s.values)), holder);
  }
}

function attach() {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    box.addEventListener("change", selectAll);
  }
  drawCharts();
  const scan = document.querySelector("[data-scan]");
  if (scan) scan.focus();
}

document.addEventListener("DOMContentLoaded", attach);
// A part of the page swapped in by htmx gets the same behaviour.
document.addEventListener("htmx:afterSettle", attach);
