// Live updates on every signed-in page: server-sent events update the dashboard's door and
// health tiles and show a cold-chain alarm as it opens or clears, without a reload.
// The pages work without it; this only saves the manager from refreshing.
"use strict";
(function () {
  if (!window.EventSource) return;
  const source = new EventSource("/events");
  // The session ended (signed out elsewhere, password changed, account disabled).
  source.addEventListener("signedout", () => {
    source.close();
    window.location.assign("/login");
  });
  source.addEventListener("door", (event) => {
    const data = JSON.parse(event.data);
    const today = document.getElementById("doors-today");
    const state = document.getElementById("door-state");
    if (today) today.textContent = String(data.openings_today);
    if (state) state.textContent = data.state;
  });
  source.addEventListener("health", (event) => {
    const data = JSON.parse(event.data);
    const overall = document.getElementById("overall");
    if (overall) {
      overall.textContent = data.overall;
      overall.className = "n state-" + data.overall;
    }
  });
  source.addEventListener("alarm", (event) => {
    const data = JSON.parse(event.data);
    const banner = document.getElementById("live-alarm");
    if (!banner) return;
    const what = data.change === "close" ? "cleared" : data.level.toUpperCase();
    banner.textContent = "";
    const text = document.createElement("span");
    text.textContent = `${what}: ${data.subject} ${data.rule.replace(/_/g, " ")}: ${data.message} `;
    const link = document.createElement("a");
    link.href = "/alerts";
    link.textContent = "see alerts";
    banner.append(text, link);
    banner.className = data.change === "close" ? "message" : "error";
    banner.hidden = false;
  });
})();

// The 72-hour breach countdowns: the server says how many seconds were left when it
// drew the page; this keeps them counting without reloading.
(() => {
  const started = Date.now();
  const tick = () => {
    for (const el of document.querySelectorAll(".countdown[data-left]")) {
      const left = Number(el.dataset.left) - (Date.now() - started) / 1000;
      const abs = Math.abs(left);
      const h = Math.floor(abs / 3600);
      const m = Math.floor((abs % 3600) / 60);
      el.textContent = left > 0 ? `${h} h ${String(m).padStart(2, "0")} min left` : `${h} h ${String(m).padStart(2, "0")} min overdue`;
      el.classList.toggle("state-error", left <= 86400);
    }
  };
  tick();
  setInterval(tick, 30000);
})();
