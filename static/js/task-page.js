// A task's page follows its task with TaskAPI and shows each change as the server renders it.
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("task-live");
  if (!live || !window.TaskAPI) return;
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
      const response = await fetch(live.dataset.live, { credentials: "same-origin" });
      if (response.ok || response.status === 286) live.innerHTML = await response.text();
    } while (again);
    running = false;
  };
  TaskAPI.follow(live.dataset.task, update).done.then(update, update);
});
