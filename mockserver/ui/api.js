// Talking to the fake: the control API and the Ona API, with the tenant's bearer token in
// the Authorization header (never in a URL).

import { SERVICE, state } from "./state.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function call(path, { method = "GET", body, raw, text = false } = {}) {
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

export const control = (path, options) => call("/_mock/" + path, options);
export const rpc = (method, body) => call(SERVICE + method, { method: "POST", body });
