// A task's page follows its task with TaskAPI and shows each change as the server renders it.
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("task-live");
  if (!live || !window.TaskAPI || !window.htmx) return;
  const shown = live.querySelector("[data-status]").dataset.status;
  if (["SUCCESS", "ERROR", "CANCELLED"].includes(shown)) return;
  let running = false;
  let again = false;
  // Changes come faster than a page needs them: one refresh at a time, then one more if
  // anything changed meanwhile, so that the last change is always shown.
  const update = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    do {
      again = false;
      // Through htmx, so that the new part is set up as the first was (times in the
      // reader's zone, confirmations).
      await htmx.ajax("GET", live.dataset.live, { target: live, swap: "innerHTML" });
    } while (again);
    running = false;
  };
  TaskAPI.follow(live.dataset.task, update).done.then(update, update);
});
