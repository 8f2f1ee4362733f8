// TaskAPI: start background tasks and follow them from a page of the app.
//
//   TaskAPI.run(name, inputs, onProgress) -> Promise of the task's outputs
//     onProgress(progress, task) is called at each change: progress is {current, target,
//     fraction, text}. The promise rejects with a TaskAPI.TaskError: `fields` holds a message
//     per bad input when the start was refused (400), `task` the task when it failed or was
//     cancelled.
//   TaskAPI.start(name, inputs), TaskAPI.get(id), TaskAPI.cancel(id) -> Promise of the task
//   TaskAPI.follow(id, onUpdate) -> {done: Promise of the ended task, stop()}
//
// A task is followed through its live stream (Server-Sent Events); where the stream cannot
// be had (no EventSource, a proxy that cuts it, too many pages open) it is polled instead.
(function (global) {
  "use strict";

  const BASE = "/api/v1/tasks/";
  const POLL_MS = 1000;
  const ENDED = new Set(["SUCCESS", "ERROR", "CANCELLED"]);

  class TaskError extends Error {
    constructor(message, { status = 0, fields = {}, task = null } = {}) {
      super(message);
      this.name = "TaskError";
      this.status = status;
      this.fields = fields;
      this.task = task;
    }
  }

  function csrfToken() {
    const meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  async function request(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new TaskError("The server could not be reached: " + error.message);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      throw new TaskError((data && data.message) || response.statusText, {
        status: response.status,
        fields: (data && data.fields) || {},
      });
    }
    return data;
  }

  const taskPath = (id) => BASE + encodeURIComponent(id);
  const start = (name, inputs) => request("POST", BASE, { name, inputs: inputs || {} });
  const get = (id) => request("GET", taskPath(id));
  const cancel = (id) => request("POST", taskPath(id) + "/cancel");

  function follow(id, onUpdate) {
    let stopped = false;
    let source = null;
    let timer = null;
    let settle;
    const done = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });

    function stop() {
      stopped = true;
      if (source) source.close();
      if (timer) clearTimeout(timer);
    }

    function seen(task) {
      if (stopped) return;
      if (onUpdate) onUpdate(task);
      if (ENDED.has(task.status)) {
        stop();
        settle.resolve(task);
      }
    }

    async function poll() {
      if (stopped) return;
      try {
        seen(await get(id));
      } catch (error) {
        if (error.status === 404 || error.status === 401) {
          stop();
          settle.reject(error);
          return;
        }
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    }

    if (typeof EventSource === "undefined") {
      poll();
    } else {
      let opened = false;
      source = new EventSource(taskPath(id) + "/stream");
      source.addEventListener("open", () => {
        opened = true;
      });
      source.addEventListener("task", (event) => seen(JSON.parse(event.data)));
      source.addEventListener("end", () => {
        if (source) source.close();
      });
      source.onerror = () => {
        // A stream that ran and ended on its own (its lifetime is up) is reconnected by the
        // browser; one that could not be opened, or that the server refused, is replaced
        // by polling.
        if (stopped) return;
        if (opened && source.readyState !== EventSource.CLOSED) {
          opened = false;
          return;
        }
        source.close();
        source = null;
        poll();
      };
    }
    return { done, stop };
  }

  async function run(name, inputs, onProgress) {
    const started = await start(name, inputs);
    const ended = await follow(started.id, (task) => {
      if (onProgress) onProgress(task.progress, task);
    }).done;
    if (ended.status === "SUCCESS") return ended.outputs || {};
    const message =
      ended.status === "CANCELLED"
        ? ended.message || "The task was cancelled."
        : ended.error || "The task failed.";
    throw new TaskError(message, { task: ended });
  }

  global.TaskAPI = { run, start, get, cancel, follow, TaskError };
})(window);
