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

function drawCharts() {
  if (typeof uPlot === "undefined") return;
  for (const holder of document.querySelectorAll("[data-chart]")) {
    const source = document.getElementById(holder.dataset.chart);
    if (!source) continue;
    const spec = JSON.parse(source.textContent);
    const width = Math.max(320, Math.min(holder.clientWidth || 720, 960));
    const series = [{}].concat(spec.series.map((s) => ({
      label: s.label, stroke: s.stroke, width: s.width || 2, dash: s.dash, fill: s.fill,
      points: { show: false },
    })));
    const opts = {
      width: width, height: 320, series: series,
      scales: { x: { time: true } },
      axes: [{}, { label: spec.unit || "" }],
    };
    // uPlot draws on a canvas: the table beside the chart carries the same numbers as text.
    new uPlot(opts, [spec.x].concat(spec.series.map((s) => s.values)), holder);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    box.addEventListener("change", selectAll);
  }
  drawCharts();
  const scan = document.querySelector("[data-scan]");
  if (scan) scan.focus();
});
