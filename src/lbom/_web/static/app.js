// l-bom GUI. Vanilla JS, no build step, nothing from the network.
// Rule: text that comes from files (names, metadata, messages) is only ever inserted with textContent
// (via el()/text nodes), never parsed as HTML, so a hostile model name cannot inject markup.
"use strict";

const state = {
  info: null,
  browsePath: null,
  browseParent: null,
  jobId: null,
  result: null,
  modelIndex: null,
  sortKey: "name",
  sortDir: 1,
  filter: "",
  polling: null,
  scansSeq: 0,
  gate: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// ---------------------------------------------------------------- formatting

function fmtBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
}

function fmtCount(n) {
  if (n === null || n === undefined) return "–";
  const steps = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [size, suffix] of steps) {
    if (n >= size) { const v = n / size; return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + suffix; }
  }
  return String(n);
}

function fmtInt(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}

function dash(v) {
  return v === null || v === undefined || v === "" ? "–" : String(v);
}

const SEVERITIES = ["critical", "high", "medium", "low", "info"];

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options) {
  const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (init.body !== undefined && typeof init.body !== "string") {
    init.body = JSON.stringify(init.body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_e) { data = text; }
  if (!response.ok) {
    const message = data && data.error ? data.error : "HTTP " + response.status;
    if (response.status === 401) showBanner(
      "This page needs its access token. Open the URL that `l-bom gui` printed in the terminal (it ends in ?token=…).");
    throw new ApiError(response.status, message);
  }
  return data;
}

async function apiFetch(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (!response.ok) {
    let message = "HTTP " + response.status;
    try { message = (await response.json()).error || message; } catch (_e) { /* not JSON */ }
    throw new ApiError(response.status, message);
  }
  return response;
}

async function apiText(path) {
  return (await apiFetch(path)).text();
}

function showBanner(message) {
  const banner = $("banner");
  banner.textContent = message;
  banner.hidden = false;
}

function hideBanner() { $("banner").hidden = true; }

// ---------------------------------------------------------------- folder browser

// focus: false (page start), true (the first folder of the new listing, or the list itself), or the path of the
// entry to focus (going up focuses the folder we came from). Re-rendering the list removes the focused button, which would drop keyboard focus
// to <body>, where Backspace ("go up") and the arrow keys no longer reach the folder browser.
async function browse(path, focus) {
  let data;
  try {
    data = await api("/api/browse" + (path ? "?path=" + encodeURIComponent(path) : ""));
  } catch (err) {
    if (err.status !== 401) showBanner("Cannot open folder: " + err.message);
    return;
  }
  hideBanner();
  state.browsePath = data.path;
  state.browseParent = data.parent;
  $("where").textContent = data.path || "Folders you can scan";
  $("up").disabled = data.path === null;
  $("scan-here").disabled = data.path === null;
  const list = $("entries");
  clear(list);
  for (const entry of data.entries) list.append(entryRow(entry, data.path === null));
  const note = $("entries-note");
  note.hidden = !(data.truncated || data.entries.length === 0);
  note.textContent = data.truncated ? "Only the first entries are shown." : "This folder is empty.";
  if (focus) {
    const folders = [...list.querySelectorAll("button.name")];
    const target = folders.find((b) => b.dataset.path === focus) || folders[0] || list;
    target.focus();
  }
}

function browseUp() {
  browse(state.browseParent, state.browsePath || true);
}

function baseName(path) {
  const parts = path.split("/").filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

function entryRow(entry, isRoot) {
  const li = el("li");
  if (entry.kind === "dir" && isRoot) {
    // A served folder: its own name, with the full path underneath (the start of long paths is elided).
    li.append(el("button", { type: "button", class: "name dir root", title: entry.path, "aria-label": entry.path,
      "data-path": entry.path, onclick: () => browse(entry.path, true) }, entry.label || baseName(entry.path), el("span", { class: "root-path" }, "\u200e" + entry.path)));
    li.append(el("button", { type: "button", class: "scan", "aria-label": "Scan " + entry.path,
      onclick: () => startScan([entry.path]) }, "Scan"));
  } else if (entry.kind === "dir") {
    li.append(el("button", { type: "button", class: "name dir", title: entry.path, "data-path": entry.path,
      onclick: () => browse(entry.path, true) },
      entry.name));
    li.append(el("button", { type: "button", class: "scan", "aria-label": "Scan " + entry.name,
      onclick: () => startScan([entry.path]) }, "Scan"));
  } else if (entry.kind === "file") {
    li.append(el("span", { class: "name file" + (entry.model_like ? " model" : ""), title: entry.path }, entry.name));
    li.append(el("span", { class: "size" }, fmtBytes(entry.size)));
    li.append(el("button", { type: "button", class: "scan", "aria-label": "Scan " + entry.name,
      onclick: () => startScan([entry.path]) }, "Scan"));
  } else {
    const why = { outside: "link outside the served folders", broken: "broken link", other: "not a regular file" };
    li.append(el("span", { class: "off", title: why[entry.kind] || entry.kind }, entry.name + " — " + (why[entry.kind] || entry.kind)));
  }
  return li;
}

// ---------------------------------------------------------------- scans and progress

async function startScan(paths) {
  let job;
  try {
    job = await api("/api/scans", { method: "POST", body: { paths, hash: $("hash").checked } });
  } catch (err) {
    showBanner("Cannot start the scan: " + err.message);
    return;
  }
  hideBanner();
  openJob(job.id);
  refreshScans();
}

function setHash() {
  const parts = [];
  if (state.jobId) parts.push("scan=" + state.jobId);
  if (state.jobId && state.modelIndex !== null) parts.push("model=" + state.modelIndex);
  const next = parts.length ? "#" + parts.join("&") : "";
  if (location.hash !== next) history.replaceState(null, "", location.pathname + next);
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const model = params.get("model");
  return { scan: params.get("scan"), model: model === null ? null : Number(model) };
}

async function openJob(id, modelIndex) {
  if (state.polling) { clearTimeout(state.polling); state.polling = null; }
  state.jobId = id;
  state.modelIndex = modelIndex === undefined ? null : modelIndex;
  state.result = null;
  setHash();
  markCurrentScan();
  await poll();
}

async function poll() {
  const id = state.jobId;
  let job;
  try {
    job = await api("/api/scans/" + encodeURIComponent(id));
  } catch (err) {
    if (err.status === 404) { state.jobId = null; setHash(); showEmpty(); }
    return;
  }
  if (id !== state.jobId) return;
  if (job.state === "queued" || job.state === "running") {
    showProgress(job);
    state.polling = setTimeout(poll, 350);
    return;
  }
  $("progress").hidden = true;
  refreshScans();
  if (job.state === "done") {
    const result = await api("/api/scans/" + encodeURIComponent(id) + "/result");
    if (id !== state.jobId) return;
    state.result = result;
    showResult(job);
  } else {
    showEmpty();
    showBanner(job.state === "cancelled" ? "The scan was cancelled." : "The scan failed: " + (job.error || "unknown error"));
  }
}

function showProgress(job) {
  $("empty").hidden = true;
  $("results").hidden = true;
  $("progress").hidden = false;
  const p = job.progress;
  $("progress-path").textContent = p ? p.path : job.paths.join(", ");
  const bar = $("progress-bar");
  if (p && p.bytes_total > 0) { bar.max = p.bytes_total; bar.value = p.bytes_done; }
  else if (p && p.files_total > 0) { bar.max = p.files_total; bar.value = p.files_done; }
  else bar.removeAttribute("value");
  const parts = [];
  if (p) {
    parts.push(fmtInt(p.files_done) + " / " + fmtInt(p.files_total) + " files");
    parts.push(fmtBytes(p.bytes_done) + " / " + fmtBytes(p.bytes_total));
    if (p.bytes_per_second) parts.push(fmtBytes(p.bytes_per_second) + "/s");
  } else {
    parts.push(job.state === "queued" ? "waiting for a free slot…" : "looking for files…");
  }
  parts.push(job.elapsed.toFixed(1) + " s");
  $("progress-text").textContent = parts.join(" · ");
}

async function cancelScan() {
  if (!state.jobId) return;
  try { await api("/api/scans/" + encodeURIComponent(state.jobId) + "/cancel", { method: "POST", body: {} }); }
  catch (err) { showBanner("Cannot cancel: " + err.message); }
}

function showEmpty() {
  $("progress").hidden = true;
  $("results").hidden = true;
  $("empty").hidden = false;
}

async function refreshScans() {
  // Several refreshes can be in flight (a scan starts, a scan ends); only the newest answer is applied, so a slow
  // early answer cannot roll the list (and the compare choices built from it) back to an older state.
  const seq = ++state.scansSeq;
  let data;
  try { data = await api("/api/scans"); } catch (_err) { return; }
  if (seq !== state.scansSeq) return;
  state.scans = data.scans;
  const list = $("scans");
  clear(list);
  $("no-scans").hidden = data.scans.length > 0;
  for (const job of data.scans) {
    const when = new Date(job.created * 1000).toLocaleTimeString();
    const label = job.state === "done" ? job.models + " model" + (job.models === 1 ? "" : "s") : job.state;
    list.append(el("li", {}, el("button", { type: "button", "data-id": job.id, onclick: () => openJob(job.id) },
      el("span", {}, when), el("span", { class: "state" }, label),
      el("span", { class: "path" }, job.paths.flatMap((p, i) => [i ? ", " : "", ...pathText(p)])))));
  }
  markCurrentScan();
  renderGate();
}

function markCurrentScan() {
  for (const button of $("scans").querySelectorAll("button")) {
    button.setAttribute("aria-current", button.dataset.id === state.jobId ? "true" : "false");
  }
}

// ---------------------------------------------------------------- results

function showResult(job) {
  $("empty").hidden = true;
  $("progress").hidden = true;
  $("results").hidden = false;
  $("result-title").textContent = "Scan of " + job.paths.join(", ") + " · " + job.elapsed.toFixed(2) + " s";
  renderCards();
  renderTable();
  renderScanFindings();
  renderExports();
  renderGate();
  if (state.modelIndex !== null && state.result.models[state.modelIndex]) showDetail(state.modelIndex, false);
  else $("detail").hidden = true;
}

function card(label, value, sub, extra) {
  return el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value),
    sub ? el("div", { class: "sub" }, sub) : null, extra || null);
}

