// Open Mirador on the page's manifest, at its canvas; a regions manifest shows its regions drawn
// over the pages and listed beside them.
(function () {
  "use strict";
  const root = document.getElementById("mirador");
  if (!root || !window.Mirador) return;
  const annotations = root.dataset.annotations === "true";
  const opened = { manifestId: root.dataset.manifest };
  if (root.dataset.canvas) opened.canvasId = root.dataset.canvas;
  window.scriptoriumMirador = Mirador.viewer({
    id: "mirador",
    windows: [opened],
    window: {
      allowClose: false,
      allowMaximize: false,
      highlightAllAnnotations: annotations,
      sideBarOpen: annotations,
      defaultSideBarPanel: annotations ? "annotations" : "info",
    },
    workspaceControlPanel: { enabled: false },
  });
})();
