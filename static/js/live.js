// Live pages: times in the reader's own zone, each user's CSRF token in forms that came through
// a shared live stream, and polling when the stream cannot be held open.
(function () {
  "use strict";

  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (node) {
      const moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment)) return;
      node.textContent = node.dataset.local === "time"
        ? moment.toLocaleTimeString()
        : moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      node.title = moment.toISOString();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:load", function (event) { localTimes(event.target); });
  // Streamed fragments are rendered once for every watcher: the token is this page's.
  document.addEventListener("submit", function (event) {
    const input = event.target.querySelector("input[name=csrf_token]");
    const meta = document.querySelector("meta[name=csrf-token]");
    if (input && !input.value && meta) input.value = meta.content;
  }, true);

  // A new treatment's row is added once: a list that has it already (it was loaded after the
  // treatment was made) only updates it.
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (event.detail.type !== "new-row") return;
    const found = /id="(row-[^"]+)"/.exec(event.detail.data || "");
    if (found && document.getElementById(found[1])) event.preventDefault();
  });

  // Two errors without an open in between: the stream is blocked (a proxy, a firewall), not
  // merely ended by the server. Poll the same fragments instead, until the server says stop.
  const failures = new WeakMap();
  document.addEventListener("htmx:sseOpen", function (event) { failures.set(event.target, 0); });
  document.addEventListener("htmx:sseError", function (event) {
    const live = event.target;
    const count = (failures.get(live) || 0) + 1;
    failures.set(live, count);
    if (count < 2 || !live.dataset.poll) return;
    live.removeAttribute("sse-connect");
    event.detail.source.close();
    live.setAttribute("hx-get", live.dataset.poll);
    live.setAttribute("hx-trigger", "load, every 2s");
    live.setAttribute("hx-target", live.dataset.pollTarget || "this");
    live.setAttribute("hx-swap", "innerHTML");
    live.dataset.polling = "true";
    htmx.process(live);
  });
})();