function renderCards() {
  const s = state.result.summary;
  const cards = $("cards");
  clear(cards);
  const formats = Object.entries(s.formats).map(([name, count]) => name + " " + count).join(" · ");
  const totalFindings = Object.values(s.findings).reduce((a, b) => a + b, 0);
  const sevRow = el("div", { class: "sev-row" }, SEVERITIES.map((sev) =>
    el("span", { class: "badge sev-" + sev + (s.findings[sev] ? "" : " zero"), title: sev }, sev + " " + s.findings[sev])));
  cards.append(
    card("Models", fmtInt(s.models), fmtInt(s.files) + " file" + (s.files === 1 ? "" : "s")),
    card("Total size", fmtBytes(s.total_size), s.hashed ? "SHA-256 computed" : "not hashed"),
    card("Formats", String(Object.keys(s.formats).length), formats || "none"),
    card("Findings", fmtInt(totalFindings), null, sevRow),
  );
}

const COLUMNS = [
  { key: "name", label: "Name", get: (m) => m.model_name || m.model_filename },
  { key: "format", label: "Format", get: (m) => m.format },
  { key: "architecture", label: "Architecture", get: (m) => m.architecture },
  { key: "parameters", label: "Parameters", num: true, get: (m) => m.parameter_count, show: fmtCount },
  { key: "quantization", label: "Quantization", get: (m) => m.quantization || m.dtype },
  { key: "context", label: "Context", num: true, get: (m) => m.context_length, show: fmtInt },
  { key: "size", label: "Size", num: true, get: (m) => m.file_size_bytes, show: fmtBytes },
  { key: "license", label: "License", get: (m) => m.license || m.license_name },
  { key: "findings", label: "Findings", get: (m) => worstRank(m), show: null },
];

