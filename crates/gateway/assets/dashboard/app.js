// smppgw dashboard: vanilla JavaScript, no framework, no build step (docs/dashboard.md).
//
// Every data call goes to the admin API with the operator's credential in the Authorization
// header; the credential lives in sessionStorage (this tab only) and is never written anywhere
// else. Live updates: GET /api/v1/stream read with fetch() and a stream reader (EventSource
// cannot send an Authorization header): `status` snapshots every second, `log` records.
"use strict";

const AUTH_KEY = "smppgw.auth";
const MASK = "********";
const HISTORY_SECONDS = 300;
const LEVELS = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };
const BIND_TYPES = ["transmitter", "receiver", "transceiver"];

const state = {
  auth: sessionStorage.getItem(AUTH_KEY),
  status: null,
  history: new Map(), // bind name -> [{t, out, inn}]
  logs: [],
  logsPaused: false,
  logsUnseen: 0,
  lastLogSeq: 0,
  stream: null, // AbortController of the live stream
  cacheTimer: null,
  peers: { client: [], server: [] },
  editing: { client: null, server: null }, // name being edited, or "" when adding
};

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// ---- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

// Sent with every call: the admin API then answers a 401 without `WWW-Authenticate: Basic`, which
// would make the browser hold the request behind its own login prompt.
const DASHBOARD = "smppgw-dashboard";

