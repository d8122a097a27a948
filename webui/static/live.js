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
