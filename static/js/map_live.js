// The map's live layer: each phone's new fixes from /ws/feed/ ("location.stored"),
// drawn as they are stored; the newest fix of each device is marked.
(function () {
  const map = window.datapunkMap;
  if (!map) return;
  const layer = L.layerGroup().addTo(map);
  const latest = {};
  const status = document.getElementById("live-status");

  function draw(data) {
    data.points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 3, color: "#0f766e", weight: 1 })
        .bindTooltip(`${p.device} ${p.at}`)
        .addTo(layer);
    });
    const last = data.points[data.points.length - 1];
    if (!last) return;
    if (latest[data.device]) layer.removeLayer(latest[data.device]);
    latest[data.device] = L.circleMarker([last.lat, last.lon], { radius: 8, color: "#0f766e", fillOpacity: 0.6 })
      .bindTooltip(`${data.device}: ${last.at}`)
      .addTo(layer);
    if (!map.getBounds().contains([last.lat, last.lon])) map.setView([last.lat, last.lon], Math.max(map.getZoom(), 13));
    if (status) status.textContent = `· live: ${data.device} at ${last.at}`;
    document.body.dataset.livePoints = String(Number(document.body.dataset.livePoints || 0) + data.points.length);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/feed/`);
    // data-state: what a test (or a style) can wait on without evaluating script.
    socket.onopen = function () { if (status) { status.textContent = "· live"; status.dataset.state = "live"; } };
    socket.onmessage = function (message) {
      const m = JSON.parse(message.data);
      if (m.type === "location.stored") draw(m.data);
    };
    socket.onclose = function () { if (status) status.dataset.state = "closed"; setTimeout(connect, 3000); };
  }
  connect();
})();