function worstRank(model) {
  let worst = 0;
  for (const f of model.findings) worst = Math.max(worst, 5 - SEVERITIES.indexOf(f.severity));
  return worst * 1000 + model.findings.length;
}

function renderTable() {
  const head = $("models-head");
  clear(head);
  for (const col of COLUMNS) {
    const sorted = state.sortKey === col.key;
    head.append(el("th", { scope: "col", class: "c-" + col.key + (col.num ? " num" : ""),
      "aria-sort": sorted ? (state.sortDir > 0 ? "ascending" : "descending") : "none" },
      el("button", { type: "button", onclick: () => sortBy(col.key) }, col.label)));
  }
  const body = $("models-body");
  clear(body);
  const needle = state.filter.trim().toLowerCase();
  const rows = state.result.models.map((m, index) => ({ m, index })).filter(({ m }) => {
    if (!needle) return true;
    return [m.model_name, m.model_filename, m.model_path, m.format, m.architecture, m.quantization, m.dtype,
      m.license, m.license_name].some((v) => v && String(v).toLowerCase().includes(needle));
  });
  const col = COLUMNS.find((c) => c.key === state.sortKey);
  rows.sort((a, b) => {
    const va = col.get(a.m);
    const vb = col.get(b.m);
    if (va === vb) return a.index - b.index;
    if (va === null || va === undefined) return 1;
    if (vb === null || vb === undefined) return -1;
    return (typeof va === "number" ? va - vb : String(va).localeCompare(String(vb))) * state.sortDir;
  });
  for (const { m, index } of rows) {
    const tr = el("tr", { "data-index": index, "aria-selected": index === state.modelIndex ? "true" : "false" });
    for (const c of COLUMNS) {
      let cell;
      if (c.key === "name") {
        // The architecture and license ride under the name; CSS shows that line when their columns are dropped.
        const merged = [m.architecture, m.license || m.license_name].filter(Boolean).join(" · ");
        cell = el("td", { class: "c-name" }, el("button", { type: "button", class: "open",
          title: dash(c.get(m)) + "\n" + m.model_path, onclick: () => showDetail(index, true) }, dash(c.get(m))),
        merged ? el("span", { class: "merged" }, merged) : null);
      } else if (c.key === "findings") {
        cell = el("td", { class: "c-findings" }, findingBadges(m.findings));
      } else {
        const v = c.get(m);
        const shown = c.show ? c.show(v) : dash(v);
        // Long text values (a 30-letter architecture class) are cut with an ellipsis; the title has them whole.
        cell = el("td", { class: "c-" + c.key + (c.num ? " num" : ""), title: c.num ? null : shown },
          c.num ? shown : el("span", { class: "clip" }, shown));
      }
      tr.append(cell);
    }
    body.append(tr);
  }
  $("models-none").hidden = rows.length > 0;
}

