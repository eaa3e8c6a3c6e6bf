// The journal: the tenant's calls, filtered and paged by the server, newest first; an
// opened call shows its request, response, headers and a curl command.

import { control } from "./api.js";
import { schedule } from "./app.js";
import { $, el, empty, formatMs, patch, pretty, say, setText, time } from "./dom.js";
import { SERVICE, state } from "./state.js";

const JOURNAL_PAGE = 100;
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

export function journalPath() {
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

export function renderRequests() {
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
    let none = total ? "No call matches." : "No API calls with this token yet.";
    if (paged) none = "Nothing older matches.";
    // The server looks at a bounded number of calls per answer: there may be more.
    if (older != null) none = "No match among the calls looked at: Older looks further back.";
    patch($("requests"), [empty(none)]);
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

// The filter's choices, and what its controls do.
export function setUpJournal() {
  for (const method of METHODS) $("filter-method").append(el("option", { value: method }, method));
  for (const code of CODES) $("filter-code").append(el("option", { value: code }, code));
  $("journal-filter").addEventListener("submit", (event) => event.preventDefault());
  $("filter-method").addEventListener("change", filterChanged);
  $("filter-code").addEventListener("change", filterChanged);
  $("filter-text").addEventListener("input", filterChanged);
  $("journal-older").addEventListener("click", () => pageJournal("older"));
  $("journal-newer").addEventListener("click", () => pageJournal("newer"));
  $("journal-newest").addEventListener("click", () => pageJournal("newest"));
}

export function clearJournalFilter() {
  $("filter-method").value = "";
  $("filter-code").value = "";
  $("filter-text").value = "";
}
