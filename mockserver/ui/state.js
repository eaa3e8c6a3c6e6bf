// What the page knows: the tenant's token and what it shows of that tenant.

export const SERVICE = "/gitpod.v1.EnvironmentAutomationService/";
export const TOKEN_KEY = "mockserver.ui.token";
export const TERMINAL = new Set(["SUCCEEDED", "FAILED", "STOPPED"]);

// What the page shows of one tenant; forgetTenant() empties it.
export const blank = () => ({
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

export const state = {
  token: null,
  timer: null,
  generation: 0,
  offline: false,
  ...blank(),
};