function findingBadges(findings) {
  if (!findings.length) return el("span", { class: "muted" }, "none");
  const counts = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] || 0) + 1;
  return el("span", { class: "sev-row" }, SEVERITIES.filter((s) => counts[s]).map((s) =>
    el("span", { class: "badge sev-" + s, title: s }, s + " " + counts[s])));
}

function sortBy(key) {
  if (state.sortKey === key) state.sortDir = -state.sortDir;
  else { state.sortKey = key; state.sortDir = 1; }
  renderTable();
  const button = $("models-head").querySelector("th:nth-child(" + (COLUMNS.findIndex((c) => c.key === key) + 1) + ") button");
  if (button) button.focus();
}

function renderScanFindings() {
  const findings = state.result.findings;
  $("scan-findings").hidden = findings.length === 0;
  const list = $("scan-findings-list");
  clear(list);
  for (const f of findings) list.append(findingItem(f));
}

function findingItem(f) {
  return el("li", { class: "sev-" + f.severity },
    el("div", {}, el("span", { class: "badge sev-" + f.severity }, f.severity), " ",
      el("code", {}, f.rule_id), " ", el("span", { class: "msg" }, f.message)),
    f.file || f.location ? el("div", { class: "where" }, [f.file, f.location].filter(Boolean).join(" · ")) : null,
    f.remedy ? el("div", { class: "remedy" }, f.remedy) : null);
}

// ---------------------------------------------------------------- detail view

