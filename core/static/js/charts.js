// Charts of dashboard widgets: <canvas data-chart='{"labels": [...], "values": [...]}' data-chart-type="bar">.
// Data comes from attributes (no inline script under the CSP); Chart.js is loaded by the page.
(function () {
  if (typeof window.Chart === "undefined") { return; }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var data;
    try { data = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
    new window.Chart(canvas, {
      type: canvas.getAttribute("data-chart-type") || "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: "rgba(13, 110, 253, 0.6)" }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  });
})();
