// Page viewer: open a page large, zoom with buttons or the wheel, step through pages.
(function () {
  "use strict";
  const root = document.querySelector("[data-viewer]");
  if (!root) return;
  const stage = root.querySelector("[data-stage]");
  const canvas = root.querySelector("[data-canvas]");
  const image = root.querySelector("[data-image]");
  const caption = root.querySelector("[data-caption]");
  const links = Array.from(root.querySelectorAll("[data-page]"));
  let index = 0;
  let scale = 1;
  let fitScale = 1;

  function apply() {
    image.style.width = Math.round(image.naturalWidth * scale) + "px";
  }
  function fit() {
    if (!image.naturalWidth) return;
    fitScale = Math.min(canvas.clientWidth / image.naturalWidth, canvas.clientHeight / image.naturalHeight, 1);
    scale = fitScale;
    apply();
  }
  function open(i) {
    index = (i + links.length) % links.length;
    const link = links[index];
    caption.textContent = link.dataset.caption;
    image.onload = fit;
    image.src = link.dataset.large;
    stage.hidden = false;
    history.replaceState(null, "", "#p" + (index + 1));
  }
  function zoom(direction) {
    if (direction === 0) return fit();
    scale = Math.max(fitScale / 2, Math.min(scale * (direction > 0 ? 1.5 : 1 / 1.5), 4));
    if (scale > 1 && !image.src.endsWith("/max/0/default.jpg")) {
      image.onload = apply;
      image.src = links[index].href;
    }
    apply();
  }
  links.forEach(function (link, i) {
    link.addEventListener("click", function (event) { event.preventDefault(); open(i); });
  });
  root.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () { zoom(Number(b.dataset.zoom)); });
  });
  root.querySelectorAll("[data-step]").forEach(function (b) {
    b.addEventListener("click", function () { open(index + Number(b.dataset.step)); });
  });
  root.querySelector("[data-close]").addEventListener("click", function () { stage.hidden = true; });
  canvas.addEventListener("wheel", function (event) {
    if (!event.ctrlKey) return;
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1 : -1);
  }, { passive: false });
  document.addEventListener("keydown", function (event) {
    if (stage.hidden) return;
    if (event.key === "Escape") stage.hidden = true;
    if (event.key === "ArrowRight") open(index + 1);
    if (event.key === "ArrowLeft") open(index - 1);
    if (event.key === "+") zoom(1);
    if (event.key === "-") zoom(-1);
  });
})();
