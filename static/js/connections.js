// Connections page: status changes (synced, needs consent) arrive over the live feed.
(function () {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/feed/`);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type !== "connector.status") return;
    const data = message.data;
    const box = document.getElementById(`connection-${data.connection_id}`);
    if (box) box.querySelector(".status").textContent = data.status.replace("_", " ");
    const synced = box && box.querySelector(".last-sync");
    if (synced && data.last_sync_at) {
      synced.dateTime = data.last_sync_at;
      synced.textContent = window.datapunkTime.format(data.last_sync_at); // the user's zone
    }
    document.getElementById("connector-live").textContent = data.message || "";
  };
})();
