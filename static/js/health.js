// Health charts from the series the page embeds (#health-data); Chart.js is vendored.
(function () {
  const source = document.getElementById("health-data");
  if (!source || typeof Chart === "undefined") return;
  const common = { responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } };
  const levels = { heart_rate: true, weight: true };
  JSON.parse(source.textContent).forEach(function (chart) {
    const canvas = document.getElementById("chart-" + chart.metric);
    if (!canvas) return;
    const datasets = chart.metric === "heart_rate"
      ? [{ label: "min", data: chart.min, borderColor: "#2563eb" },
         { label: "average", data: chart.values, borderColor: "#d9265c" },
         { label: "max", data: chart.max, borderColor: "#f59e0b" }]
      : [{ label: chart.unit, data: chart.values, borderColor: "#16a34a", backgroundColor: "rgba(22,163,74,.35)" }];
    new Chart(canvas, {
      type: levels[chart.metric] ? "line" : "bar",
      data: { labels: chart.days, datasets: datasets },
      options: { ...common, scales: { y: { beginAtZero: !levels[chart.metric] } } },
    });
    canvas.dataset.drawn = "true";
  });
})();