function showDetail(index, focus) {
  const m = state.result.models[index];
  if (!m) return;
  state.modelIndex = index;
  setHash();
  for (const tr of $("models-body").querySelectorAll("tr")) {
    tr.setAttribute("aria-selected", Number(tr.dataset.index) === index ? "true" : "false");
  }
  const panel = $("detail");
  $("detail-title").textContent = m.model_name || m.model_filename;
  const body = $("detail-body");
  clear(body);

  const identity = [
    ["Path", m.model_path, "path"],
    ["Format", m.format + (m.format_version ? " v" + m.format_version : "")],
    ["Architecture", m.architecture],
    ["Parameters", m.parameter_count === null ? null : fmtInt(m.parameter_count) + " (" + fmtCount(m.parameter_count) + ")"],
    ["Size label", m.size_label],
    ["Quantization", m.quantization],
    ["Dtype", m.dtype],
    ["Context length", m.context_length === null ? null : fmtInt(m.context_length)],
    ["Vocabulary", m.vocab_size === null ? null : fmtInt(m.vocab_size)],
    ["Tensors", m.tensor_count === null ? null : fmtInt(m.tensor_count)],
    ["License", [m.license, m.license_name].filter(Boolean).join(" · ") || null],
    ["Base models", m.base_models.map((b) => [b.organization, b.name].filter(Boolean).join(" / ")).join(", ") || null],
    ["Framework", m.training_framework],
    ["Size", fmtBytes(m.file_size_bytes) + " (" + fmtInt(m.file_size_bytes) + " bytes)"],
    ["SHA-256", m.sha256, "path"],
  ];
  if (m.source) {
    identity.push(["Source", [m.source.kind, m.source.repo_id, m.source.revision, m.source.tag].filter(Boolean).join(" · ")]);
    if (m.source.purl) identity.push(["purl", m.source.purl, "path"]);
  }
  const left = el("div", {}, el("h3", {}, "Identity"), kv(identity));
  const right = el("div", {}, el("h3", {}, "Tensor types"), tensorChart(m.tensor_types));
  body.append(el("div", { class: "cols" }, left, right));

  body.append(el("h3", {}, "Findings"));
  if (m.findings.length) body.append(el("ul", { class: "findings" }, m.findings.map(findingItem)));
  else body.append(el("p", { class: "muted" }, "No findings."));

  body.append(el("h3", {}, "Files"));
  body.append(el("div", { class: "table-wrap" }, el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ["File", "Role", "Size", "SHA-256"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, m.files.map((f) => el("tr", {},
      el("td", { class: "path" }, pathText(f.relative_path)), el("td", {}, f.role), el("td", { class: "num" }, fmtBytes(f.size)),
      el("td", { class: "path" }, dash(f.sha256))))))));

  if (m.chat_templates.length) {
    body.append(el("h3", {}, "Chat templates"));
    body.append(kv(m.chat_templates.map((t) => [t.name, t.source + " · " + fmtInt(t.length) + " chars · sha256 " + t.sha256])));
  }
  if (m.sidecars) {
    const s = m.sidecars;
    body.append(el("h3", {}, "Sidecar files"));
    body.append(kv([
      ["Files", s.files.join(", ")], ["Model type", s.model_type], ["Architecture", s.architecture],
      ["Dtype", s.dtype], ["Transformers", s.transformers_version], ["Tokenizer", s.tokenizer_class],
      ["Pipeline", s.pipeline_tag], ["Tags", s.tags.join(", ") || null], ["Languages", s.languages.join(", ") || null],
    ]));
  }
  body.append(metadataSection(m.metadata));
  panel.hidden = false;
  if (focus) { panel.focus(); panel.scrollIntoView({ block: "start" }); }
}

// A path as one inline block per folder ("name/"), so a long path wraps after a '/' rather than inside a name (at a
// hyphen, or mid-word); a single name wider than the whole line still wraps inside itself.
function pathText(path) {
  return path.split("/").map((part, i, all) => el("span", { class: "seg" }, i < all.length - 1 ? part + "/" : part))
    .filter((span) => span.textContent !== "");
}

function kv(pairs) {
  const dl = el("dl", { class: "kv" });
  for (const [key, value, cls] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    dl.append(el("dt", {}, key), el("dd", { class: cls || null }, cls === "path" ? pathText(String(value)) : String(value)));
  }
  return dl;
}

