// Privacy page: start an export and follow it on the live feed; delete my data.
(function () {
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const post = (url, body) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });
  const exportStatus = document.getElementById("export-status");
  const deleteStatus = document.getElementById("delete-status");

  function listen() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/feed/`);
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      const data = message.data || {};
      if (message.type === "export.progress") {
        exportStatus.textContent = `export ${data.export_id}: ${data.tables_done}/${data.tables_total} tables, ${data.rows_written} rows`;
      } else if (message.type === "export.finished" || message.type === "delete.finished") {
        location.reload();
      }
    };
    socket.onclose = () => setTimeout(listen, 3000);
  }
  listen();

  document.getElementById("export").addEventListener("click", async () => {
    const response = await post("/api/privacy/exports/");
    const body = await response.json();
    exportStatus.textContent = response.ok ? `export ${body.id} queued` : JSON.stringify(body);
  });

  document.getElementById("delete-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { delete_account: form.get("delete_account") === "on" };
    if (form.has("password")) body.password = form.get("password");
    if (form.has("confirm")) body.confirm = form.get("confirm");
    if (!confirm("Delete all your data? This cannot be undone.")) return;
    const response = await post("/api/privacy/delete/", body);
    const answer = await response.json();
    deleteStatus.textContent = response.ok ? "Deleting… this page reloads when it is done." : Object.values(answer).join(" ");
  });
})();
