// The live feed page: new events and import progress from /ws/feed/, and the ingest key button.
(function () {
  "use strict";
  const list = document.getElementById("feed-events");
  const imports = document.getElementById("feed-imports");
  const state = document.getElementById("feed-state");
  const KEEP = 200; // rows kept on the page; older ones drop off the bottom

  function eventRow(e) {
    const li = document.createElement("li");
    li.dataset.event = e.id;
    li.className = "fresh";
    const time = document.createElement("time");
    time.dateTime = e.occurred_at;
    time.textContent = window.datapunkTime.format(e.occurred_at); // the user's zone, not UTC
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = e.kind;
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = e.title; // textContent: event text is data, never markup
    li.append(time, " ", kind, " ", title);
    return li;
  }

  function showEvents(data) {
    list.querySelectorAll(".empty").forEach((n) => n.remove());
    for (const e of data.events || []) {
      if (!list.querySelector(`[data-event="${e.id}"]`)) list.prepend(eventRow(e));
    }
    if (data.more) {
      const note = document.createElement("li");
      note.className = "muted";
      note.textContent = `… and ${data.more} more from ${data.source}`;
      list.prepend(note);
    }
    while (list.children.length > KEEP) list.lastElementChild.remove();
  }

  function showImport(p) {
    imports.querySelectorAll(".empty").forEach((n) => n.remove());
    let row = imports.querySelector(`[data-import="${p.import_id}"]`);
    if (!row) {
      row = document.createElement("div");
      row.dataset.import = p.import_id;
      row.innerHTML = '<a></a> <span class="status"></span> <progress max="1"></progress> <span class="written"></span> written <span class="current muted"></span>';
      row.querySelector("a").href = `/imports/${p.import_id}/`;
      row.querySelector("a").textContent = `Import ${p.import_id}`;
      imports.append(row);
    }
    row.querySelector(".status").textContent = p.status;
    row.querySelector(".status").className = `status status-${p.status}`;
    row.querySelector("progress").value = p.bytes_total ? p.bytes_done / p.bytes_total : 0;
    row.querySelector(".written").textContent = p.records_written;
    row.querySelector(".current").textContent = p.current ? `reading ${p.current}` : "";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/feed/`);
    socket.onopen = () => { state.textContent = "live"; state.dataset.state = "live"; };
    socket.onmessage = (message) => {
      const m = JSON.parse(message.data);
      if (m.type === "records.stored") showEvents(m.data);
      else if (m.type === "import.progress" || m.type === "import.finished") showImport(m.data);
    };
    socket.onclose = () => {
      state.textContent = "reconnecting…";
      state.dataset.state = "closed";
      setTimeout(connect, 3000);
    };
  }

  const rotate = document.getElementById("rotate-key");
  rotate.addEventListener("click", async () => {
    const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
    const response = await fetch("/api/ingest/key/", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    });
    const data = await response.json();
    const box = document.getElementById("issued-key");
    box.hidden = false;
    box.querySelector(".api-key").textContent = data.api_key;
    box.querySelector(".secret").textContent = data.secret;
    box.querySelector(".example").textContent =
      `curl -X POST ${location.origin}/api/ingest/events/ \\\n  -H 'Authorization: Bearer ${data.api_key}' \\\n` +
      `  -H 'Content-Type: application/json' \\\n  -d '{"kind": "mood.logged", "occurred_at": "${new Date().toISOString()}", "title": "Feeling fine"}'`;
  });

  connect();
})();
