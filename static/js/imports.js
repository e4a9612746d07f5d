// Import pages: live progress from the websocket feed, and resumable chunked uploads.
(function () {
  "use strict";
  const CHUNK = 8 * 1024 * 1024;
  const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";

  function connectFeed() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/feed/`);
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "import.progress" || message.type === "import.finished") show(message.data);
    };
    // What happened before this socket joined the feed (the page was rendered
    // earlier, or the socket was down) is never sent again: read where each
    // unfinished import shown here is now. A small import can finish while its
    // page is still being rendered.
    socket.onopen = () => {
      document.querySelectorAll("[data-import]").forEach(async (el) => {
        const status = el.querySelector(".status");
        if (!status || !["pending", "running"].includes(status.textContent.trim())) return;
        const now = await api("GET", `/api/imports/${el.dataset.import}/progress/`).catch(() => null);
        if (now && now.ok) show(now.data);
      });
    };
    socket.onclose = () => setTimeout(connectFeed, 3000);
  }

  let leaving = false; // set once the page navigates to a new import

  function show(p) {
    document.querySelectorAll(`[data-import="${p.import_id}"]`).forEach((el) => {
      const set = (sel, value) => el.querySelectorAll(sel).forEach((n) => (n.textContent = value));
      set(".written", p.records_written);
      set(".duplicate", p.records_duplicate);
      set(".quarantined", p.records_quarantined);
      set(".members", p.members_done);
      set(".current", p.current ? `reading ${p.current}` : "");
      el.querySelectorAll(".status").forEach((n) => { n.textContent = p.status; n.className = `status status-${p.status}`; });
      el.querySelectorAll("progress").forEach((n) => (n.value = p.bytes_total ? p.bytes_done / p.bytes_total : 0));
    });
    if (p.status === "done" || p.status === "failed") {
      // A new import on the list, or a detail page whose summary table is now final.
      // Not while the page is on its way to the new import's page: a reload then
      // would cancel that navigation (a small import can finish that quickly).
      if (!leaving && (!document.querySelector(`[data-import="${p.import_id}"]`) || document.querySelector(`[data-detail="${p.import_id}"]`))) {
        location.reload();
      }
    }
  }

  async function api(method, url, body, headers) {
    const response = await fetch(url, {
      method, body, credentials: "same-origin",
      headers: Object.assign({ "X-CSRFToken": csrf, Accept: "application/json" }, headers || {}),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  async function sha256Hex(file) {
    // Whole-file digest in the browser; fine for parts up to a few GB.
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function uploadPart(file, say) {
    say(`${file.name}: computing checksum…`);
    const sha256 = await sha256Hex(file);
    let created = await api("POST", "/api/uploads/", JSON.stringify({ filename: file.name, size: file.size, sha256 }),
      { "Content-Type": "application/json" });
    if (!created.ok) throw new Error(JSON.stringify(created.data));
    const id = created.data.id;
    let offset = 0;
    while (offset < file.size) {
      const chunk = file.slice(offset, offset + CHUNK);
      const sent = await api("PUT", `/api/uploads/${id}/chunk/`, chunk,
        { "Content-Type": "application/octet-stream", "Upload-Offset": String(offset) }).catch(() => null);
      if (sent && sent.ok) { offset = sent.data.received; }
      else {
        // Dropped or refused: ask the server where it is and go on from there.
        await new Promise((r) => setTimeout(r, 2000));
        const state = await api("GET", `/api/uploads/${id}/`);
        if (!state.ok) throw new Error(JSON.stringify(state.data));
        offset = state.data.received;
      }
      say(`${file.name}: ${Math.round((100 * offset) / file.size)} %`);
    }
    let done = await api("POST", `/api/uploads/${id}/complete/`);
    if (!done.ok) throw new Error(done.data.detail || JSON.stringify(done.data));
    // 202: a worker hashes the file (the server lost its running checksum); wait for it.
    while (done.data.status === "verifying") {
      say(`${file.name}: checking the checksum…`);
      await new Promise((r) => setTimeout(r, 2000));
      done = await api("GET", `/api/uploads/${id}/`);
      if (!done.ok) throw new Error(JSON.stringify(done.data));
    }
    if (done.data.status !== "complete") throw new Error(done.data.problem || JSON.stringify(done.data));
    return id;
  }

  const button = document.getElementById("upload");
  if (button) {
    button.addEventListener("click", async () => {
      const status = document.getElementById("upload-status");
      const say = (text) => (status.textContent = text);
      const files = Array.from(document.getElementById("parts").files);
      if (!files.length) return say("Choose the archive parts first.");
      button.disabled = true;
      try {
        const ids = [];
        for (const file of files) ids.push(await uploadPart(file, say));
        const started = await api("POST", "/api/imports/", JSON.stringify({ uploads: ids }), { "Content-Type": "application/json" });
        if (!started.ok) throw new Error(started.data.detail || JSON.stringify(started.data));
        leaving = true;
        location.href = `/imports/${started.data.id}/`;
      } catch (error) {
        say(`Upload failed: ${error.message}`);
      } finally {
        button.disabled = false;
      }
    });
  }
  connectFeed();
})();
