// The region editor: select a region by clicking it (its fields get the focus), drag over the
// page to draw a box into the selected region's fields or the new region's, then save.
(function () {
  "use strict";
  const editor = document.querySelector("[data-editor]");
  if (!editor) return;
  const svg = editor.querySelector("[data-surface]");
  const drawing = editor.querySelector("[data-drawing]");
  const newForm = document.querySelector("[data-new]");
  let target = newForm;
  let start = null;

  function point(event) {
    const matrix = svg.getScreenCTM().inverse();
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix);
    const box = svg.viewBox.baseVal;
    return { x: Math.min(Math.max(p.x, 0), box.width), y: Math.min(Math.max(p.y, 0), box.height) };
  }
  function select(key) {
    document.querySelectorAll("[data-region]").forEach((g) => g.classList.toggle("selected", g.dataset.region === key));
    const row = key && document.querySelector(`[data-form-for="${key}"] form`);
    target = row || newForm;
    if (row) row.querySelector("input[name=x]").focus();
  }
  function fill(form, x, y, w, h) {
    const values = { x: x, y: y, w: w, h: h };
    Object.keys(values).forEach((name) => { form.elements[name].value = Math.round(values[name]); });
  }
  svg.querySelectorAll("[data-region]").forEach((g) => {
    g.addEventListener("pointerdown", (event) => { event.stopPropagation(); select(g.dataset.region); });
    g.addEventListener("keydown", (event) => { if (event.key === "Enter") select(g.dataset.region); });
  });
  svg.addEventListener("pointerdown", (event) => {
    start = point(event);
    svg.setPointerCapture(event.pointerId);
    drawing.hidden = false;
  });
  svg.addEventListener("pointermove", (event) => {
    if (!start) return;
    const p = point(event);
    drawing.setAttribute("x", Math.min(start.x, p.x));
    drawing.setAttribute("y", Math.min(start.y, p.y));
    drawing.setAttribute("width", Math.abs(p.x - start.x));
    drawing.setAttribute("height", Math.abs(p.y - start.y));
  });
  svg.addEventListener("pointerup", (event) => {
    if (!start) return;
    const p = point(event);
    const w = Math.abs(p.x - start.x);
    const h = Math.abs(p.y - start.y);
    if (w >= 2 && h >= 2) {
      fill(target, Math.min(start.x, p.x), Math.min(start.y, p.y), w, h);
      target.querySelector("button[value=adjust], button[value=draw]").focus();
    } else {
      drawing.hidden = true;
      select(null);
    }
    start = null;
  });
})();
