// Live dashboard: server-sent events update the door and health tiles without a reload.
// The page works without it; this only saves the manager from refreshing.
"use strict";
(function () {
  if (!window.EventSource) return;
  const source = new EventSource("/events");
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
})();
