// The map: your location points, a heatmap, visits and located events, from
// /api/map/. Leaflet and leaflet.heat are vendored (static/vendor). When tiles
// cannot load (offline, blocked), everything of yours is still drawn.
(function () {
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const status = document.getElementById("map-status");
  const mapEl = document.getElementById("map");
  const map = L.map(mapEl, { preferCanvas: true, worldCopyJump: true }).setView([20, 0], 2);
  window.datapunkMap = map; // the live layer (map_live.js) draws phones' new fixes on it
  let tileErrors = 0;
  L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.attribution })
    .on("tileerror", function () {
      tileErrors += 1;
      mapEl.dataset.tilesFailed = String(tileErrors);
      if (tileErrors === 1) {
        const note = document.createElement("span");
        note.id = "tiles-offline";
        note.textContent = " · background map unavailable (offline?): your data is drawn without it";
        status.after(note);
      }
    })
    .addTo(map);

  const layers = {
    points: L.layerGroup(), heat: null, visits: L.layerGroup(), events: L.layerGroup(), where: L.layerGroup(),
  };
  const control = L.control.layers(null, {}, { collapsed: false }).addTo(map);
  layers.where.addTo(map);

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  // The API's times are UTC: shown in the user's zone (static/js/local_time.js).
  function local(iso) { return window.datapunkTime.format(iso); }
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    return q.toString();
  }

  function load(start, end) {
    status.textContent = "Loading your places…";
    fetch("/api/map/?" + query({ start: start, end: end }), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("the server said " + r.status); return r.json(); })
      .then(draw)
      .catch(function (e) { status.textContent = "Could not load your map data: " + e.message; });
  }

  function draw(data) {
    layers.points.clearLayers(); layers.visits.clearLayers(); layers.events.clearLayers();
    if (layers.heat) { map.removeLayer(layers.heat); control.removeLayer(layers.heat); }
    const bounds = [];
    data.points.forEach(function (p) {
      L.circleMarker(p, { radius: 2, weight: 0, fillOpacity: .7, fillColor: "#d9265c" }).addTo(layers.points);
      bounds.push(p);
    });
    layers.heat = L.heatLayer(data.points, { radius: 14, blur: 18, minOpacity: .35 });
    data.visits.forEach(function (v) {
      L.circleMarker([v.lat, v.lon], { radius: 7, color: "#1d4ed8", fillColor: "#2563eb", fillOpacity: .8, weight: 2 })
        .bindPopup("<strong>" + escapeHtml(v.name || "Visit") + "</strong><br>" + escapeHtml(local(v.started_at)) + (v.ended_at ? " – " + escapeHtml(local(v.ended_at)) : ""))
        .addTo(layers.visits);
      bounds.push([v.lat, v.lon]);
    });
    data.events.forEach(function (e) {
      L.circleMarker([e.lat, e.lon], { radius: 6, color: "#5b21b6", fillColor: "#7c3aed", fillOpacity: .85, weight: 2 })
        .bindPopup("<strong>" + escapeHtml(e.kind) + "</strong><br>" + escapeHtml(e.title) + "<br>" + escapeHtml(local(e.occurred_at)))
        .addTo(layers.events);
      bounds.push([e.lat, e.lon]);
    });
    [["Points", layers.points], ["Heatmap", layers.heat], ["Visits", layers.visits], ["Photos & places", layers.events]]
      .forEach(function (pair) { control.removeLayer(pair[1]); control.addOverlay(pair[1], pair[0]); pair[1].addTo(map); });
    mapEl.dataset.points = String(data.points.length);
    mapEl.dataset.pointsTotal = String(data.points_total);
    mapEl.dataset.visits = String(data.visits.length);
    mapEl.dataset.events = String(data.events.length);
    const empty = !bounds.length;
    document.getElementById("empty-map").hidden = !empty;
    if (!empty) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
    status.textContent = data.points_total + " points" +
      (data.points.length < data.points_total ? " (" + data.points.length + " drawn)" : "") +
      " · " + data.visits.length + " visits · " + data.events.length + " located events";
    mapEl.dataset.ready = "true";
  }

  document.getElementById("map-filters").addEventListener("submit", function (e) {
    e.preventDefault();
    const form = new FormData(e.target);
    history.replaceState(null, "", "/map/?" + query({ start: form.get("start"), end: form.get("end") }));
    load(form.get("start"), form.get("end"));
  });

  document.getElementById("where-date").addEventListener("change", function (e) {
    const day = e.target.value;
    if (!day) return;
    fetch("/api/where/?date=" + encodeURIComponent(day), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw new Error(body.detail || r.status); return body; }); })
      .then(function (w) {
        layers.where.clearLayers();
        const panel = document.getElementById("where-panel");
        panel.hidden = false;
        document.getElementById("where-title").textContent = "Where you were on " + w.date;
        const body = document.getElementById("where-body");
        if (!w.fixes && !w.stays.length) { body.innerHTML = "<p class='muted'>No location data for that day.</p>"; return; }
        if (w.path.length) L.polyline(w.path, { color: "#f59e0b", weight: 4 }).addTo(layers.where);
        let html = "<p>" + w.fixes + " fixes · " + w.distance_km + " km</p><ol class='events'>";
        w.stays.forEach(function (s) {
          L.circleMarker([s.lat, s.lon], { radius: 9, color: "#b45309", fillColor: "#f59e0b", fillOpacity: .9 })
            .bindPopup(escapeHtml(s.name || "Stay") + "<br>" + s.minutes + " min").addTo(layers.where);
          html += "<li><span class='time'>" + escapeHtml(window.datapunkTime.clock(s.started_at)) + "</span><span>" + s.minutes +
            " min</span><span>" + escapeHtml(s.name || (s.lat + ", " + s.lon)) + "</span></li>";
        });
        body.innerHTML = html + "</ol>";
        const b = w.path.concat(w.stays.map(function (s) { return [s.lat, s.lon]; }));
        if (b.length) map.fitBounds(b, { padding: [24, 24], maxZoom: 16 });
      })
      .catch(function (err) { document.getElementById("where-panel").hidden = false; document.getElementById("where-body").textContent = String(err.message || err); });
  });

  load(config.start, config.end);
})();
