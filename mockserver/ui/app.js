// The fake's web view: plain JavaScript, no build step, no third-party code.
//
// Everything the page shows comes from the control API and the Ona API with the tenant's
// bearer token, so the page follows the rules any client follows. The token lives in this
// tab's sessionStorage only; it is sent in the Authorization header, never in a URL.
// User data reaches the document only as text nodes or attribute values (never as HTML),
// and the server's Content-Security-Policy runs no script but this file.
"use strict";

(() => {
  const SERVICE = "/gitpod.v1.EnvironmentAutomationService/";
  const TOKEN_KEY = "mockserver.ui.token";
  const POLL_MS = 1000;
  const PHASE_PREFIX = /^TASK_EXECUTION_PHASE_/;
  const TERMINAL = new Set(["SUCCEEDED", "FAILED", "STOPPED"]);

  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    overview: null,
    clock: null,
    scenario: null,
    openLogs: new Map(), // execution id -> log text ("" until loaded)
    openRequest: null, // journal position of the request shown in full
    timer: null,
    generation: 0,
    offline: false,
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

  function replace(id, ...children) {
    $(id).replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  }

  const phaseName = (phase) => (phase || "UNSPECIFIED").replace(PHASE_PREFIX, "");
  const badge = (phase) => el("span", { class: "badge phase-" + phase }, phase);
  const shortId = (id) => (id || "").slice(0, 8);
  const time = (stamp) => (stamp ? stamp.slice(11, 23).replace(/Z$/, "") : "");
  const millis = (stamp) => (stamp ? Date.parse(stamp) : NaN);
  const pretty = (value) => JSON.stringify(value, null, 2);

  // -- talking to the fake ---------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function call(path, { method = "GET", body, text = false } = {}) {
    const headers = { Authorization: "Bearer " + state.token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
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
      throw new ApiError(response.status, code, `${code}: ${message}`);
    }
    if (text) return answer;
    return answer ? JSON.parse(answer) : {};
  }

  const control = (path, options) => call("/_mock/" + path, options);
  const rpc = (method, body) => call(SERVICE + method, { method: "POST", body });

  // -- the token -------------------------------------------------------------------------

  function takeTokenFromUrl() {
    if (!location.hash) return;
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    // Drop the fragment so the token neither stays in the address bar nor in history.
    history.replaceState(null, "", location.pathname + location.search);
  }

  function useToken(token) {
    state.token = token;
    $("login").hidden = true;
    $("main").hidden = false;
    $("reset").hidden = false;
    $("forget").hidden = false;
    schedule(0);
  }

  function askForToken(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    clearTimeout(state.timer);
    state.generation += 1;
    $("login").hidden = false;
    $("main").hidden = true;
    $("reset").hidden = true;
    $("forget").hidden = true;
    $("advance-form").hidden = true;
    $("tenant").textContent = "";
    $("clock").textContent = "";
    if (reason) say(reason, true);
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

  async function refresh() {
    if (!state.token) return;
    const generation = ++state.generation;
    const began = performance.now();
    try {
      const [overview, clock, scenario] = await Promise.all([
        control("overview"),
        control("clock"),
        control("scenario"),
      ]);
      const logs = await Promise.all(
        [...state.openLogs.keys()].map((id) =>
          control("logs/" + encodeURIComponent(id), { text: true }).catch((e) => e.message),
        ),
      );
      if (generation !== state.generation) return; // a newer refresh started meanwhile
      [...state.openLogs.keys()].forEach((id, i) => state.openLogs.set(id, logs[i]));
      Object.assign(state, { overview, clock, scenario });
      render();
      if (state.offline) say("");
      state.offline = false;
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
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
    renderRequests();
    renderScenario();
  }

  function renderClock() {
    const { clock, now } = state.clock;
    const shown = now.replace("T", " ").replace(/(\.\d{3})\d*/, "$1").replace("Z", " UTC");
    $("clock").textContent = `${clock} clock · ${shown}`;
    // The caller's subject id (derived from the token, shown as creator): names the
    // tenant without showing any part of the token.
    $("tenant").textContent = "tenant " + shortId(state.overview.subject);
    $("advance-form").hidden = clock !== "manual";
  }

  function taskName(task) {
    return task ? task.metadata?.name || task.metadata?.reference || task.id : "";
  }

  function counted(id, shown, total, noun) {
    $(id).textContent = shown < total ? `(newest ${shown} of ${total})` : `(${total} ${noun})`;
  }

  function renderExecutions(tasksById) {
    const items = state.overview.executions.slice().reverse();
    counted("executions-count", items.length, state.overview.executionsTotal, "in total");
    if (!items.length) {
      replace("executions", el("p", { class: "empty" }, "No executions yet: start a task."));
      return;
    }
    replace("executions", items.map((item) => renderExecution(item, tasksById)));
  }

  function renderExecution({ execution, steps }, tasksById) {
    const meta = execution.metadata || {};
    const status = execution.status || {};
    const phase = phaseName(status.phase);
    const plan = (execution.spec?.plan || []).flatMap((group) => group.steps || []);
    const last = plan[plan.length - 1];
    const name = taskName(tasksById.get(meta.taskId)) || last?.label || meta.taskId;
    const open = state.openLogs.has(execution.id);
    const times = [
      "created " + time(meta.createdAt),
      meta.startedAt && "started " + time(meta.startedAt),
      meta.completedAt && "completed " + time(meta.completedAt),
      "statusVersion " + status.statusVersion,
    ].filter(Boolean);
    return el(
      "article",
      { class: "execution", dataset: { executionId: execution.id, phase } },
      el(
        "div",
        { class: "row" },
        badge(phase),
        el("strong", {}, name),
        el("code", { title: execution.id }, shortId(execution.id)),
        el(
          "span",
          { class: "actions" },
          !TERMINAL.has(phase) &&
            el("button", { type: "button", class: "stop", onclick: () => stop(execution.id) }, "Stop"),
          el(
            "button",
            { type: "button", class: "logs", onclick: () => toggleLogs(execution.id) },
            open ? "Hide logs" : "Logs",
          ),
        ),
      ),
      el("div", { class: "times muted" }, times.join(" · ")),
      status.failureMessage && el("p", { class: "failure" }, status.failureMessage),
      renderTimeline(execution, plan, steps),
      open && el("pre", { class: "log" }, state.openLogs.get(execution.id) || "(no lines yet)"),
    );
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

  function renderTasks(tasksById) {
    const tasks = state.overview.tasks;
    counted("tasks-count", tasks.length, state.overview.tasksTotal, "in total");
    if (!tasks.length) {
      replace(
        "tasks",
        el("p", { class: "empty" }, "No tasks yet: create one with CreateTask and this token."),
      );
      return;
    }
    const head = el(
      "tr",
      {},
      ["name", "reference", "command", "depends on", "environment", "created", ""].map((h) =>
        el("th", {}, h),
      ),
    );
    const rows = tasks.map((task) => {
      const meta = task.metadata || {};
      const deps = (task.dependsOn || []).map((id) => taskName(tasksById.get(id)) || shortId(id));
      return el(
        "tr",
        { dataset: { taskId: task.id } },
        el("td", { class: "name" }, meta.name || ""),
        el("td", {}, meta.reference || ""),
        el("td", {}, el("code", {}, task.spec?.command || "")),
        el("td", {}, deps.join(", ")),
        el("td", {}, el("code", { title: task.environmentId }, shortId(task.environmentId))),
        el("td", {}, time(meta.createdAt)),
        el(
          "td",
          {},
          el("button", { type: "button", class: "start", onclick: () => start(task.id) }, "Start"),
        ),
      );
    });
    replace("tasks", el("table", {}, el("thead", {}, head), el("tbody", {}, rows)));
  }

  function renderRequests() {
    const { requests, requestsTotal } = state.overview;
    counted("requests-count", requests.length, requestsTotal, "in the journal");
    if (!requests.length) {
      replace("requests", el("p", { class: "empty" }, "No API calls with this token yet."));
      return;
    }
    const first = requestsTotal - requests.length;
    const rows = [];
    for (let i = requests.length - 1; i >= 0; i -= 1) {
      const entry = requests[i];
      const position = first + i;
      const open = state.openRequest === position;
      rows.push(
        el(
          "tr",
          {
            class: "request" + (open ? " open" : ""),
            dataset: { position: String(position), method: entry.method },
            tabindex: "0",
            onclick: () => toggleRequest(position),
            onkeydown: (e) => e.key === "Enter" && toggleRequest(position),
          },
          el("td", {}, time(entry.time)),
          el(
            "td",
            {},
            entry.method,
            entry.fault && el("span", { class: "fault-tag", title: "injected by the scenario" }, "fault"),
          ),
          // A fault that dropped the connection leaves neither a code nor a status.
          el("td", { class: entry.code === "ok" ? "ok" : "error" }, entry.code ?? "dropped"),
          el("td", {}, entry.httpStatus == null ? "–" : String(entry.httpStatus)),
        ),
      );
      if (open) {
        rows.push(
          el(
            "tr",
            { class: "detail" },
            el(
              "td",
              { colspan: "4" },
              el(
                "div",
                { class: "exchange" },
                el("div", {}, el("h3", {}, "request"), el("pre", { class: "request-body" }, body(entry, "request"))),
                el("div", {}, el("h3", {}, "response"), el("pre", { class: "response-body" }, body(entry, "response"))),
                entry.fault &&
                  el("div", {}, el("h3", {}, "fault"), el("pre", { class: "fault-body" }, pretty(entry.fault))),
              ),
            ),
          ),
        );
      }
    }
    const head = el("tr", {}, ["time", "method", "code", "HTTP"].map((h) => el("th", {}, h)));
    replace("requests", el("table", {}, el("thead", {}, head), el("tbody", {}, rows)));
  }

  function renderScenario() {
    const scenario = state.scenario || {};
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
    replace("scenario", parts);
  }

  // The journal keeps a message above its per-message limit as its size only.
  function body(entry, which) {
    if (entry[which + "Truncated"]) {
      return `(not kept: ${entry[which + "Bytes"]} bytes, more than the journal keeps of one message)`;
    }
    return pretty(entry[which]);
  }

  function describe(rule) {
    return Object.entries(rule)
      .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
      .join(", ");
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

  function toggleRequest(position) {
    state.openRequest = state.openRequest === position ? null : position;
    renderRequests();
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
    act("Reset", () => control("reset", { method: "POST" }));
  }

  // -- start -----------------------------------------------------------------------------

  function main() {
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
    document.addEventListener("visibilitychange", () => !document.hidden && schedule(0));
    takeTokenFromUrl();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) useToken(token);
    else askForToken("");
  }

  main();
})();
