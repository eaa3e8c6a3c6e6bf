// The fake's web view: plain JavaScript, no build step, no third-party code.
//
// Everything the page shows comes from the control API and the Ona API with the tenant's
// bearer token, so the page follows the rules any client follows. The token lives in this
// tab's sessionStorage only; it is sent in the Authorization header, never in a URL.
// User data reaches the document only as text nodes or attribute values (never as HTML),
// and the server's Content-Security-Policy runs no script but the page's own modules.
//
// The page polls once a second, and each poll changes only what changed: every list is
// keyed (an execution, a task, a journal entry keeps its element while it is shown), and
// an element is built again only when what it shows differs. So an opened request, a text
// selection in it, a scrolled log and the page's scroll position survive the polls.
//
// This module runs the page: the token, the poll, the header's controls. The parts of the
// page are modules of their own (executions, tasks, journal, scenario), built with dom.js.

import { ApiError, control } from "./api.js";
import { $, say, setText, shortId } from "./dom.js";
import { renderExecutions } from "./executions.js";
import { clearJournalFilter, journalPath, renderRequests, setUpJournal } from "./journal.js";
import { closeEditor, renderScenario, setUpScenario } from "./scenario.js";
import { blank, state, TOKEN_KEY } from "./state.js";
import { renderTaskDetail, renderTasks, showTask } from "./tasks.js";

const POLL_MS = 1000;

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
  clearJournalFilter();
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

// -- refreshing ------------------------------------------------------------------------

export function schedule(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(refresh, delay);
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

export async function act(what, action) {
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

// -- actions ---------------------------------------------------------------------------

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
  setUpJournal();
  setUpScenario();
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
  window.addEventListener("hashchange", followFragment);
  document.addEventListener("visibilitychange", () => !document.hidden && schedule(0));
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) useToken(token);
  followFragment(); // a token there wins over the stored one
  if (!state.token) askForToken("");
}

main();
