// The fake's web view: plain JavaScript, no build step, no third-party code.
//
// Everything the page shows comes from the control API and the Ona API with the tenant's
// bearer token, so the page follows the rules any client follows. The token lives in this
// tab's sessionStorage only; it is sent in the Authorization header, never in a URL.
// User data reaches the document only as text nodes or attribute values (never as HTML),
// and the server's Content-Security-Policy runs no script but this file.
//
// The page polls once a second, and each poll changes only what changed: every list is
// keyed (an execution, a task, a journal entry keeps its element while it is shown), and
// an element is built again only when what it shows differs. So an opened request, a text
// selection in it, a scrolled log and the page's scroll position survive the polls.
"use strict";

(() => {
  const SERVICE = "/gitpod.v1.EnvironmentAutomationService/";
  const TOKEN_KEY = "mockserver.ui.token";
  const POLL_MS = 1000;
  const JOURNAL_PAGE = 100;
  const PHASE_PREFIX = /^TASK_EXECUTION_PHASE_/;
  const TERMINAL = new Set(["SUCCEEDED", "FAILED", "STOPPED"]);
  const METHODS = [
    "CreateTask", "DeleteTask", "GetTask", "GetTaskExecution", "ListTaskExecutions",
    "ListTasks", "StartTask", "StopTaskExecution", "UpdateTask",
  ];
  const CODES = [
    "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found",
    "already_exists", "permission_denied", "resource_exhausted", "failed_precondition",
    "aborted", "out_of_range", "unimplemented", "internal", "unavailable", "data_loss",
    "unauthenticated", "dropped",
  ];

  const $ = (id) => document.getElementById(id);

  // What the page shows of one tenant; forgetTenant() empties it.
  const blank = () => ({
    overview: null,
    clock: null,
    scenario: null,
    journal: null, // {requests, older, total} of the page shown
    journalBefore: null, // null: the newest entries, live; else the cursor of an older page
    journalNewer: [], // the cursors of the pages passed on the way to an older one
    openLogs: new Map(), // execution id -> log text ("" until loaded)
    openRequest: null, // id of the journal entry shown in full
    curls: new Map(), // journal entry id -> its curl command (or why there is none)
    openTask: null, // id of the task shown in detail
    editing: false, // the scenario editor is open
  });

  const state = {
    token: null,
    timer: null,
    generation: 0,
    offline: false,
    ...blank(),
  };

  // -- building the document (text only) -------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child)); // a string becomes a text node
    }
    return node;
  }

  // Writing the same text again would replace the text node, and a selection in it.
  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  // The signature each patched element was built from: the same signature, the same element.
  const built = new WeakMap();

  // Makes `container`'s children the parts given, in that order: {key, sig, make, update}.
  // A child whose key and signature are unchanged is kept (and moved only if the order
  // changed); otherwise make() builds it anew. update(node), if given, then patches the
  // inside of a kept or new child. A part whose sig is undefined is never rebuilt.
  function patch(container, parts) {
    const present = new Map();
    for (const child of [...container.children]) {
      const key = child.dataset.key;
      if (key === undefined || present.has(key)) child.remove();
      else present.set(key, child);
    }
    let cursor = container.firstElementChild;
    for (const part of parts.filter(Boolean)) {
      let node = present.get(part.key);
      present.delete(part.key);
      if (!node || built.get(node) !== part.sig) {
        const fresh = part.make();
        fresh.dataset.key = part.key;
        built.set(fresh, part.sig);
        if (node) {
          node.replaceWith(fresh);
          if (node === cursor) cursor = fresh;
        }
        node = fresh;
      }
      if (part.update) part.update(node);
      if (node === cursor) cursor = cursor.nextElementSibling;
      else container.insertBefore(node, cursor);
    }
    for (const stale of present.values()) stale.remove();
  }

  // A log only grows: the new lines are added, so a selection or scroll in it stays.
  function appendText(node, text) {
    const shown = node.textContent;
    if (shown === text) return;
    if (shown && text.startsWith(shown)) node.append(text.slice(shown.length));
    else node.textContent = text;
  }

  const phaseName = (phase) => (phase || "UNSPECIFIED").replace(PHASE_PREFIX, "");
  const badge = (phase) => el("span", { class: "badge phase-" + phase }, phase);
  const shortId = (id) => (id || "").slice(0, 8);
  const time = (stamp) => (stamp ? stamp.slice(11, 23).replace(/Z$/, "") : "");
  const millis = (stamp) => (stamp ? Date.parse(stamp) : NaN);
  const pretty = (value) => JSON.stringify(value, null, 2);
  const signature = (...values) => JSON.stringify(values);

  // -- talking to the fake ---------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function call(path, { method = "GET", body, raw, text = false } = {}) {
    const headers = { Authorization: "Bearer " + state.token };
    let payload;
    if (raw !== undefined) {
      headers["Content-Type"] = "application/yaml";
      payload = raw;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, {
      method,
      headers,
      body: payload,
      cache: "no-store",
      credentials: "omit",
    });
    const answer = await response.text();
    if (!response.ok) {
      let code = "unknown";
      let message = answer;
      try {
        const error = JSON.parse(answer);
        code = error.code || code;
        message = error.message || message;
      } catch (_) {
        // not a Connect error body: show the text as it is
      }
      const error = new ApiError(response.status, code, `${code}: ${message}`);
      error.detail = message;
      throw error;
    }
    if (text) return answer;
    return answer ? JSON.parse(answer) : {};
  }

  const control = (path, options) => call("/_mock/" + path, options);
  const rpc = (method, body) => call(SERVICE + method, { method: "POST", body });

  // -- the token and the URL fragment ----------------------------------------------------

  // `#token=X` switches to the tenant of X (at load, or in a tab already showing one);
  // `#task=ID` opens a task. The fragment then leaves the address bar and the history.
  function followFragment() {
    if (!location.hash) return;
    const params = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, "", location.pathname + location.search);
    const token = params.get("token");
    if (token && token !== state.token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      forgetTenant();
      say("");
      useToken(token);
    }
    const task = params.get("task");
    if (task && state.token) showTask(task);
  }

  function useToken(token) {
    state.token = token;
    $("login").hidden = true;
    $("main").hidden = false;
    $("reset").hidden = false;
    $("forget").hidden = false;
    schedule(0);
  }

  // Drops everything shown of the tenant, so nothing of it stays on screen or comes back
  // from an answer still on its way (the generation changes).
  function forgetTenant() {
    clearTimeout(state.timer);
    state.generation += 1;
    Object.assign(state, blank());
    for (const id of ["executions", "tasks", "requests", "scenario", "task-detail"]) {
      $(id).replaceChildren();
    }
    for (const id of ["executions-count", "tasks-count", "requests-count", "journal-page"]) {
      $(id).textContent = "";
    }
    $("task-detail").hidden = true;
    $("filter-method").value = "";
    $("filter-code").value = "";
    $("filter-text").value = "";
    closeEditor();
    $("tenant").textContent = "";
    $("clock").textContent = "";
    $("updated").textContent = "";
  }

  function askForToken(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    forgetTenant();
    $("login").hidden = false;
    $("main").hidden = true;
    $("reset").hidden = true;
    $("forget").hidden = true;
    $("advance-form").hidden = true;
    say(reason || "", Boolean(reason));
    $("token-input").focus();
  }

  // -- messages --------------------------------------------------------------------------

  function say(text, isError) {
    const box = $("message");
    box.textContent = text;
    box.className = isError ? "message error" : "message";
    box.hidden = !text;
  }

  // -- refreshing ------------------------------------------------------------------------

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(refresh, delay);
  }

  function journalPath() {
    const query = new URLSearchParams({ limit: String(JOURNAL_PAGE) });
    const method = $("filter-method").value;
    const code = $("filter-code").value;
    const text = $("filter-text").value.trim();
    if (method) query.set("method", method);
    if (code) query.set("code", code);
    if (text) query.set("q", text);
    if (state.journalBefore !== null) query.set("before", String(state.journalBefore));
    return "requests?" + query.toString();
  }

  async function refresh() {
    if (!state.token) return;
    const generation = ++state.generation;
    const began = performance.now();
    try {
      const [overview, clock, scenario, journal] = await Promise.all([
        control("overview"),
        control("clock"),
        control("scenario"),
        control(journalPath()),
      ]);
      const logs = await Promise.all(
        [...state.openLogs.keys()].map((id) =>
          control("logs/" + encodeURIComponent(id), { text: true }).catch((e) => e.message),
        ),
      );
      if (generation !== state.generation) return; // a newer refresh started meanwhile
      [...state.openLogs.keys()].forEach((id, i) => state.openLogs.set(id, logs[i]));
      Object.assign(state, { overview, clock, scenario, journal });
      render();
      if (state.offline) say("");
      state.offline = false;
      setText($("updated"), "updated " + new Date().toLocaleTimeString());
    } catch (error) {
      if (generation !== state.generation) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        askForToken("The token was not accepted: " + error.message);
        return;
      }
      state.offline = true;
      say("Cannot reach the fake: " + error.message, true);
    }
    if (state.token && generation === state.generation) {
      // A slow answer (a huge tenant, a busy fake) stretches the interval: the view must
      // never become a load on the server it shows.
      const took = performance.now() - began;
      schedule(document.hidden ? 5000 : Math.max(POLL_MS, 5 * took));
    }
  }

  async function act(what, action) {
    try {
      await action();
      say("");
    } catch (error) {
      say(`${what} failed: ${error.message}`, true);
    }
    schedule(0);
  }

  // -- rendering -------------------------------------------------------------------------

  function render() {
    renderClock();
    const tasksById = new Map(state.overview.tasks.map((t) => [t.id, t]));
    renderExecutions(tasksById);
    renderTasks(tasksById);
    renderTaskDetail(tasksById);
    renderRequests();
    renderScenario();
  }

  function renderClock() {
    const { clock, now } = state.clock;
    const shown = now.replace("T", " ").replace(/(\.\d{3})\d*/, "$1").replace("Z", " UTC");
    setText($("clock"), `${clock} clock · ${shown}`);
    // The caller's subject id (derived from the token, shown as creator): names the
    // tenant without showing any part of the token.
    setText($("tenant"), "tenant " + shortId(state.overview.subject));
    $("advance-form").hidden = clock !== "manual";
  }

  function taskName(task) {
    return task ? task.metadata?.name || task.metadata?.reference || task.id : "";
  }

  function counted(id, shown, total, noun) {
    setText($(id), shown < total ? `(newest ${shown} of ${total})` : `(${total} ${noun})`);
  }

  const empty = (text) => ({ key: "empty", sig: text, make: () => el("p", { class: "empty" }, text) });

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

  // -- executions

  function renderExecutions(tasksById) {
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

  // -- tasks

  function renderTasks(tasksById) {
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

  function showTask(id) {
    state.openTask = id;
    if (state.overview) renderTaskDetail(new Map(state.overview.tasks.map((t) => [t.id, t])));
    $("task-detail").scrollIntoView({ block: "nearest" });
  }

  function closeTask() {
    state.openTask = null;
    $("task-detail").hidden = true;
    $("task-detail").replaceChildren();
    if (state.overview) render();
  }

  function renderTaskDetail(tasksById) {
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

  // -- the journal

  function renderRequests() {
    const { requests, older, total } = state.journal;
    const filtered = $("filter-method").value || $("filter-code").value || $("filter-text").value.trim();
    const paged = state.journalBefore !== null;
    let label = `(${total} in the journal)`;
    if (filtered || paged || requests.length < total) {
      label = `(${requests.length} shown${filtered ? " that match" : ""}, ${total} in the journal)`;
    }
    setText($("requests-count"), label);
    setText(
      $("journal-page"),
      paged ? `older than #${state.journalBefore}` : "newest first, live",
    );
    $("journal-older").disabled = older === null || older === undefined;
    document.querySelector(".pager").hidden = !paged && $("journal-older").disabled;
    $("journal-newer").disabled = !paged;
    $("journal-newest").disabled = !paged;
    if (!requests.length) {
      const none = total ? "No call matches." : "No API calls with this token yet.";
      patch($("requests"), [empty(paged ? "Nothing older matches." : none)]);
      return;
    }
    const head = () =>
      el("thead", {}, el("tr", {}, ["time", "method", "code", "HTTP", "ms"].map((h) => el("th", {}, h))));
    const entries = requests.slice().reverse().map((entry) => ({
      key: "r" + entry.id,
      sig: undefined, // an entry never changes once recorded
      make: () => el("tbody", { class: "entry", dataset: { entryId: String(entry.id) } }),
      update: (group) => patchEntry(group, entry),
    }));
    patch($("requests"), [
      {
        key: "table",
        sig: undefined,
        make: () => el("table", { class: "journal" }),
        // Each entry is a tbody of its own: its row, and its detail while open.
        update: (table) => patch(table, [{ key: "head", sig: undefined, make: head }, ...entries]),
      },
    ]);
  }

  function patchEntry(group, entry) {
    const open = state.openRequest === entry.id;
    const toggle = () => toggleRequest(entry.id);
    patch(group, [
      {
        key: "row",
        sig: undefined, // kept, so the keyboard focus stays on it when it opens or closes
        update: (row) => {
          row.classList.toggle("open", open);
          row.setAttribute("aria-expanded", String(open));
        },
        make: () =>
          el(
            "tr",
            {
              class: "request",
              dataset: { position: String(entry.id), method: entry.method },
              tabindex: "0",
              onclick: toggle,
              onkeydown: (e) => e.key === "Enter" && toggle(),
            },
            el("td", {}, time(entry.time)),
            el(
              "td",
              {},
              entry.method,
              entry.httpMethod === "GET" && el("span", { class: "get-tag", title: "a Connect GET" }, "GET"),
              entry.fault && el("span", { class: "fault-tag", title: "injected by the scenario" }, "fault"),
            ),
            // A fault that dropped the connection leaves neither a code nor a status.
            el("td", { class: entry.code === "ok" ? "ok" : "error" }, entry.code ?? "dropped"),
            el("td", {}, entry.httpStatus == null ? "–" : String(entry.httpStatus)),
            el("td", { class: "duration" }, formatMs(entry.durationMs)),
          ),
      },
      open && {
        key: "detail",
        sig: undefined, // built once per opening; only the curl command arrives later
        make: () => entryDetail(entry),
        update: (row) => setText(row.querySelector("pre.curl"), state.curls.get(entry.id) ?? "loading…"),
      },
    ]);
  }

  function formatMs(ms) {
    if (ms === undefined || ms === null) return "";
    return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
  }

  function entryDetail(entry) {
    const headers = Object.entries(entry.requestHeaders || {})
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n");
    const where = `${entry.httpMethod || "POST"} ${SERVICE}${entry.method}${entry.query ? "?" + entry.query : ""}`;
    return el(
      "tr",
      { class: "detail" },
      el(
        "td",
        { colspan: "5" },
        el("div", { class: "call muted" }, `#${entry.id} · ${where} · ${formatMs(entry.durationMs)} ms`),
        el(
          "div",
          { class: "exchange" },
          el("div", {}, el("h3", {}, "request"), el("pre", { class: "request-body" }, body(entry, "request"))),
          el("div", {}, el("h3", {}, "response"), el("pre", { class: "response-body" }, body(entry, "response"))),
          entry.fault &&
            el("div", {}, el("h3", {}, "fault"), el("pre", { class: "fault-body" }, pretty(entry.fault))),
        ),
        el("h3", {}, "request headers ", el("small", {}, "(credentials redacted)")),
        el("pre", { class: "request-headers" }, headers || "(none)"),
        el(
          "h3",
          {},
          "curl ",
          el("small", {}, "(set TOKEN first: export TOKEN=…)"),
          el("button", { type: "button", class: "copy-curl small", onclick: () => copyCurl(entry.id) }, "Copy as curl"),
        ),
        el("pre", { class: "curl" }, state.curls.get(entry.id) ?? "loading…"),
      ),
    );
  }

  // The journal keeps a message above its per-message limit as its size only.
  function body(entry, which) {
    if (entry[which + "Truncated"]) {
      return `(not kept: ${entry[which + "Bytes"]} bytes, more than the journal keeps of one message)`;
    }
    return pretty(entry[which]);
  }

  async function loadCurl(id) {
    if (state.curls.has(id)) return;
    const token = state.token;
    let text;
    try {
      text = (await control(`requests/${id}/curl`, { text: true })).trimEnd();
    } catch (error) {
      text = `(no curl command: ${error.detail || error.message})`;
    }
    if (token !== state.token) return; // the tenant changed meanwhile
    state.curls.set(id, text);
    if (state.journal) renderRequests();
  }

  async function copyCurl(id) {
    await loadCurl(id);
    const text = state.curls.get(id) || "";
    try {
      await navigator.clipboard.writeText(text);
      say("Copied the curl command: set TOKEN in the shell before running it.");
    } catch (_) {
      // No clipboard (an insecure context, a denied permission): select it for Ctrl-C.
      const pre = document.querySelector(`tbody[data-entry-id="${id}"] pre.curl`);
      if (pre) getSelection().selectAllChildren(pre);
      say("The browser refused the clipboard: the command is selected, copy it with Ctrl-C.");
    }
  }

  // -- the scenario

  function renderScenario() {
    const scenario = state.scenario || {};
    patch($("scenario"), [{ key: "view", sig: signature(scenario), make: () => scenarioView(scenario) }]);
  }

  function scenarioView(scenario) {
    const parts = [];
    const rules = scenario.rules || [];
    parts.push(el("h3", {}, `rules (${rules.length}, first match wins)`));
    if (rules.length) {
      const head = el(
        "tr",
        {},
        ["match", "outcome", "duration", "failure message", "output and logs"].map((h) => el("th", {}, h)),
      );
      const rows = rules.map((rule) =>
        el(
          "tr",
          {},
          el("td", {}, el("code", {}, JSON.stringify(rule.match || {}))),
          el("td", {}, rule.outcome || "succeed"),
          el("td", {}, rule.duration === undefined ? "default" : rule.duration + " s"),
          el("td", {}, rule.failure_message || ""),
          el(
            "td",
            {},
            rule.output && el("code", {}, JSON.stringify(rule.output)),
            (rule.logs || []).map((line) => el("div", { class: "logline" }, line)),
          ),
        ),
      );
      parts.push(el("table", {}, el("thead", {}, head), el("tbody", {}, rows)));
    } else {
      parts.push(el("p", { class: "empty" }, "No rules: every step succeeds after the default duration."));
    }
    const latency = Object.entries(scenario.latency || {});
    parts.push(el("h3", {}, "latency"));
    parts.push(
      latency.length
        ? el("ul", {}, latency.map(([method, seconds]) => el("li", {}, `${method}: ${seconds} s`)))
        : el("p", { class: "empty" }, "none"),
    );
    const faults = scenario.faults || [];
    parts.push(el("h3", {}, `faults (${faults.length}, first that fires wins)`));
    parts.push(
      faults.length
        ? el("ol", { class: "faults" }, faults.map((fault) => el("li", {}, el("code", {}, describe(fault)))))
        : el("p", { class: "empty" }, "none"),
    );
    const others = Object.keys(scenario).filter((k) => !["rules", "latency", "faults"].includes(k));
    for (const key of others) {
      parts.push(el("h3", {}, key), el("pre", {}, pretty(scenario[key])));
    }
    return el("div", {}, parts);
  }

  function describe(rule) {
    return Object.entries(rule)
      .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
      .join(", ");
  }

  async function openEditor() {
    try {
      const yaml = await control("scenario?format=yaml", { text: true });
      $("scenario-yaml").value = yaml;
    } catch (error) {
      say("Reading the scenario failed: " + error.message, true);
      return;
    }
    state.editing = true;
    showError("");
    $("scenario-editor").hidden = false;
    $("scenario").hidden = true;
    $("scenario-edit").hidden = true;
    $("scenario-yaml").focus();
  }

  function closeEditor() {
    state.editing = false;
    $("scenario-editor").hidden = true;
    $("scenario").hidden = false;
    $("scenario-edit").hidden = false;
    showError("");
  }

  function showError(text) {
    setText($("scenario-error"), text);
    $("scenario-error").hidden = !text;
    $("scenario-yaml").setAttribute("aria-invalid", String(Boolean(text)));
  }

  // The server's message names a line ("line 3, column 7") for YAML it cannot read, and a
  // line too ("(line 4)") for a value it refuses: the textarea selects that line.
  function selectLine(message) {
    const found = /line (\d+)/.exec(message);
    if (!found) return;
    const area = $("scenario-yaml");
    const lines = area.value.split("\n");
    const index = Math.min(Number(found[1]), lines.length) - 1;
    const from = lines.slice(0, index).reduce((sum, line) => sum + line.length + 1, 0);
    area.focus();
    area.setSelectionRange(from, from + lines[index].length);
  }

  async function applyScenario(event) {
    event.preventDefault();
    // An empty document is sent as {}: an explicit empty scenario, never an empty body.
    const text = $("scenario-yaml").value.trim() ? $("scenario-yaml").value : "{}\n";
    try {
      await control("scenario", { method: "PUT", raw: text });
    } catch (error) {
      showError(error.detail || error.message);
      selectLine(error.detail || error.message);
      return;
    }
    closeEditor();
    say("Scenario applied to this tenant.");
    schedule(0);
  }

  // -- actions ---------------------------------------------------------------------------

  const start = (taskId) => act("StartTask", () => rpc("StartTask", { id: taskId }));
  const stop = (executionId) =>
    act("StopTaskExecution", () => rpc("StopTaskExecution", { id: executionId }));

  function toggleLogs(executionId) {
    if (state.openLogs.has(executionId)) state.openLogs.delete(executionId);
    else state.openLogs.set(executionId, "");
    schedule(0);
  }

  function toggleRequest(id) {
    state.openRequest = state.openRequest === id ? null : id;
    if (state.openRequest !== null) loadCurl(id);
    renderRequests();
  }

  function pageJournal(direction) {
    if (direction === "older") {
      if (state.journal?.older == null) return;
      state.journalNewer.push(state.journalBefore);
      state.journalBefore = state.journal.older;
    } else if (direction === "newer") {
      state.journalBefore = state.journalNewer.pop() ?? null;
    } else {
      state.journalBefore = null;
      state.journalNewer = [];
    }
    schedule(0);
  }

  let filterTimer = null;
  function filterChanged() {
    clearTimeout(filterTimer);
    // Typing does not ask the server at every key.
    filterTimer = setTimeout(() => {
      state.journalBefore = null;
      state.journalNewer = [];
      schedule(0);
    }, 250);
  }

  function advance(event) {
    event.preventDefault();
    const seconds = Number($("advance-seconds").value);
    act("Advance", () => control("clock/advance", { method: "POST", body: { seconds } }));
  }

  function reset() {
    if (!confirm("Forget every task, execution and journal entry of this tenant?")) return;
    state.openLogs.clear();
    state.openRequest = null;
    state.openTask = null;
    state.journalBefore = null;
    state.journalNewer = [];
    act("Reset", () => control("reset", { method: "POST" }));
  }

  // -- start -----------------------------------------------------------------------------

  function main() {
    for (const method of METHODS) $("filter-method").append(el("option", { value: method }, method));
    for (const code of CODES) $("filter-code").append(el("option", { value: code }, code));
    $("login").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      $("token-input").value = "";
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      say("");
      useToken(token);
    });
    $("advance-form").addEventListener("submit", advance);
    $("reset").addEventListener("click", reset);
    $("forget").addEventListener("click", () => askForToken(""));
    $("journal-filter").addEventListener("submit", (event) => event.preventDefault());
    $("filter-method").addEventListener("change", filterChanged);
    $("filter-code").addEventListener("change", filterChanged);
    $("filter-text").addEventListener("input", filterChanged);
    $("journal-older").addEventListener("click", () => pageJournal("older"));
    $("journal-newer").addEventListener("click", () => pageJournal("newer"));
    $("journal-newest").addEventListener("click", () => pageJournal("newest"));
    $("scenario-edit").addEventListener("click", openEditor);
    $("scenario-cancel").addEventListener("click", closeEditor);
    $("scenario-editor").addEventListener("submit", applyScenario);
    window.addEventListener("hashchange", followFragment);
    document.addEventListener("visibilitychange", () => !document.hidden && schedule(0));
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) useToken(token);
    followFragment(); // a token there wins over the stored one
    if (!state.token) askForToken("");
  }

  main();
})();