async function api(method, path, body) {
  const headers = { Authorization: state.auth, "X-Requested-With": DASHBOARD };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data = null;
  const text = await r.text();
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
  if (r.status === 401) {
    logout("The gateway refused the credential (401): log in again.");
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function say(id, text, isError = false) {
  const p = document.getElementById(id);
  if (!p) return;
  p.textContent = text;
  p.classList.toggle("error", isError);
}

// ---- login -----------------------------------------------------------------------------------

function basic(user, pass) {
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  let bin = "";
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return "Basic " + btoa(bin);
}

async function login(ev) {
  ev.preventDefault();
  const kind = $("#auth-kind-basic").checked ? "basic" : "token";
  const auth = kind === "basic"
    ? basic($("#login-user").value, $("#login-pass").value)
    : "Bearer " + $("#login-token").value.trim();
  say("login-error", "");
  try {
    const r = await fetch("/api/v1/status", { headers: { Authorization: auth, "X-Requested-With": DASHBOARD } });
    if (r.status === 401) { say("login-error", "Wrong credential: the gateway answered 401.", true); return; }
    if (!r.ok) { say("login-error", `The gateway answered ${r.status}.`, true); return; }
    state.status = await r.json();
  } catch (e) {
    say("login-error", `Cannot reach the admin API: ${e.message}`, true);
    return;
  }
  state.auth = auth;
  sessionStorage.setItem(AUTH_KEY, auth);
  $("#login-token").value = "";
  $("#login-pass").value = "";
  start();
}

function logout(message) {
  state.auth = null;
  sessionStorage.removeItem(AUTH_KEY);
  if (state.stream) state.stream.abort();
  state.stream = null;
  $("#nav").hidden = true;
  $("#session").hidden = true;
  show("login");
  if (message) say("login-error", message, true);
}

function start() {
  $("#nav").hidden = false;
  $("#session").hidden = false;
  if (state.status) onStatus(state.status);
  loadLogs();
  openStream();
  route();
}

// ---- pages -----------------------------------------------------------------------------------

const PAGES = ["status", "client", "server", "cache", "logs", "charts"];

function show(page) {
  for (const s of $$(".page")) s.hidden = s.id !== `page-${page}`;
  for (const a of $$("#nav a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clearInterval(state.cacheTimer);
  state.cacheTimer = null;
  if (page === "client" || page === "server") loadPeers(page);
  if (page === "cache") {
    loadCache();
    state.cacheTimer = setInterval(loadCache, 2000);
  }
  if (page === "charts") drawCharts();
  if (page === "logs") renderLogs();
}

function route() {
  if (!state.auth) { show("login"); return; }
  const page = location.hash.replace(/^#/, "");
  show(PAGES.includes(page) ? page : "status");
}

// ---- the live stream -------------------------------------------------------------------------

async function openStream() {
  if (state.stream) state.stream.abort();
  const ctl = new AbortController();
  state.stream = ctl;
  const live = $("#live");
  let retry = 1000;
  while (state.auth && !ctl.signal.aborted) {
    try {
      const since = state.lastLogSeq ? `&since=${state.lastLogSeq}` : "";
      const r = await fetch(`/api/v1/stream?status_ms=1000${since}`, { headers: { Authorization: state.auth, "X-Requested-With": DASHBOARD }, signal: ctl.signal });
      if (r.status === 401) { logout("The gateway refused the credential (401): log in again."); return; }
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      live.textContent = "live";
      live.className = "live on";
      retry = 1000;
      await readEvents(r.body, onEvent);
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    live.textContent = "reconnecting…";
    live.className = "live off";
    await new Promise((res) => setTimeout(res, retry));
    retry = Math.min(retry * 2, 10000);
  }
}

// Server-sent events (text/event-stream) from a ReadableStream: `event:`, `data:`, `id:` lines,
// an empty line ends an event.
async function readEvents(body, handle) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let cut;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
      }
      if (data.length) handle(event, data.join("\n"));
    }
  }
}

function onEvent(event, data) {
  if (event === "status") onStatus(JSON.parse(data));
  else if (event === "log") addLog(JSON.parse(data));
  else if (event === "lagged") addLog({ seq: state.lastLogSeq, level: "warn", target: "dashboard", message: `${data} log records skipped (the page was too slow)`, fields: {}, at_ms: Date.now() });
}

// ---- status ----------------------------------------------------------------------------------

function duration(s) {
  if (!s) return "—";
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

function stateLabel(b) {
  if (b.state === "disabled") return b.mode === "client" ? "Disconnected" : "Disabled";
  return b.state.charAt(0).toUpperCase() + b.state.slice(1);
}

function stateBadge(b) {
  const span = el("span", { class: `state ${b.state}`, text: stateLabel(b) });
  const frag = document.createDocumentFragment();
  frag.append(span);
  if (b.state === "disabled" && b.mode === "client") frag.append(el("span", { class: "tag", text: "disabled" }));
  return frag;
}

function card(label, value, id) {
  return el("div", { class: "card", id }, el("div", { class: "value", text: value }), el("div", { class: "label", text: label }));
}

// Update the rows of `tbody` in place, keyed, so that buttons stay put between snapshots.
function syncRows(tbody, items, key, cellsOf, actionsOf) {
  const seen = new Set();
  for (const item of items) {
    const k = key(item);
    seen.add(k);
    let tr = $$("tr", tbody).find((r) => r.dataset.key === k);
    const cells = cellsOf(item);
    if (!tr) {
      tr = el("tr", { "data-key": k });
      for (let i = 0; i < cells.length; i++) tr.append(el("td"));
      if (actionsOf) tr.append(el("td", { class: "actions-cell" }));
      tbody.append(tr);
    }
    cells.forEach((c, i) => {
      const td = tr.children[i];
      const sig = c instanceof Node ? c.textContent + "|" + (c.firstChild && c.firstChild.className) : String(c.text ?? c);
      if (td.dataset.sig === sig) return;
      td.dataset.sig = sig;
      td.replaceChildren();
      if (c instanceof Node) td.append(c);
      else if (typeof c === "object" && c !== null) { td.textContent = c.text; if (c.class) td.className = c.class; if (c.col) td.dataset.col = c.col; }
      else td.textContent = String(c);
    });
    if (actionsOf) {
      const td = tr.lastElementChild;
      const sig = actionsOf.sig ? actionsOf.sig(item) : "1";
      if (td.dataset.sig !== sig) {
        td.dataset.sig = sig;
        td.replaceChildren(el("div", { class: "actions" }, ...actionsOf(item)));
      }
    }
  }
  for (const tr of $$("tr", tbody)) if (!seen.has(tr.dataset.key)) tr.remove();
}

function onStatus(st) {
  state.status = st;
  $("#gw-name").textContent = st.smsc_name || "";
  const t = st.totals;
  $("#status-totals").replaceChildren(
    card("client binds connected", t.client_connected, "total-client-connected"),
    card("client binds disconnected", t.client_disconnected, "total-client-disconnected"),
    card("server binds active", t.server_active, "total-server-active"),
    card("server binds waiting", t.server_waiting, "total-server-waiting"),
    card("SMPP listener", `${st.listen.host}:${st.listen.port}`, "total-listener"),
    card("max_connections", st.listen.max_connections, "total-max-connections"),
    card("uptime", duration(st.uptime_seconds), "total-uptime"),
  );
  syncRows($("#status-table tbody"), st.binds, (b) => b.name, (b) => [
    b.name, b.mode, stateBadge(b), duration(b.uptime_seconds),
    { text: b.sent, class: "num" }, { text: b.received, class: "num" }, { text: b.failed, class: "num" },
    { text: `${b.tps_now} / ${b.tps_in_now}`, class: "num" },
    { text: `${b.in_flight} / ${b.window_size}`, class: "num" },
    { text: b.last_error || "", class: "err" },
  ], Object.assign((b) => {
    const out = [];
    if (b.mode === "client") out.push(el("button", { type: "button", "aria-label": `Reconnect ${b.name}`, onclick: () => bindAction(b.name, "reconnect"), text: "Reconnect" }));
    out.push(el("button", { type: "button", class: "danger", "aria-label": `Drop the connection of ${b.name}`, onclick: () => bindAction(b.name, "drop"), text: "Drop" }));
    return out;
  }, { sig: (b) => b.mode }));
  say("status-message", `${st.binds.length} binds · core ${st.core} · updated ${new Date().toLocaleTimeString()}`);
  // Peers pages: the state column follows the stream.
  for (const b of st.binds) {
    const td = document.querySelector(`#${b.mode}-table tr[data-key="${CSS.escape(b.name)}"] td[data-col="state"]`);
    if (td) td.replaceChildren(stateBadge(b));
  }
  record(st);
}

async function bindAction(name, action) {
  const what = action === "reconnect" ? `Reconnect ${name} now (its session is closed and bound again)?` : `Drop the connection(s) of ${name} now?`;
  if (!confirm(what)) return;
  try {
    const r = await api("POST", `/api/v1/binds/${encodeURIComponent(name)}/${action}`);
    say("status-message", `${action} ${name}: ${r.connections} connection(s)`);
  } catch (e) {
    say("status-message", `${action} ${name}: ${e.message}`, true);
  }
}

// ---- peers -----------------------------------------------------------------------------------

// Every key of a peer, in the order of docs/configuration.md. type: text, secret, number,
// bool, select (options), list (one item a line), bindtypes; opt: empty means "not set".
const CACHE_FIELDS = [
  { group: "Retry cache" },
  { key: "cache_enabled", type: "bool", hint: "keep messages on disk while the core is down" },
  { key: "cache_max_size", type: "number", hint: "entries, 1–1000000 (default 10000)" },
  { key: "cache_retry_interval", type: "number", hint: "seconds, base of the backoff (default 60)" },
];
const TIMING_COMMON = [
  { key: "window_size", type: "number", hint: "requests in flight at most (default 100)" },
  { key: "response_timeout", type: "number", hint: "seconds" },
  { key: "enquire_link_timeout", type: "number", hint: "seconds" },
  { key: "max_consecutive_timeouts", type: "number", hint: "0 = never" },
  { key: "response_timeout_action", type: "select", options: ["retry", "fail"] },
  { key: "resend_attempts", type: "number" },
  { key: "throttle_resends", type: "number" },
  { key: "drain_timeout", type: "number", hint: "seconds" },
  { key: "unbind_timeout", type: "number", hint: "seconds" },
  { key: "inactivity_timeout", type: "number", hint: "seconds, 0 = never" },
];
const TEXT_FIELDS = [
  { group: "Text" },
  { key: "default_alphabet", type: "select", options: ["gsm7", "latin1", "ia5"] },
  { key: "split_method", type: "select", options: ["udh", "udh16", "sar", "message_payload"] },
];
const SCHEMA = {
  client: [
    { group: "Identity" },
    { key: "name", type: "text", required: true, hint: "unique; the dest_smsc of the MT it sends" },
    { key: "host", type: "text", required: true },
    { key: "port", type: "number", hint: "default 2775" },
    { key: "bind_type", type: "select", options: BIND_TYPES, value: "transceiver" },
    { key: "system_id", type: "text", required: true },
    { key: "password", type: "secret", required: true },
    { key: "system_type", type: "text" },
    { key: "addr_ton", type: "number" },
    { key: "addr_npi", type: "number" },
    { key: "address_range", type: "text" },
    { key: "interface_version", type: "number", hint: "52 = 3.4, 80 = 5.0" },
    { key: "enabled", type: "bool", value: true },
    { group: "Throughput and links" },
    { key: "tps_limit", type: "number", hint: "messages per second, 1–10000 (default 100)" },
    { key: "queue_check_frequency", type: "number", opt: true, hint: "ms; empty = smpp_poll_interval" },
    { key: "enquire_link_interval", type: "number", hint: "seconds, 0 disables" },
    { key: "reconnect_interval", type: "number", hint: "seconds (default 30)" },
    { key: "reconnect_max_interval", type: "number", opt: true, hint: "seconds; empty = 300" },
    { key: "bind_timeout", type: "number", hint: "seconds" },
    { key: "connect_timeout", type: "number", hint: "seconds" },
    ...TIMING_COMMON,
    ...CACHE_FIELDS,
    { group: "TLS" },
    { key: "tls", type: "bool" },
    { key: "tls_ca_file", type: "text", opt: true, hint: "PEM; empty = Mozilla's roots" },
    { key: "tls_server_name", type: "text", opt: true, hint: "empty = host" },
    { key: "tls_cert_file", type: "text", opt: true },
    { key: "tls_key_file", type: "text", opt: true },
    ...TEXT_FIELDS,
    { key: "receipt_id_format", type: "select", options: ["as_submitted", "hex", "decimal", "decimal_upper_hex"] },
  ],
  server: [
    { group: "Identity" },
    { key: "name", type: "text", required: true, hint: "unique; the source_smsc of what it receives" },
    { key: "system_id", type: "text", required: true },
    { key: "password", type: "secret", required: true },
    { key: "allowed_bind_types", type: "bindtypes" },
    { key: "ip_whitelist", type: "list", hint: "IP addresses or CIDR blocks, one a line; empty = any" },
    { key: "source_address_whitelist", type: "list", hint: "source_addr exact or prefix*, one a line; empty = any" },
    { key: "enabled", type: "bool", value: true },
    { group: "Throughput and links" },
    { key: "tps_limit", type: "number", hint: "messages per second both ways (default 100)" },
    { key: "tps_exceeded", type: "select", options: ["throttle", "delay"] },
    { key: "queue_check_frequency", type: "number", opt: true, hint: "ms; empty = smpp_poll_interval" },
    { key: "enquire_link_interval", type: "number", hint: "seconds, 0 disables" },
    { key: "max_sessions", type: "number", hint: "default 10" },
    ...TIMING_COMMON,
    ...CACHE_FIELDS,
    ...TEXT_FIELDS,
  ],
};

const fid = (side, key) => `${side}-f-${key}`;
const eid = (side, key) => `${side}-e-${key}`;

function buildForm(side) {
  const form = document.getElementById(`${side}-form`);
  const grid = el("div", { class: "grid" });
  for (const f of SCHEMA[side]) {
    if (f.group) { grid.append(el("h4", { class: "group-title", text: f.group })); continue; }
    const id = fid(side, f.key);
    const err = el("span", { class: "field-error", id: eid(side, f.key), role: "alert" });
    const hintId = f.hint ? `${id}-hint` : null;
    const described = [hintId, eid(side, f.key)].filter(Boolean).join(" ");
    let box;
    if (f.type === "bool") {
      box = el("div", { class: "field check" },
        el("input", { type: "checkbox", id, name: f.key, "aria-describedby": described }),
        el("label", { for: id, text: f.key }), f.hint ? el("span", { class: "hint", id: hintId, text: f.hint }) : null, err);
    } else if (f.type === "bindtypes") {
      box = el("fieldset", { class: "field", id, "aria-describedby": described },
        el("legend", { text: f.key }),
        ...BIND_TYPES.map((t) => el("label", {}, el("input", { type: "checkbox", id: `${id}-${t}`, name: f.key, value: t }), ` ${t}`)),
        err);
    } else {
      let input;
      if (f.type === "select") input = el("select", { id, name: f.key, "aria-describedby": described }, ...f.options.map((o) => el("option", { value: o, text: o })));
      else if (f.type === "list") input = el("textarea", { id, name: f.key, rows: 3, "aria-describedby": described });
      else input = el("input", {
        id, name: f.key, "aria-describedby": described,
        type: f.type === "secret" ? "password" : "text",
        inputmode: f.type === "number" ? "numeric" : null,
        autocomplete: f.type === "secret" ? "new-password" : "off",
        required: f.required || null,
      });
      box = el("div", { class: "field" }, el("label", { for: id, text: f.key + (f.required ? " *" : "") }), input,
        f.hint ? el("span", { class: "hint", id: hintId, text: f.hint }) : null, err);
    }
    grid.append(box);
  }
  form.replaceChildren(
    el("h3", { id: `${side}-form-title`, text: "" }),
    grid,
    el("p", { class: "error", id: `${side}-form-error`, role: "alert" }),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary", id: `${side}-save`, text: "Save" }),
      el("button", { type: "button", id: `${side}-cancel`, text: "Cancel", onclick: () => closeForm(side) })),
  );
  form.addEventListener("submit", (ev) => { ev.preventDefault(); savePeer(side); });
}

function fillForm(side, peer) {
  for (const f of SCHEMA[side]) {
    if (f.group) continue;
    const id = fid(side, f.key);
    const v = peer ? peer[f.key] : f.value;
    if (f.type === "bool") document.getElementById(id).checked = peer ? !!v : !!f.value;
    else if (f.type === "bindtypes") {
      const on = peer && Array.isArray(v) ? v : BIND_TYPES;
      for (const t of BIND_TYPES) document.getElementById(`${id}-${t}`).checked = on.includes(t);
    } else if (f.type === "list") document.getElementById(id).value = Array.isArray(v) ? v.join("\n") : "";
    else if (f.type === "select") document.getElementById(id).value = v ?? f.value ?? f.options[0];
    else document.getElementById(id).value = v === null || v === undefined ? "" : String(v);
  }
  document.getElementById(fid(side, "name")).readOnly = !!peer;
}

function formValues(side) {
  const out = {};
  for (const f of SCHEMA[side]) {
    if (f.group) continue;
    const id = fid(side, f.key);
    if (f.type === "bool") out[f.key] = document.getElementById(id).checked;
    else if (f.type === "bindtypes") out[f.key] = BIND_TYPES.filter((t) => document.getElementById(`${id}-${t}`).checked);
    else if (f.type === "list") out[f.key] = document.getElementById(id).value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
    else {
      const raw = document.getElementById(id).value.trim();
      if (raw === "") { out[f.key] = undefined; continue; }
      // A number that does not parse is sent as typed: the gateway names the field (400).
      out[f.key] = f.type === "number" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
  }
  return out;
}

function clearErrors(side) {
  for (const e of $$(`#${side}-form .field-error`)) e.textContent = "";
  for (const e of $$(`#${side}-form [aria-invalid]`)) e.removeAttribute("aria-invalid");
  say(`${side}-form-error`, "");
}

// A problem's key ("ip_whitelist[1]", "server_binds[0].tps_limit") names the field it is about.
function fieldOf(key) {
  if (!key) return null;
  const last = String(key).split(".").pop();
  return last.replace(/\[\d+\]$/, "");
}

function showProblems(side, err) {
  const problems = (err.body.problems && err.body.problems.length) ? err.body.problems
    : [{ key: err.body.field, reason: err.body.error || err.message }];
  const loose = [];
  for (const p of problems) {
    const key = fieldOf(p.key);
    const box = key && document.getElementById(eid(side, key));
    if (box) {
      box.textContent = box.textContent ? `${box.textContent}; ${p.reason}` : p.reason;
      const input = document.getElementById(fid(side, key));
      if (input) input.setAttribute("aria-invalid", "true");
    } else loose.push(p.key ? `${p.key}: ${p.reason}` : p.reason);
  }
  say(`${side}-form-error`, loose.length ? loose.join("; ") : `Not saved (${err.status}): see the fields marked.`, true);
  const first = $(`#${side}-form [aria-invalid="true"]`);
  if (first) first.focus();
}

function openForm(side, peer) {
  state.editing[side] = peer ? peer.name : "";
  clearErrors(side);
  fillForm(side, peer);
  const form = document.getElementById(`${side}-form`);
  $(`#${side}-form-title`).textContent = peer ? `Edit ${side} peer ${peer.name}` : `Add a ${side} peer`;
  form.hidden = false;
  form.scrollIntoView({ block: "start" });
  document.getElementById(fid(side, peer ? "system_id" : "name")).focus();
}

function closeForm(side) {
  state.editing[side] = null;
  document.getElementById(`${side}-form`).hidden = true;
}

async function savePeer(side) {
  clearErrors(side);
  const editing = state.editing[side];
  const values = formValues(side);
  let body;
  if (editing) {
    // Start from what the gateway holds (keys this form does not know stay), then the form.
    const held = state.peers[side].find((p) => p.name === editing) || {};
    body = Object.assign({}, held, values);
    delete body.origin;
    body.name = editing;
  } else body = values;
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  try {
    if (editing) await api("PUT", `/api/v1/peers/${side}/${encodeURIComponent(editing)}`, body);
    else await api("POST", `/api/v1/peers/${side}`, body);
    closeForm(side);
    say(`${side}-message`, `${body.name} saved; it applies at once.`);
    await loadPeers(side);
  } catch (e) {
    if (e.status === 401) return;
    showProblems(side, e);
  }
}

function statusOf(name) {
  return state.status && state.status.binds.find((b) => b.name === name);
}

async function loadPeers(side) {
  try {
    state.peers[side] = await api("GET", `/api/v1/peers/${side}`);
  } catch (e) {
    say(`${side}-message`, e.message, true);
    return;
  }
  const tbody = $(`#${side}-table tbody`);
  const stateCell = (p) => {
    const b = statusOf(p.name);
    const frag = b ? stateBadge(b) : document.createTextNode("—");
    return frag;
  };
  syncRows(tbody, state.peers[side], (p) => p.name, (p) => side === "client"
    ? [p.name, `${p.host}:${p.port}`, p.system_id, p.bind_type, stateCell(p), p.enabled ? "yes" : "no", p.origin]
    : [p.name, p.system_id, (p.allowed_bind_types || []).join(", "), (p.ip_whitelist || []).join(", ") || "any", stateCell(p), p.enabled ? "yes" : "no", p.origin],
  Object.assign((p) => [
    el("button", { type: "button", "aria-label": `Edit ${p.name}`, text: "Edit", onclick: () => openForm(side, p) }),
    el("button", { type: "button", "aria-label": `${p.enabled ? "Disable" : "Enable"} ${p.name}`, text: p.enabled ? "Disable" : "Enable",
      onclick: () => peerAction(side, p.name, p.enabled ? "disable" : "enable") }),
    p.origin !== "file" ? el("button", { type: "button", "aria-label": `Revert ${p.name} to the file`, text: "Revert", onclick: () => peerAction(side, p.name, "revert") }) : null,
    el("button", { type: "button", class: "danger", "aria-label": `Delete ${p.name}`, text: "Delete", onclick: () => deletePeer(side, p.name) }),
  ].filter(Boolean), { sig: (p) => `${p.enabled}|${p.origin}|${JSON.stringify(p)}` }));
  for (const tr of $$("tr", tbody)) tr.children[4].dataset.col = "state";
  say(`${side}-message`, `${state.peers[side].length} ${side} peers`);
}

async function peerAction(side, name, action) {
  if (action === "revert" && !confirm(`Drop the run-time edit of ${name}? The file's definition applies again.`)) return;
  if (action === "disable" && !confirm(`Disable ${name}? Its sessions are closed.`)) return;
  try {
    await api("POST", `/api/v1/peers/${side}/${encodeURIComponent(name)}/${action}`);
    say(`${side}-message`, `${name}: ${action} done`);
  } catch (e) {
    say(`${side}-message`, `${name}: ${e.message}`, true);
  }
  await loadPeers(side);
}

async function deletePeer(side, name) {
  if (!confirm(`Delete the ${side} peer ${name}? Its sessions are closed.`)) return;
  try {
    await api("DELETE", `/api/v1/peers/${side}/${encodeURIComponent(name)}`);
    say(`${side}-message`, `${name} deleted`);
  } catch (e) {
    say(`${side}-message`, `${name}: ${e.message}`, true);
  }
  await loadPeers(side);
}

// ---- message cache ---------------------------------------------------------------------------

function bar(percent) {
  const p = Math.max(0, Math.min(100, percent || 0));
  const cls = p >= 100 ? "bar full" : p >= 80 ? "bar high" : "bar";
  // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
  const fill = el("span");
  fill.style.width = `${p}%`;
  return el("div", {},
    el("div", { class: cls, role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": p.toFixed(1), "aria-label": `utilisation ${p.toFixed(1)}%` }, fill),
    el("span", { class: "bar-label", text: `${p.toFixed(1)}%` }));
}

let cacheView = null;

async function loadCache() {
  let view;
  try { view = await api("GET", "/api/v1/cache"); } catch (e) {
    say("cache-message", e.message, true);
    return;
  }
  cacheView = view;
  $("#cache-storage").textContent = `storage ${view.storage}${view.dir ? ` · ${view.dir}` : ""} · ${view.available ? "available" : `UNAVAILABLE: ${view.error}`}`;
  const s = view.summary || {};
  $("#cache-cards").replaceChildren(
    card("total", s.total ?? 0, "cache-total"),
    card("pending", s.pending ?? 0, "cache-pending"),
    card("failed permanent", s.failed_permanent ?? 0, "cache-failed-permanent"),
  );
  syncRows($("#cache-binds tbody"), view.binds, (b) => b.bind_name, (b) => [
    b.bind_name, b.mode || "", { text: b.total, class: "num" }, { text: b.pending, class: "num" },
    { text: b.delivering, class: "num" }, { text: b.failed_permanent, class: "num" }, bar(b.utilisation_percent),
  ], (b) => [
    el("button", { type: "button", "aria-label": `Deliver the pending entries of ${b.bind_name} now`, text: "Deliver pending now", onclick: () => cacheCall("POST", `/api/v1/cache/${encodeURIComponent(b.bind_name)}/pending/retry`, `Deliver the pending entries of ${b.bind_name} now?`) }),
  ]);
  const failed = [];
  for (const b of view.binds.filter((b) => b.failed_permanent > 0)) {
    try {
      const r = await api("GET", `/api/v1/cache/${encodeURIComponent(b.bind_name)}/entries?status=failed_permanent&limit=500`);
      for (const e of r.entries) failed.push(Object.assign({ bind: b.bind_name }, e));
    } catch (e) {
      say("cache-message", e.message, true);
    }
  }
  syncRows($("#cache-failed tbody"), failed, (e) => `${e.bind}/${e.id}`, (e) => [
    e.bind, e.id, e.what || e.kind, e.destination_addr || "", e.text || "", { text: e.retry_count, class: "num" },
    { text: e.last_error || "", class: "err" }, new Date(e.created_at_ms).toLocaleString(),
  ], (e) => [
    el("button", { type: "button", "aria-label": `Retry ${e.id}`, text: "Retry", onclick: () => cacheCall("POST", `/api/v1/cache/${encodeURIComponent(e.bind)}/entries/${encodeURIComponent(e.id)}/retry`, `Retry ${e.id} now?`) }),
    el("button", { type: "button", class: "danger", "aria-label": `Delete ${e.id}`, text: "Delete", onclick: () => cacheCall("DELETE", `/api/v1/cache/${encodeURIComponent(e.bind)}/entries/${encodeURIComponent(e.id)}`, `Delete ${e.id} from the cache? It is lost.`) }),
  ]);
  if (!failed.length) say("cache-message", "No entry failed permanently.");
  else say("cache-message", `${failed.length} entries failed permanently.`);
}

async function cacheCall(method, path, question) {
  if (!confirm(question)) return;
  try {
    await api(method, path);
  } catch (e) {
    say("cache-message", e.message, true);
  }
  await loadCache();
}

async function cacheAll(action) {
  const binds = (cacheView ? cacheView.binds : []).filter((b) => b.failed_permanent > 0);
  const n = binds.reduce((a, b) => a + b.failed_permanent, 0);
  if (!n) { say("cache-message", "No entry failed permanently."); return; }
  if (!confirm(action === "retry" ? `Retry all ${n} failed entries now?` : `Delete all ${n} failed entries? They are lost.`)) return;
  for (const b of binds) {
    const base = `/api/v1/cache/${encodeURIComponent(b.bind_name)}/failed`;
    try { await api(action === "retry" ? "POST" : "DELETE", action === "retry" ? `${base}/retry` : base); } catch (e) { say("cache-message", e.message, true); }
  }
  await loadCache();
}

// ---- logs ------------------------------------------------------------------------------------

const MAX_LOGS = 2000;

async function loadLogs() {
  try {
    const r = await api("GET", "/api/v1/logs?limit=500");
    for (const rec of r.records) addLog(rec, false);
    renderLogs();
  } catch (_) { /* the stream brings the next ones */ }
}

function logMatches(rec) {
  const min = LEVELS[$("#logs-level").value] ?? 0;
  if ((LEVELS[String(rec.level).toLowerCase()] ?? 0) < min) return false;
  const q = $("#logs-search").value.trim().toLowerCase();
  if (!q) return true;
  return `${rec.message} ${rec.target} ${JSON.stringify(rec.fields || {})}`.toLowerCase().includes(q);
}

function logLine(rec) {
  const lv = String(rec.level).toLowerCase();
  const fields = Object.entries(rec.fields || {}).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  return el("div", { class: "rec", "data-seq": rec.seq },
    el("span", { class: "t", text: new Date(rec.at_ms).toISOString().slice(11, 23) + " " }),
    el("span", { class: `lv lv-${lv}`, text: lv.toUpperCase() }),
    el("span", { class: "m", text: rec.message }),
    fields ? el("span", { class: "f", text: " " + fields }) : null);
}

function addLog(rec, render = true) {
  if (rec.seq && rec.seq <= state.lastLogSeq) return;
  if (rec.seq) state.lastLogSeq = rec.seq;
  state.logs.push(rec);
  if (state.logs.length > MAX_LOGS) state.logs.splice(0, state.logs.length - MAX_LOGS);
  if (!render || $("#page-logs").hidden) return;
  if (state.logsPaused) { state.logsUnseen++; logCount(); return; }
  if (logMatches(rec)) {
    const list = $("#logs-list");
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(logLine(rec));
    while (list.childElementCount > MAX_LOGS) list.firstElementChild.remove();
    if (atEnd) list.scrollTop = list.scrollHeight;
  }
  logCount();
}

function logCount() {
  const shown = $("#logs-list").childElementCount;
  $("#logs-count").textContent = state.logsPaused ? `paused · ${state.logsUnseen} new` : `${shown} shown of ${state.logs.length}`;
}

function renderLogs() {
  const list = $("#logs-list");
  list.replaceChildren(...state.logs.filter(logMatches).map(logLine));
  list.scrollTop = list.scrollHeight;
  logCount();
}

function toggleLogPause() {
  state.logsPaused = !state.logsPaused;
  const b = $("#logs-pause");
  b.textContent = state.logsPaused ? "Resume" : "Pause";
  b.setAttribute("aria-pressed", String(state.logsPaused));
  state.logsUnseen = 0;
  if (!state.logsPaused) renderLogs();
  else logCount();
}

// ---- charts ----------------------------------------------------------------------------------

function record(st) {
  const now = Date.now();
  for (const b of st.binds) {
    let h = state.history.get(b.name);
    if (!h) { h = []; state.history.set(b.name, h); }
    h.push({ t: now, out: b.tps_now, inn: b.tps_in_now });
    while (h.length && h[0].t < now - HISTORY_SECONDS * 1000) h.shift();
  }
  for (const name of state.history.keys()) if (!st.binds.some((b) => b.name === name)) state.history.delete(name);
  if (!$("#page-charts").hidden) drawCharts();
}

function niceMax(v) {
  if (v <= 5) return 5;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function drawCharts() {
  const box = $("#charts");
  $("#charts-window").textContent = String(HISTORY_SECONDS / 60);
  for (const c of $$(".chart", box)) if (!state.history.has(c.dataset.bind)) c.remove();
  const css = getComputedStyle(document.documentElement);
  const colours = { out: css.getPropertyValue("--sent").trim() || "#1f77b4", inn: css.getPropertyValue("--recv").trim() || "#e36b0a" };
  for (const [name, h] of state.history) {
    let c = $$(".chart", box).find((x) => x.dataset.bind === name);
    if (!c) {
      c = el("figure", { class: "chart card", "data-bind": name },
        el("h3", { text: name }), el("canvas", { role: "img", "aria-label": `${name}: messages per second` }), el("figcaption", { class: "muted small" }));
      box.append(c);
    }
    const canvas = $("canvas", c);
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 300, hgt = canvas.clientHeight || 180;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(hgt * dpr);
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const left = 36, bottom = 18, top = 6, right = 6;
    const pw = w - left - right, ph = hgt - top - bottom;
    const max = niceMax(Math.max(1, ...h.map((p) => Math.max(p.out, p.inn))));
    const now = Date.now(), t0 = now - HISTORY_SECONDS * 1000;
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#5b6675";
    g.strokeStyle = "#d8dee6";
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + ph - (ph * i) / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(left + pw, y); g.stroke();
      g.fillText(String(Math.round((max * i) / 4)), 2, y + 4);
    }
    for (let m = 0; m <= HISTORY_SECONDS / 60; m++) {
      const x = left + pw - (pw * m * 60) / HISTORY_SECONDS;
      g.fillText(m === 0 ? "now" : `-${m}m`, Math.max(left, x - 10), hgt - 4);
    }
    for (const key of ["out", "inn"]) {
      g.strokeStyle = colours[key];
      g.lineWidth = 2;
      g.beginPath();
      h.forEach((p, i) => {
        const x = left + (pw * (p.t - t0)) / (HISTORY_SECONDS * 1000);
        const y = top + ph - (ph * p[key]) / max;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    }
    const last = h[h.length - 1] || { out: 0, inn: 0 };
    const peakOut = Math.max(0, ...h.map((p) => p.out)), peakIn = Math.max(0, ...h.map((p) => p.inn));
    $("figcaption", c).textContent = `now ${last.out} sent/s, ${last.inn} received/s · peak ${peakOut} / ${peakIn}`;
    canvas.setAttribute("aria-label", `${name}: now ${last.out} sent and ${last.inn} received per second; peak ${peakOut} and ${peakIn} over ${HISTORY_SECONDS / 60} minutes`);
  }
}

// ---- wiring ----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  for (const r of $$('input[name="auth-kind"]')) r.addEventListener("change", () => {
    const b = $("#auth-kind-basic").checked;
    $("#login-basic-box").hidden = !b;
    $("#login-token-box").hidden = b;
  });
  $("#logout").addEventListener("click", () => logout());
  buildForm("client");
  buildForm("server");
  $("#client-add").addEventListener("click", () => openForm("client", null));
  $("#server-add").addEventListener("click", () => openForm("server", null));
  $("#cache-retry-all").addEventListener("click", () => cacheAll("retry"));
  $("#cache-delete-all").addEventListener("click", () => cacheAll("delete"));
  $("#logs-level").addEventListener("change", renderLogs);
  $("#logs-search").addEventListener("input", renderLogs);
  $("#logs-pause").addEventListener("click", toggleLogPause);
  $("#logs-clear").addEventListener("click", () => { state.logs = []; state.logsUnseen = 0; renderLogs(); });
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => { if (!$("#page-charts").hidden) drawCharts(); });
  if (state.auth) start(); else route();
});
