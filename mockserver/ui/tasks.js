// The tasks: a table of the newest, and one task in detail (spec, env, dependencies and
// dependents as links, its executions).

import { rpc } from "./api.js";
import { act, schedule } from "./app.js";
import { $, badge, counted, el, empty, patch, phaseName, shortId, signature, time } from "./dom.js";
import { state } from "./state.js";

const start = (taskId) => act("StartTask", () => rpc("StartTask", { id: taskId }));

export function taskName(task) {
  return task ? task.metadata?.name || task.metadata?.reference || task.id : "";
}

// A link to a task's detail; a real link (#task=ID), so it also opens in a new tab.
function taskLink(id, tasksById, cls) {
  const task = tasksById.get(id);
  return el(
    "a",
    {
      href: "#task=" + encodeURIComponent(id),
      class: cls || "task-link",
      title: id,
      dataset: { taskId: id },
      onclick: (event) => {
        event.preventDefault();
        showTask(id);
      },
    },
    taskName(task) || shortId(id),
  );
}

export function renderTasks(tasksById) {
  const tasks = state.overview.tasks;
  counted("tasks-count", tasks.length, state.overview.tasksTotal, "in total");
  if (!tasks.length) {
    patch($("tasks"), [empty("No tasks yet: create one with CreateTask and this token.")]);
    return;
  }
  const head = () =>
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["name", "reference", "command", "depends on", "environment", "created", ""].map((h) =>
          el("th", {}, h),
        ),
      ),
    );
  const rows = tasks.map((task) => {
    const deps = task.dependsOn || [];
    return {
      key: "t" + task.id,
      sig: signature(task, deps.map((id) => taskName(tasksById.get(id))), state.openTask === task.id),
      make: () => {
        const meta = task.metadata || {};
        return el(
          "tr",
          { dataset: { taskId: task.id }, class: state.openTask === task.id ? "selected" : "" },
          el("td", { class: "name" }, taskLink(task.id, tasksById)),
          el("td", {}, meta.reference || ""),
          el("td", {}, el("code", {}, task.spec?.command || "")),
          el("td", { class: "deps" }, deps.map((id, i) => [i ? ", " : "", taskLink(id, tasksById)])),
          el("td", {}, el("code", { title: task.environmentId }, shortId(task.environmentId))),
          el("td", {}, time(meta.createdAt)),
          el(
            "td",
            {},
            el("button", { type: "button", class: "start", onclick: () => start(task.id) }, "Start"),
          ),
        );
      },
    };
  });
  patch($("tasks"), [
    {
      key: "table",
      sig: undefined,
      make: () => el("table", {}, head(), el("tbody")),
      update: (table) => patch(table.tBodies[0], rows),
    },
  ]);
}

export function showTask(id) {
  state.openTask = id;
  if (state.overview) renderTaskDetail(new Map(state.overview.tasks.map((t) => [t.id, t])));
  $("task-detail").scrollIntoView({ block: "nearest" });
}

function closeTask() {
  state.openTask = null;
  $("task-detail").hidden = true;
  $("task-detail").replaceChildren();
  schedule(0); // the next poll redraws the task list without its highlight
}

export function renderTaskDetail(tasksById) {
  const box = $("task-detail");
  const id = state.openTask;
  if (!id) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const task = tasksById.get(id);
  const dependents = state.overview.tasks.filter((t) => (t.dependsOn || []).includes(id));
  const runs = state.overview.executions
    .filter((item) => item.execution.metadata?.taskId === id)
    .reverse();
  const sig = signature(
    id,
    task,
    (task?.dependsOn || []).map((d) => taskName(tasksById.get(d))),
    dependents.map((t) => [t.id, taskName(t)]),
    runs.map(({ execution }) => [execution.id, execution.status?.phase, execution.metadata]),
  );
  patch(box, [{ key: "detail", sig, make: () => taskDetail(id, task, tasksById, dependents, runs) }]);
}

function taskDetail(id, task, tasksById, dependents, runs) {
  const close = el("button", { type: "button", class: "close", onclick: closeTask, title: "close" }, "Close");
  if (!task) {
    return el(
      "div",
      {},
      el("h2", {}, "Task ", el("code", {}, shortId(id)), close),
      el("p", { class: "empty" }, `Task ${id} is not among the newest ${state.overview.tasks.length} tasks of this tenant (or was deleted).`),
    );
  }
  const meta = task.metadata || {};
  const spec = task.spec || {};
  const field = (name, ...value) => [el("dt", {}, name), el("dd", {}, value)];
  const runsOn = spec.runsOn?.docker
    ? ["docker ", el("code", {}, spec.runsOn.docker.image || ""),
       (spec.runsOn.docker.environment || []).length ? ` (${spec.runsOn.docker.environment.join(", ")})` : ""]
    : spec.runsOn?.machine ? "machine" : "–";
  const env = spec.env || [];
  const triggers = (meta.triggeredBy || []).map((t) => Object.keys(t).join(" ")).join(", ");
  const links = (ids) =>
    ids.length ? ids.map((d, i) => [i ? ", " : "", taskLink(d, tasksById, "task-link dep")]) : "none";
  return el(
    "div",
    { dataset: { taskId: id } },
    el("h2", {}, "Task ", el("span", { class: "detail-name" }, taskName(task)), close),
    el(
      "dl",
      {},
      field("id", el("code", {}, id)),
      field("reference", meta.reference || ""),
      meta.description && field("description", meta.description),
      field("environment", el("code", {}, task.environmentId || "")),
      field("created", (meta.createdAt || "").replace("T", " ").replace("Z", " UTC")),
      field("runs on", runsOn),
      triggers && field("triggered by", triggers),
      field("depends on", el("span", { class: "depends-on" }, links(task.dependsOn || []))),
      field("needed by", el("span", { class: "needed-by" }, links(dependents.map((t) => t.id)))),
    ),
    el("h3", {}, "command"),
    el("pre", { class: "command" }, spec.command || ""),
    el("h3", {}, `env (${env.length})`),
    env.length
      ? el(
          "table",
          { class: "env" },
          el("tbody", {}, env.map((item) =>
            el(
              "tr",
              {},
              el("td", {}, el("code", {}, item.name)),
              el("td", {}, item.valueFrom?.secretRef
                ? ["secret ", el("code", {}, item.valueFrom.secretRef.id || "")]
                : el("code", {}, item.value ?? "")),
            ),
          )),
        )
      : el("p", { class: "empty" }, "none"),
    el("h3", {}, `executions (${runs.length}${state.overview.executions.length < state.overview.executionsTotal ? ", among the newest shown" : ""})`),
    runs.length
      ? el(
          "ul",
          { class: "runs" },
          runs.map(({ execution }) => {
            const phase = phaseName(execution.status?.phase);
            return el(
              "li",
              { dataset: { executionId: execution.id } },
              badge(phase),
              " ",
              el("a", {
                href: "#",
                title: execution.id,
                onclick: (event) => {
                  event.preventDefault();
                  const card = document.querySelector(`article.execution[data-execution-id="${CSS.escape(execution.id)}"]`);
                  if (card) card.scrollIntoView({ block: "center" });
                },
              }, shortId(execution.id)),
              el("span", { class: "muted" }, " created " + time(execution.metadata?.createdAt)),
            );
          }),
        )
      : el("p", { class: "empty" }, "Never started."),
    el("div", { class: "buttons" },
      el("button", { type: "button", class: "start", onclick: () => start(id) }, "Start")),
  );
}
