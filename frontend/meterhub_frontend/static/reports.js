// The reports page's chart: the series the server put in #report-chart-data, drawn with uPlot.
(function () {
  "use strict";
  function draw() {
    var box = document.getElementById("report-chart");
    var data = document.getElementById("report-chart-data");
    if (!box || !data || typeof uPlot === "undefined") return;
    var chart = JSON.parse(data.textContent);
    var names = JSON.parse(document.getElementById("report-chart-labels").textContent);
    var keys = Object.keys(chart.series);
    var xs = chart.x.map(function (_label, i) { return i; });
    var colours = ["#1f6feb", "#9a6700", "#8250df", "#1a7f37"];
    var opts = {
      width: Math.max(280, box.clientWidth), height: 240,
      scales: { x: { time: false } },
      axes: [{ values: function (_u, ticks) { return ticks.map(function (i) { return chart.x[i] || ""; }); } }, {}],
      series: [{}].concat(keys.map(function (key, i) {
        return { label: names[key] || key, stroke: colours[i % colours.length], width: 2 };
      }))
    };
    // the values travel as exact decimal text; a chart needs numbers only to draw
    var rows = [xs].concat(keys.map(function (key) { return chart.series[key].map(Number); }));
    new uPlot(opts, rows, box);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
