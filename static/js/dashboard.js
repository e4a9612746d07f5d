// Dashboard charts from the series the page embeds (#chart-data); Chart.js is vendored.
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#d9265c", "#2563eb", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2", "#9ca3af"];
  const common = {
    responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
  };
  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, config);
    canvas.dataset.drawn = "true";
  }
  draw("chart-events", {
    type: "bar",
    data: {
      labels: data.days,
      datasets: Object.entries(data.events).map(([kind, values], i) => ({
        label: kind, data: values, backgroundColor: palette[i % palette.length], stack: "events",
      })),
    },
    options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  draw("chart-distance", {
    type: "line",
    data: { labels: data.days, datasets: [{ label: "km", data: data.km, borderColor: "#16a34a", backgroundColor: "rgba(22,163,74,.15)", fill: true, tension: .25 }] },
    options: { ...common, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
  draw("chart-media", {
    type: "bar",
    data: {
      labels: data.days,
      datasets: Object.entries(data.media).map(([kind, values], i) => ({
        label: kind, data: values, backgroundColor: palette[(i + 2) % palette.length], stack: "media",
      })),
    },
    options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
})();
