// The planogram editor: facings drawn on a fridge camera's calibration picture, with a
// mouse or a finger (pointer events). Drag on the picture to draw a facing; tap one to
// select it; drag the corners of the selected facing to fit it; the form saves them all.
"use strict";
(function () {
  const root = document.getElementById("planogram");
  if (!root) return;
  const canvas = document.getElementById("planogram-canvas");
  const ctx = canvas.getContext("2d");
  const data = JSON.parse(document.getElementById("planogram-data").textContent);
  const editable = root.dataset.editable === "yes";
  const W = data.width, H = data.height;
  canvas.width = W;
  canvas.height = H;
  // Facings in picture pixels while editing; fractions when saved.
  let facings = data.facings.map((f) => ({
    sku: f.sku, shelf: f.shelf, position: f.position, capacity: f.capacity,
    points: f.polygon.map(([x, y]) => [x * W, y * H]),
  }));
  let selected = -1, drag = null;
  const picture = new Image();
  if (root.dataset.calibrated === "yes") {
    picture.onload = draw;
    picture.src = `/stock/${root.dataset.camera}/calibration.jpg`;
  }
  const field = (id) => document.getElementById(id);
  const handle = () => Math.max(8, W / 110);

  function draw() {
    ctx.clearRect(0, 0, W, H);
    if (picture.complete && picture.naturalWidth) ctx.drawImage(picture, 0, 0, W, H);
    else { ctx.fillStyle = "#e2e8f0"; ctx.fillRect(0, 0, W, H); }
    ctx.lineWidth = Math.max(2, W / 500);
    ctx.font = `${Math.round(W / 90)}px system-ui, sans-serif`;
    facings.forEach((f, i) => {
      ctx.beginPath();
      f.points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.fillStyle = i === selected ? "rgba(49,130,206,.25)" : "rgba(255,255,255,.12)";
      ctx.fill();
      ctx.strokeStyle = i === selected ? "#2b6cb0" : "#2f855a";
      ctx.stroke();
      const [x, y] = f.points[0];
      const label = `${f.shelf}.${f.position} ${f.sku} ×${f.capacity}`;
      ctx.fillStyle = "rgba(0,0,0,.65)";
      ctx.fillRect(x, y - W / 70, ctx.measureText(label).width + 8, W / 70);
      ctx.fillStyle = "#fff";
      ctx.fillText(label, x + 4, y - 4);
      if (i === selected && editable) {
        ctx.fillStyle = "#2b6cb0";
        f.points.forEach(([px, py]) => ctx.fillRect(px - handle() / 2, py - handle() / 2, handle(), handle()));
      }
    });
    if (drag && drag.kind === "new") {
      ctx.strokeStyle = "#c05621";
      ctx.setLineDash([8, 6]);
      ctx.strokeRect(drag.x0, drag.y0, drag.x1 - drag.x0, drag.y1 - drag.y0);
      ctx.setLineDash([]);
    }
    const count = field("planogram-count");
    if (count) count.textContent = `${facings.length} facing(s)`;
  }

  function at(ev) {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) / r.width) * W, ((ev.clientY - r.top) / r.height) * H];
  }

  function inside(pts, x, y) {
    let hit = false;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
      const [xi, yi] = pts[i], [xj, yj] = pts[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  function showSelected() {
    if (selected < 0) return;
    const f = facings[selected];
    field("facing-sku").value = f.sku;
    field("facing-shelf").value = f.shelf;
    field("facing-position").value = f.position;
    field("facing-capacity").value = f.capacity;
  }

  function nextPosition(shelf) {
    return facings.filter((f) => f.shelf === shelf).reduce((m, f) => Math.max(m, f.position), 0) + 1;
  }

  if (editable) {
    canvas.addEventListener("pointerdown", (ev) => {
      const [x, y] = at(ev);
      try { canvas.setPointerCapture(ev.pointerId); } catch (e) { /* not an active pointer */ }
      if (selected >= 0) {
        const k = facings[selected].points.findIndex(([px, py]) => Math.hypot(px - x, py - y) < handle() * 1.6);
        if (k >= 0) { drag = { kind: "corner", k }; return; }
      }
      const hit = facings.findIndex((f) => inside(f.points, x, y));
      if (hit >= 0) { selected = hit; showSelected(); drag = null; draw(); return; }
      selected = -1;
      drag = { kind: "new", x0: x, y0: y, x1: x, y1: y };
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      const [x, y] = at(ev);
      if (drag.kind === "corner") facings[selected].points[drag.k] = [Math.min(W, Math.max(0, x)), Math.min(H, Math.max(0, y))];
      else { drag.x1 = Math.min(W, Math.max(0, x)); drag.y1 = Math.min(H, Math.max(0, y)); }
      draw();
    });
    canvas.addEventListener("pointerup", () => {
      if (drag && drag.kind === "new") {
        const x0 = Math.min(drag.x0, drag.x1), x1 = Math.max(drag.x0, drag.x1);
        const y0 = Math.min(drag.y0, drag.y1), y1 = Math.max(drag.y0, drag.y1);
        if (x1 - x0 > W / 100 && y1 - y0 > H / 100) {
          const shelf = parseInt(field("facing-shelf").value, 10) || 1;
          let position = parseInt(field("facing-position").value, 10) || 1;
          if (facings.some((f) => f.shelf === shelf && f.position === position)) position = nextPosition(shelf);
          facings.push({
            sku: field("facing-sku").value, shelf, position,
            capacity: parseInt(field("facing-capacity").value, 10) || 1,
            points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
          });
          selected = facings.length - 1;
          field("facing-position").value = position + 1;
        }
      }
      drag = null;
      draw();
    });
    for (const [id, key, num] of [["facing-sku", "sku", false], ["facing-shelf", "shelf", true],
                                  ["facing-position", "position", true], ["facing-capacity", "capacity", true]]) {
      field(id).addEventListener("change", () => {
        if (selected < 0) return;
        const v = field(id).value;
        facings[selected][key] = num ? parseInt(v, 10) || 1 : v;
        draw();
      });
    }
    field("facing-delete").addEventListener("click", () => {
      if (selected >= 0) { facings.splice(selected, 1); selected = -1; draw(); }
    });
    field("planogram-form").addEventListener("submit", () => {
      field("planogram-facings").value = JSON.stringify(facings.map((f) => ({
        sku: f.sku, shelf: f.shelf, position: f.position, capacity: f.capacity,
        polygon: f.points.map(([x, y]) => [+(x / W).toFixed(5), +(y / H).toFixed(5)]),
      })));
    });
  }
  draw();
})();