function tensorChart(types) {
  if (!types || !types.length) return el("p", { class: "muted" }, "No tensor table.");
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const rows = [...types].sort((a, b) => b.parameters - a.parameters || a.type.localeCompare(b.type));
  const total = rows.reduce((a, r) => a + r.parameters, 0) || 1;
  const max = Math.max(...rows.map((r) => r.parameters), 1);
  // Drawn in viewBox units and scaled to the card's width by CSS (width: 100%): type names on the left, the numbers
  // right-aligned against the right edge, the bar in between, so nothing is cut off at any width.
  const rowH = 26, labelW = 72, statsW = 184, width = 420, barW = width - labelW - statsW - 10;
  const height = rows.length * rowH + 4;
  const svg = svgEl("svg", { class: "chart", role: "img", viewBox: "0 0 " + width + " " + height,
    preserveAspectRatio: "xMinYMin meet" });
  svg.append(svgEl("title", {}, "Parameters per tensor type"));
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    svg.append(svgEl("text", { x: 0, y: y + 16 }, r.type));
    svg.append(svgEl("rect", { class: "track", x: labelW, y: y + 4, width: barW, height: 16, rx: 3 }));
    svg.append(svgEl("rect", { class: "bar", x: labelW, y: y + 4, width: Math.max(2, (barW * r.parameters) / max), height: 16, rx: 3 }));
    const pct = ((100 * r.parameters) / total).toFixed(1);
    svg.append(svgEl("text", { class: "muted", x: width - 1, y: y + 16, "text-anchor": "end" },
      fmtCount(r.parameters) + " · " + pct + "% · " + r.tensors + " tensor" + (r.tensors === 1 ? "" : "s")));
  });
  return svg;
}

function isArrayPreview(v) {
  return v && typeof v === "object" && !Array.isArray(v) && v.type === "array" && Array.isArray(v.preview);
}

function previewText(items) {
  return items.map((x) => (typeof x === "string" ? JSON.stringify(x) : JSON.stringify(x))).join(", ");
}

function metaValue(v) {
  if (isArrayPreview(v)) {
    const more = v.count - v.preview.length;
    return el("span", {}, el("span", { class: "arr" }, "[" + v.element_type + " × " + fmtInt(v.count) + "] "),
      previewText(v.preview) + (more > 0 ? " … (+" + fmtInt(more) + " more)" : ""));
  }
  if (Array.isArray(v)) return el("span", {}, el("span", { class: "arr" }, "[" + v.length + "] "), previewText(v));
  const text = typeof v === "string" ? v : JSON.stringify(v);
  if (text.length > 160 || text.includes("\n")) {
    return el("details", {}, el("summary", {}, text.slice(0, 120).replace(/\s+/g, " ") + "… (" + fmtInt(text.length) + " chars)"),
      el("pre", {}, text));
  }
  return el("span", {}, text);
}

function metadataSection(metadata) {
  const section = el("div", {});
  const keys = Object.keys(metadata || {}).sort();
  section.append(el("h3", {}, "Metadata (" + keys.length + " keys)"));
  if (!keys.length) { section.append(el("p", { class: "muted" }, "No metadata.")); return section; }
  const filter = el("input", { type: "search", placeholder: "Filter keys…", "aria-label": "Filter metadata keys" });
  const tbody = el("tbody");
  const fill = () => {
    clear(tbody);
    const needle = filter.value.trim().toLowerCase();
    for (const key of keys) {
      if (needle && !key.toLowerCase().includes(needle)) continue;
      tbody.append(el("tr", {}, el("td", {}, key), el("td", {}, metaValue(metadata[key]))));
    }
  };
  filter.addEventListener("input", fill);
  fill();
  section.append(el("div", { class: "meta-tools" }, filter));
  section.append(el("div", { class: "table-wrap" }, el("table", { class: "grid meta" }, tbody)));
  return section;
}

// ---------------------------------------------------------------- exports

function exportUrl(fmt, download) {
  return "/api/scans/" + encodeURIComponent(state.jobId) + "/export?format=" + encodeURIComponent(fmt) +
    (download ? "&download=1" : "");
}

