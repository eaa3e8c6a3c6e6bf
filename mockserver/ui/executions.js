// The executions: a card each, with its phase, times, a timeline of its steps and its logs.

import { rpc } from "./api.js";
import { act, schedule } from "./app.js";
import { $, appendText, badge, counted, el, empty, millis, patch, phaseName, shortId, signature, time } from "./dom.js";
import { state, TERMINAL } from "./state.js";
import { taskName } from "./tasks.js";

export function renderExecutions(tasksById) {
  const items = state.overview.executions.slice().reverse();
  counted("executions-count", items.length, state.overview.executionsTotal, "in total");
  if (!items.length) {
    patch($("executions"), [empty("No executions yet: start a task.")]);
    return;
  }
  patch(
    $("executions"),
    items.map((item) => ({
      key: "x" + item.execution.id,
      sig: undefined, // the card stays; its parts are patched
      make: () =>
        el("article", { class: "execution", dataset: { executionId: item.execution.id } }),
      update: (card) => patchExecution(card, item, tasksById),
    })),
  );
}

function patchExecution(card, { execution, steps }, tasksById) {
  const meta = execution.metadata || {};
  const status = execution.status || {};
  const phase = phaseName(status.phase);
  const plan = (execution.spec?.plan || []).flatMap((group) => group.steps || []);
  const last = plan[plan.length - 1];
  const name = taskName(tasksById.get(meta.taskId)) || last?.label || meta.taskId;
  const open = state.openLogs.has(execution.id);
  const running = !TERMINAL.has(phase);
  card.dataset.phase = phase;
  const times = [
    "created " + time(meta.createdAt),
    meta.startedAt && "started " + time(meta.startedAt),
    meta.completedAt && "completed " + time(meta.completedAt),
    "statusVersion " + status.statusVersion,
  ]
    .filter(Boolean)
    .join(" · ");
  const log = state.openLogs.get(execution.id) || "(no lines yet)";
  patch(card, [
    {
      key: "row",
      sig: signature(phase, name, open, running),
      make: () =>
        el(
          "div",
          { class: "row" },
          badge(phase),
          el("strong", {}, name),
          el("code", { title: execution.id }, shortId(execution.id)),
          el(
            "span",
            { class: "actions" },
            running &&
              el("button", { type: "button", class: "stop", onclick: () => stop(execution.id) }, "Stop"),
            el(
              "button",
              { type: "button", class: "logs", onclick: () => toggleLogs(execution.id) },
              open ? "Hide logs" : "Logs",
            ),
          ),
        ),
    },
    { key: "times", sig: times, make: () => el("div", { class: "times muted" }, times) },
    status.failureMessage && {
      key: "failure",
      sig: status.failureMessage,
      make: () => el("p", { class: "failure" }, status.failureMessage),
    },
    {
      // A running execution's bars grow with the clock; a finished one's stay.
      key: "timeline",
      sig: signature(execution.status, steps, running ? state.overview.now : ""),
      make: () => renderTimeline(execution, plan, steps),
    },
    open && {
      key: "log",
      sig: undefined,
      make: () => el("pre", { class: "log" }),
      update: (pre) => appendText(pre, log),
    },
  ]);
}

function renderTimeline(execution, plan, steps) {
  const meta = execution.metadata || {};
  const start = millis(meta.createdAt);
  const end = millis(meta.completedAt || state.overview.now);
  const span = Math.max(end - start, 1);
  const times = new Map(steps.map((s) => [s.id, s]));
  const phases = new Map((execution.status?.steps || []).map((s) => [s.id, phaseName(s.phase)]));
  const bar = (from, to, cls, title) => {
    const node = el("div", { class: "bar " + cls, title });
    node.style.left = `${(100 * (from - start)) / span}%`;
    node.style.width = `${Math.max((100 * (to - from)) / span, 0.5)}%`;
    return node;
  };
  const lane = (label, phase, barNode) =>
    el(
      "div",
      { class: "lane" },
      el("span", { class: "label", title: label }, label),
      el("div", { class: "track" }, barNode),
      el("span", { class: "step-phase" }, phase),
    );
  const runningFrom = millis(meta.startedAt || meta.completedAt || state.overview.now);
  const lanes = [
    lane("pending", "", bar(start, runningFrom, "phase-PENDING", "pending until " + time(meta.startedAt))),
  ];
  for (const step of plan) {
    const seen = times.get(step.id);
    const phase = phases.get(step.id) || "not started";
    const label = step.label || shortId(step.task?.id);
    const node = seen
      ? bar(
          millis(seen.startedAt),
          millis(seen.endedAt || state.overview.now),
          "phase-" + phase,
          `${time(seen.startedAt)} – ${seen.endedAt ? time(seen.endedAt) : "now"}`,
        )
      : null;
    lanes.push(lane(label, phase, node));
  }
  return el("div", { class: "timeline" }, lanes);
}

const stop = (executionId) =>
  act("StopTaskExecution", () => rpc("StopTaskExecution", { id: executionId }));

function toggleLogs(executionId) {
  if (state.openLogs.has(executionId)) state.openLogs.delete(executionId);
  else state.openLogs.set(executionId, "");
  schedule(0);
}
