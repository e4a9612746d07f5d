// The map's live layer: each phone's new fixes from /ws/feed/ ("location.stored"),
// drawn as they are stored; the newest fix of each device is marked.
(function () {
  const map = window.datapunkMap;
  if (!map) return;
  const layer = L.layerGroup().addTo(map);
  const latest = {};
  const status = document.getElementById("live-status");

  // One message may carry several devices' fixes (each point names its device),
  // each device's in time order.
  function draw(data) {
    const newest = {};
    data.points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 3, color: "#0f766e", weight: 1 })
        .bindTooltip(`${p.device} ${window.datapunkTime.format(p.at)}`)
        .addTo(layer);
      newest[p.device] = p;
    });
    Object.keys(newest).forEach(function (device) {
      const last = newest[device];
      if (latest[device]) layer.removeLayer(latest[device]);
      latest[device] = L.circleMarker([last.lat, last.lon], { radius: 8, color: "#0f766e", fillOpacity: 0.6 })
        .bindTooltip(`${device}: ${window.datapunkTime.format(last.at)}`)
        .addTo(layer);
      if (status) status.textContent = `· live: ${device} at ${window.datapunkTime.format(last.at)}`;
    });
    const last = data.points[data.points.length - 1];
    if (!last) return;
    if (!map.getBounds().contains([last.lat, last.lon])) map.setView([last.lat, last.lon], Math.max(map.getZoom(), 13));
    document.body.dataset.livePoints = String(Number(document.body.dataset.livePoints || 0) + data.points.length);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/feed/`);
    socket.onopen = function () {
      if (status) status.textContent = "· live";
      document.body.dataset.live = "open";  // for tests: the CSP forbids them eval
    };
    socket.onmessage = function (message) {
      const m = JSON.parse(message.data);
      if (m.type === "location.stored") draw(m.data);
    };
    socket.onclose = function () {
      document.body.dataset.live = "closed";
      setTimeout(connect, 3000);
    };
  }
  connect();
})();