function renderExports() {
  const list = $("export-list");
  clear(list);
  const features = state.info.features || {};
  if (features.lock && state.result.summary.hashed && state.result.summary.roots.length === 1) {
    const lockUrl = (download) => "/api/scans/" + encodeURIComponent(state.jobId) + "/lock" + (download ? "?download=1" : "");
    list.append(el("div", { class: "export" }, el("span", { class: "fmt" }, "lock"),
      el("button", { type: "button", id: "download-lock", onclick: () => downloadUrl(lockUrl(true), "lock") }, "Download"),
      el("button", { type: "button", id: "copy-lock", onclick: () => copyUrl(lockUrl(false), "lock") }, "Copy")));
  }
  const oneModel = state.info.one_model_formats || [];
  const models = state.result.summary.models;
  for (const fmt of state.info.formats) {
    if (oneModel.includes(fmt) && models !== 1) {
      // The server refuses these for a scan of several models (or none); say so instead of offering a failing button.
      const why = fmt + " describes one model; this scan has " + models + ". Scan a single model to export it.";
      list.append(el("div", { class: "export off", title: why }, el("span", { class: "fmt" }, fmt,
        el("span", { class: "why muted small", id: "why-" + fmt }, "needs a one-model scan")),
        el("button", { type: "button", id: "download-" + fmt, disabled: true, "aria-describedby": "why-" + fmt,
          "aria-label": "Download " + fmt + " (" + why + ")" }, "Download"),
        el("button", { type: "button", id: "copy-" + fmt, disabled: true, "aria-describedby": "why-" + fmt,
          "aria-label": "Copy " + fmt + " (" + why + ")" }, "Copy")));
      continue;
    }
    list.append(el("div", { class: "export" }, el("span", { class: "fmt" }, fmt),
      el("button", { type: "button", id: "download-" + fmt, onclick: () => downloadUrl(exportUrl(fmt, true), fmt) }, "Download"),
      el("button", { type: "button", id: "copy-" + fmt, onclick: () => copyUrl(exportUrl(fmt, false), fmt) }, "Copy")));
  }
}

async function downloadUrl(path, fmt) {
  const status = $("copy-status");
  try {
    const response = await apiFetch(path);
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: match ? match[1] : "l-bom-export.txt", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    status.textContent = "Downloaded " + fmt + ".";
  } catch (err) {
    status.textContent = "Could not export " + fmt + ": " + err.message;
  }
}

