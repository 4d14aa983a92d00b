// The meter page's consumption chart: uPlot fed by /api/meters/{id}/history.
(function () {
  "use strict";

  var box = document.getElementById("chart");
  if (!box || typeof window.uPlot === "undefined") return;
  var status = document.getElementById("chart-status");
  var unit = document.getElementById("chart-unit");
  var plot = null;
  var zone = document.body.dataset.tz || "Asia/Shanghai";  // the site's zone, not the browser's

  function width() {
    return Math.max(280, box.clientWidth || 320);
  }

  function draw(data, resolution) {
    var xs = data.points.map(function (p) { return p.ts; });
    var ys = data.points.map(function (p) { return Number(p.value); });
    if (plot) { plot.destroy(); plot = null; }
    box.dataset.points = String(xs.length);
    box.dataset.resolution = resolution;
    var shown = data.unit === "m3" ? "m³" : (data.unit || "");  // as people write it
    unit.textContent = shown;
    if (!xs.length) {
      status.textContent = box.dataset.empty;
      return;
    }
    status.textContent = "";
    var bars = window.uPlot.paths && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.7, 40] }) : null;
    plot = new window.uPlot({
      width: width(),
      height: 240,
      legend: { show: true },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1e3), zone); },
      series: [
        {},
        { label: data.register || "", stroke: "#0a7d5a", fill: "rgba(10,125,90,0.25)", paths: bars,
          value: function (u, v) { return v == null ? "—" : v + " " + shown; } }
      ],
      axes: [{}, { size: 56 }]
    }, [xs, ys], box);
  }

  function load(resolution) {
    status.textContent = "…";
    document.querySelectorAll("#chart-resolutions [data-resolution]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.resolution === resolution ? "true" : "false");
    });
    fetch(box.dataset.history + "?resolution=" + encodeURIComponent(resolution), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (data) { draw(data, resolution); })
      .catch(function () { status.textContent = box.dataset.failed; });
  }

  document.getElementById("chart-resolutions").addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-resolution]") : null;
    if (button) load(button.dataset.resolution);
  });
  window.addEventListener("resize", function () {
    if (plot) plot.setSize({ width: width(), height: 240 });
  });
  load("day");
})();
