// The owner's pages: a masked PII value (a card number, an id) is revealed on click
// through the audited reveal endpoint (apps/privacy/pii/on_screen.py). A static file:
// the Content-Security-Policy allows only our own scripts.
(function () {
  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const cookie = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return cookie ? decodeURIComponent(cookie[1]) : "";
  }

  async function reveal(button) {
    const mark = button.closest("mark.pii-masked");
    button.disabled = true;
    const response = await fetch(`/api/privacy/events/${button.dataset.event}/reveal/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ field: button.dataset.field }),
    });
    if (!response.ok) {
      button.disabled = false;
      button.textContent = "could not reveal";
      mark.dataset.revealed = "failed";
      return;
    }
    const body = await response.json();
    // Offsets are code points (Python's str), not UTF-16 units: slice an array of them.
    const value = Array.from(body.value)
      .slice(Number(button.dataset.start), Number(button.dataset.end))
      .join("");
    mark.textContent = value; // the value alone: the placeholder and the button go
    mark.classList.remove("pii-masked");
    mark.dataset.revealed = "true";
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.pii-reveal");
    if (!button) return;
    event.preventDefault();
    reveal(button);
  });
})();