async function copyUrl(path, fmt) {
  const status = $("copy-status");
  try {
    const text = await apiText(path);
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
    else {
      const area = el("textarea", { "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    status.textContent = "Copied " + fmt + " (" + fmtInt(text.length) + " characters).";
  } catch (err) {
    status.textContent = "Could not copy " + fmt + ": " + err.message;
  }
}

// ---------------------------------------------------------------- compare and verify (when the library has them)

function gateParts() {
  // The file inputs and the output live as long as the page: the section is rebuilt whenever the scan list or the
  // shown scan changes, and a rebuild must neither drop the files the user chose nor an answer that is on its way.
  if (!state.gate) {
    state.gate = {
      key: null,
      output: el("div", { id: "gate-output", "aria-live": "polite" }),
      diffFile: el("input", { type: "file", id: "diff-file", accept: ".json,.lock,.toml,.txt",
        "aria-label": "Saved l-bom JSON or lock file to compare with" }),
      lock: el("input", { type: "file", id: "lock-file", accept: ".lock,.toml,.txt", "aria-label": "Lock file" }),
      policy: el("input", { type: "file", id: "policy-file", accept: ".toml,.txt", "aria-label": "Policy file" }),
      outputFor: null,
      runs: 0,
    };
  }
  return state.gate;
}

function renderGate() {
  const features = (state.info && state.info.features) || {};
  const section = $("gate");
  section.hidden = !(features.diff || features.verify || features.policy) || !state.result;
  if (section.hidden) return;
  const gate = gateParts();
  const done = (state.scans || []).filter((j) => j.state === "done" && j.id !== state.jobId);
  const key = state.jobId + "|" + done.map((j) => j.id).join(",");
  if (gate.key === key) return;  // nothing the section shows has changed
  gate.key = key;
  if (gate.outputFor !== state.jobId) { clear(gate.output); gate.outputFor = state.jobId; }
  const body = $("gate-body");
  clear(body);
  const output = gate.output;
  const run = async (path, payload, verdicts) => {
    const ticket = ++gate.runs;
    const forJob = state.jobId;
    showGateOutput(output, { text: "Working…" });
    let data;
    try { data = await api(path, { method: "POST", body: payload }); }
    catch (err) { data = { error: err.message }; }
    // Only the latest request's answer is shown, and only while its scan is still the one on screen.
    if (ticket === gate.runs && forJob === state.jobId) showGateOutput(output, data, verdicts);
  };
  if (features.diff) {
    const select = el("select", { id: "diff-old", "aria-label": "Earlier scan to compare with" },
      done.map((j) => el("option", { value: j.id },
        new Date(j.created * 1000).toLocaleTimeString() + " · " + j.paths.join(", "))));
    if (done.length) {
      body.append(el("div", { class: "gate-row" }, el("span", {}, "Compare with the scan"), select,
        el("button", { type: "button", id: "diff-run",
          onclick: () => run("/api/diff", { old: select.value, new: state.jobId }) }, "Compare")));
    } else {
      body.append(el("p", { class: "muted small" }, "Run another scan to compare two scans with each other."));
    }
    const saved = gate.diffFile;
    const savedLabel = done.length ? "…or with a saved l-bom JSON or lock file" : "Compare with a saved l-bom JSON or lock file";
    body.append(el("div", { class: "gate-row" }, el("span", {}, savedLabel), saved,
      el("button", { type: "button", id: "diff-file-run", onclick: async () => {
        if (!saved.files.length) { showGateOutput(output, { error: "choose a file first" }); return; }
        const file = saved.files[0];
        await run("/api/diff", { old_text: await file.text(), old_name: file.name, new: state.jobId });
      } }, "Compare")));
  }
  if (features.verify) {
    const lock = gate.lock;
    body.append(el("div", { class: "gate-row" }, el("span", {}, "Verify against a lock file"), lock,
      el("button", { type: "button", id: "verify-run", onclick: async () => {
        if (!lock.files.length) { showGateOutput(output, { error: "choose a lock file first" }); return; }
        await run("/api/verify", { scan: state.jobId, lock: await lock.files[0].text() });
      } }, "Verify")));
  }
  if (features.policy) {
    const policy = gate.policy;
    body.append(el("div", { class: "gate-row" }, el("span", {}, "Check against a policy file"), policy,
      el("button", { type: "button", id: "policy-run", onclick: async () => {
        if (!policy.files.length) { showGateOutput(output, { error: "choose a policy file first" }); return; }
        await run("/api/policy", { scan: state.jobId, policy: await policy.files[0].text() },
          ["✓ The policy passes.", "✗ The policy fails."]);
      } }, "Check")));
  }
  body.append(output);
}

function showGateOutput(node, data, verdicts) {
  const [good, bad] = verdicts || ["✓ No differences.", "✗ Differences found."];
  clear(node);
  if (data.error) { node.append(el("p", { class: "bad" }, data.error)); return; }
  if (typeof data.ok === "boolean") {
    node.append(el("p", { class: data.ok ? "ok" : "bad", id: "gate-verdict" },
      data.ok ? good : bad));
  }
  if (data.findings && data.findings.length) node.append(el("ul", { class: "findings" }, data.findings.map(findingItem)));
  else if (data.text) node.append(el("pre", { class: "out" }, data.text));
}

// ---------------------------------------------------------------- start-up and keyboard

function bind() {
  $("up").addEventListener("click", browseUp);
  $("scan-here").addEventListener("click", () => { if (state.browsePath) startScan([state.browsePath]); });
  $("cancel").addEventListener("click", cancelScan);
  $("filter").addEventListener("input", (e) => { state.filter = e.target.value; renderTable(); });
  $("detail-close").addEventListener("click", () => {
    $("detail").hidden = true;
    const previous = state.modelIndex;
    state.modelIndex = null;
    setHash();
    renderTable();
    const button = $("models-body").querySelector('tr[data-index="' + previous + '"] button.open');
    if (button) button.focus();
  });
  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if (e.key === "Escape" && !$("detail").hidden) $("detail-close").click();
    else if (e.key === "/" && !typing && !$("results").hidden) { e.preventDefault(); $("filter").focus(); }
    else if (e.key === "Backspace" && !typing && e.target.closest && e.target.closest("#browser") && !$("up").disabled) {
      e.preventDefault();
      browseUp();
    }
  });
}

async function start() {
  bind();
  try {
    state.info = await api("/api/info");
  } catch (_err) {
    return;
  }
  $("version").textContent = "l-bom " + state.info.version;
  await browse(null);
  await refreshScans();
  const wanted = readHash();
  if (wanted.scan) await openJob(wanted.scan, wanted.model === null ? undefined : wanted.model);
  else if (state.scans && state.scans.length) await openJob(state.scans[0].id);
}

document.addEventListener("DOMContentLoaded", start);
