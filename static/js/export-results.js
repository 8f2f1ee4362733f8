// A document set's "Export results": runs the export_results task through TaskAPI, shows
// its progress, then the zip to download (or why there is none).
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("export-results");
  if (!box || !window.TaskAPI) return;
  const button = box.querySelector("button[data-export]");
  const bar = box.querySelector("progress");
  const status = box.querySelector("[data-export-status]");
  const result = box.querySelector("[data-export-result]");
  const path = (url) => new URL(url, window.location.href).pathname;

  const link = (href, text, download) => {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (download) {
      a.className = "button primary";
      a.setAttribute("download", "");
    }
    return a;
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    box.dataset.state = "running";
    bar.hidden = false;
    bar.value = 0;
    result.replaceChildren();
    status.textContent = "Starting…";
    let last = null;
    try {
      const outputs = await TaskAPI.run(
        "export_results",
        { document_set: Number(box.dataset.set) },
        (progress, task) => {
          last = task;
          bar.value = Math.round(progress.fraction * 100);
          status.textContent = `${task.status_label}: ${progress.text}`;
        },
      );
      const zip = last.artifacts.find((a) => a.kind === "file");
      status.textContent = `Ready: ${outputs.treatments.length} treatments, ${outputs.files} files.`;
      result.append(link(path(zip.download), `Download ${zip.name}`, true));
    } catch (error) {
      const fields = Object.values(error.fields || {}).flat();
      status.textContent = [error.message, ...fields].join(" ");
      if (error.task) result.append(link(path(error.task.page), "See the task", false));
    } finally {
      button.disabled = false;
      box.dataset.state = "ended";
    }
  });
});
