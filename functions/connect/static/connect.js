// The connect page: shows the sessions a connect link names, live.
// Push first (the WebSocket API, with the link's token); while it is down, polls the token-scoped
// status route. `?poll=off` disables polling (to prove updates arrive by push).
"use strict";

const POLL_MS = 3000;
const RECONNECT_MAX_MS = 30000;
const token = decodeURIComponent(location.pathname.split("/").pop());
const pollingAllowed = new URLSearchParams(location.search).get("poll") !== "off";
const statusUrl = new URL("../api/connect/status", location.href).href;

const ADVICE = {
  initializing: "Getting things ready. Keep this page open.",
  qr_generated: "Open WhatsApp on your phone, tap Settings (or the menu), Linked devices, Link a device, and scan this code.",
  connecting: "Connecting. Keep this page open.",
  loading: "Loading your chats. Keep this page open.",
  authenticated: "Almost done.",
  session_connected: "You are connected. You can close this page.",
  reconnecting: "The connection dropped; reconnecting by itself. Keep your phone online.",
  session_not_connected: "Not connected. Ask for a new QR code and scan it.",
  logged_out: "This device was logged out from the phone. Ask for a new QR code to link it again.",
  auth_failure: "WhatsApp refused the login. Ask for a new QR code and try again.",
  error: "Something went wrong on the WhatsApp side. Ask for help or try again later.",
};

const state = { sessions: new Map(), maxQrAttempts: 3, socket: null, pushLive: false, pollTimer: null,
                reconnectMs: 1000, ended: false };

const $ = (id) => document.getElementById(id);

function setStatus(text, isError) {
  const node = $("status");
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
}

function setChannel() {
  $("channel").textContent = state.ended ? "" :
    state.pushLive ? "Live updates on." : (pollingAllowed ? "Checking for updates every few seconds." : "Waiting for live updates…");
}

function end(message) {
  state.ended = true;
  stopPolling();
  if (state.socket) state.socket.close();
  $("sessions").replaceChildren();
  setStatus(message, true);
  setChannel();
}

function describe(session) {
  if (session.reason === "max_qr_attempts_reached") {
    return "No QR code was scanned in time, so the session stopped. Ask for a new one to try again.";
  }
  return ADVICE[session.status] || "";
}

function render() {
  const list = [...state.sessions.values()];
  const container = $("sessions");
  container.replaceChildren(...list.map(renderSession));
  if (list.length === 0) {
    setStatus("No sessions to show yet.");
  } else if (list.length === 1) {
    setStatus(list[0].message);
  } else {
    const connected = list.filter((s) => s.isConnected).length;
    setStatus(`${connected} of ${list.length} sessions connected.`);
  }
  setChannel();
}

function renderSession(session) {
  const node = $("session-template").content.firstElementChild.cloneNode(true);
  node.dataset.sessionId = session.sessionId;
  node.dataset.status = session.status;
  node.querySelector(".session-title").textContent = session.displayName || session.sessionId;
  node.querySelector(".message").textContent = session.message;
  const qr = node.querySelector(".qr");
  if (session.needsQR && session.qrImage) {
    qr.hidden = false;
    qr.querySelector(".qr-image").src = session.qrImage;
    const attempt = session.qrAttempts || 1;
    qr.querySelector(".qr-help").textContent =
      `QR code ${attempt} of ${state.maxQrAttempts}. A new code appears if this one expires; ` +
      `after the last one the session stops and you will need a new link.`;
  }
  const progress = node.querySelector(".loading");
  if (session.isLoading) {
    progress.hidden = false;
    if (typeof session.loadingPercent === "number") {
      progress.value = session.loadingPercent;
      progress.textContent = `${session.loadingPercent}%`;
    } else {
      progress.removeAttribute("value");
    }
    progress.setAttribute("aria-label", "Loading");
  }
  if (session.phoneNumber || session.displayName) {
    node.querySelector(".account").hidden = false;
    node.querySelector(".phone").textContent = session.phoneNumber || "—";
    node.querySelector(".name").textContent = session.displayName || "—";
  }
  node.querySelector(".advice").textContent = describe(session);
  return node;
}

async function fetchStatus() {
  let response;
  try {
    response = await fetch(statusUrl, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store",
                                         referrerPolicy: "no-referrer" });
  } catch (error) {
    setStatus("Cannot reach the server; retrying…", true);
    return null;
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok || !payload || !payload.success) {
    const error = payload && payload.error;
    if (error && String(error.code).startsWith("LINK_")) {
      end(error.message);
    } else {
      setStatus("The server could not answer; retrying…", true);
    }
    return null;
  }
  const data = payload.data;
  state.maxQrAttempts = data.maxQrAttempts || state.maxQrAttempts;
  state.sessions = new Map(data.sessions.map((s) => [s.sessionId, s]));
  render();
  return data;
}

function startPolling() {
  if (!pollingAllowed || state.pollTimer || state.ended) return;
  state.pollTimer = setInterval(fetchStatus, POLL_MS);
}

function stopPolling() {
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

function onPush(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch (error) {
    return;
  }
  if (message.type === "session.status") {
    state.sessions.set(message.session.sessionId, message.session);
  } else if (message.type === "session.deleted") {
    state.sessions.delete(message.sessionId);
  } else if (message.type === "link.revoked") {
    end("This link was revoked: ask for a new one");
    return;
  } else {
    return;
  }
  render();
}

function connectSocket(websocketUrl) {
  if (!websocketUrl || state.ended) {
    startPolling();
    return;
  }
  const socket = new WebSocket(`${websocketUrl}?token=${encodeURIComponent(token)}`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.pushLive = true;
    state.reconnectMs = 1000;
    stopPolling();
    fetchStatus(); // what changed between the first read and the connection
  });
  socket.addEventListener("message", onPush);
  socket.addEventListener("close", () => {
    state.pushLive = false;
    state.socket = null;
    if (state.ended) return;
    setChannel();
    startPolling();
    setTimeout(() => connectSocket(websocketUrl), state.reconnectMs);
    state.reconnectMs = Math.min(state.reconnectMs * 2, RECONNECT_MAX_MS);
  });
}

async function main() {
  const data = await fetchStatus();
  if (state.ended) return;
  connectSocket(data ? data.websocketUrl : null);
}

document.addEventListener("DOMContentLoaded", main);
