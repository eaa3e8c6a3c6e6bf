// The scenario: its rules, latency and faults, and an editor that applies YAML to the tenant
// and shows the server's refusal in place.

import { control } from "./api.js";
import { schedule } from "./app.js";
import { $, el, patch, pretty, say, setText, signature } from "./dom.js";
import { state } from "./state.js";

export function renderScenario() {
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

export function closeEditor() {
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

export function setUpScenario() {
  $("scenario-edit").addEventListener("click", openEditor);
  $("scenario-cancel").addEventListener("click", closeEditor);
  $("scenario-editor").addEventListener("submit", applyScenario);
}
