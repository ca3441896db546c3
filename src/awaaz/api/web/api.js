// The API calls the page makes, and their failures in plain words.

const KEY_STORE = "awaaz.apiKey";

export function apiKey() {
  return localStorage.getItem(KEY_STORE) || "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
}

function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** A failed call: `message` is for people; `status` 0 means the network failed. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = "", retryAfter = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  get needsKey() {
    return this.status === 401;
  }
}

const NETWORK = "The connection to the server was lost. Check your network (and that the server is " +
  "running), then try again.";

function plainWords(status, serverMessage, retryAfter, code) {
  const detail = serverMessage ? ` ${serverMessage}` : "";
  if (status === 401 && code === "invalid_api_key") return "The API key was not accepted: check it and try again.";
  if (status === 401) return "This server needs an API key: enter it above and try again.";
  if (status === 413) return `The file is too large.${detail}`;
  if (status === 415) return `This file is not audio the server can read.${detail}`;
  if (status === 429 || status === 503) {
    const wait = retryAfter ? ` Try again in ${retryAfter} s.` : " Try again shortly.";
    return `The server is busy.${wait}${detail}`;
  }
  if (status >= 500) return `The server failed.${detail || " Try again."}`;
  return serverMessage || `The request failed (HTTP ${status}).`;
}

function errorOf(status, bodyText, retryHeader) {
  let body = null;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = null;
  }
  const error = body && body.error ? body.error : {};
  const retryAfter = retryHeader ? Number.parseInt(retryHeader, 10) || null : null;
  return new ApiError(plainWords(status, error.message || "", retryAfter, error.code), {
    status,
    code: error.code || "",
    retryAfter,
  });
}

/** GET (or another method without a body) returning parsed JSON, or the text when `asText`. */
export async function call(path, { method = "GET", asText = false } = {}) {
  let response;
  try {
    response = await fetch(path, { method, headers: authHeaders() });
  } catch {
    throw new ApiError(NETWORK);
  }
  if (!response.ok) {
    throw errorOf(response.status, await response.text(), response.headers.get("Retry-After"));
  }
  return asText ? response.text() : response.json();
}

/**
 * POST a form with upload progress (fetch cannot report it). Resolves with the parsed JSON answer;
 * `onProgress(fraction)` follows the upload; `signal` aborts it.
 */
export function upload(path, form, { onProgress = () => {}, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError("The server sent an answer the page cannot read.", { status: xhr.status }));
        }
      } else {
        reject(errorOf(xhr.status, xhr.responseText, xhr.getResponseHeader("Retry-After")));
      }
    };
    xhr.onerror = () => reject(new ApiError(NETWORK));
    xhr.onabort = () => reject(new ApiError("Cancelled.", { code: "cancelled" }));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** The WebSocket address of an API path on this server (the key, when set, in the query). */
export function socketUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const key = apiKey();
  if (key) url.searchParams.set("api_key", key);
  return url.href;
}

export function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0)} MB`;
}

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
