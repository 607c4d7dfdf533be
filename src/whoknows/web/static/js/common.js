// Shared helpers of the whoknows pages: the JSON API client (session cookie + CSRF header) and a small DOM
// builder. Data is only ever put into the page as text (textContent / text nodes), never as HTML.

const API = "/api/v1";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export function loginUrl() {
  return "/login?next=" + encodeURIComponent(location.pathname + location.search);
}

/** Call the JSON API; resolves to the parsed body, rejects with ApiError (or AbortError). */
export async function api(path, { method = "GET", body, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (UNSAFE.has(method)) headers["X-CSRF-Token"] = cookie("whoknows_csrf");
  let payload;
  if (form !== undefined) {
    payload = form;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(API + path, { method, headers, body: payload, signal, credentials: "same-origin" });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    if (response.status === 401 && path !== "/auth/login") {
      location.assign(loginUrl());
    }
    throw new ApiError(response.status, err.code || "http.error", err.message || `The request failed (${response.status}).`, err.details);
  }
  return data;
}

/** h("a", {href: "/x", class: "y"}, "text", child) — attributes are set as attributes, strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** ``url`` if it is an http(s) URL (links come from imported data and must never be javascript:), else null. */
export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, location.origin);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

const DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

export function formatDate(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? String(iso) : DATE.format(when);
}

export function personHref(id) {
  return "/people/%23" + encodeURIComponent(String(id));
}

export function initials(name) {
  return (name || "?").trim().charAt(0).toUpperCase();
}

export function showError(node, message) {
  node.textContent = message;
  node.hidden = false;
}

function wireLogout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/auth/logout", { method: "POST" });
    } catch {
      // the session may already be gone; the login page is the right place either way
    }
    location.assign("/login");
  });
}

wireLogout();
