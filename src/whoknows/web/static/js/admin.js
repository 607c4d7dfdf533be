// Admin: upload an export and follow its progress, rebuild derived data.
import { api, h } from "./common.js";

const form = document.getElementById("import-form");
const block = document.getElementById("import-progress");
const bar = document.getElementById("import-bar");
const stage = document.getElementById("import-stage");
const detail = document.getElementById("import-detail");
const result = document.getElementById("import-result");
const reindexButton = document.getElementById("reindex");
const reindexResult = document.getElementById("reindex-result");
const POLL_MS = 400;

const STAGES = { importing: "Importing messages…", indexing: "Updating memory and search index…", done: "Import finished", failed: "Import failed" };

function table(rows) {
  return h(
    "table",
    { class: "result-table" },
    h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", { class: "n" }, String(v))))),
  );
}

const OUTCOMES = ["new", "updated", "skipped", "rejected"];

/** The import's counts, {kind: {new, updated, skipped, rejected}}, as a table with a row per kind. */
function countsTable(counts) {
  const kinds = Object.entries(counts || {}).filter(([, per]) => per && typeof per === "object");
  if (!kinds.length) return h("p", { class: "hint" }, "Nothing was written.");
  return h(
    "table",
    { class: "result-table" },
    h("caption", { class: "visually-hidden" }, "Records written by the import"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Records"), OUTCOMES.map((o) => h("th", { scope: "col", class: "n" }, o)))),
    h("tbody", {}, kinds.map(([kind, per]) => h("tr", {}, h("th", { scope: "row" }, kind), OUTCOMES.map((o) => h("td", { class: "n" }, String(per[o] || 0)))))),
  );
}

function setProgress(value, label, text) {
  if (value === null) bar.removeAttribute("value");
  else bar.value = value;
  stage.textContent = label;
  detail.textContent = text || "";
}

async function poll(id) {
  for (;;) {
    const s = await api(`/admin/imports/${encodeURIComponent(id)}`);
    const p = s.progress || {};
    const st = p.stage || (s.status === "running" ? "importing" : s.status);
    if (st === "done" || (s.status === "done" && !p.stage)) {
      bar.className = "done";
      const messages = (s.counts && s.counts.messages) || {};
      setProgress(100, STAGES.done, `${messages.new || 0} new and ${messages.updated || 0} updated messages.`);
      const warnings = (p.warnings || []).length;
      const parts = [h("p", { class: "confirm" }, `Import #${s.id} is done.`), countsTable(s.counts)];
      if (warnings) parts.push(h("p", { class: "notice" }, `${warnings} warning${warnings === 1 ? "" : "s"}: ${p.warnings[0]}`));
      result.replaceChildren(...parts);
      return;
    }
    if (st === "failed" || s.status === "failed") {
      bar.className = "failed";
      setProgress(100, STAGES.failed, "");
      result.replaceChildren(h("p", { class: "form-error", role: "alert" }, p.error || s.error || "The import failed."));
      return;
    }
    const total = p.total_hint;
    const done = p.messages || 0;
    if (st === "indexing") setProgress(90, STAGES.indexing, `${done} messages imported.`);
    else setProgress(total ? Math.min(85, Math.round((85 * done) / total)) : null, STAGES.importing, `${done} messages so far.`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = form.elements.file.files[0];
  result.replaceChildren();
  if (!file) {
    result.replaceChildren(h("p", { class: "form-error", role: "alert" }, "Choose a file to import."));
    return;
  }
  const data = new FormData();
  data.append("kind", form.elements.kind.value);
  data.append("file", file);
  if (form.elements.space_name.value.trim()) data.append("space_name", form.elements.space_name.value.trim());
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  block.hidden = false;
  bar.className = "";
  setProgress(null, "Uploading…", file.name);
  try {
    const started = await api("/admin/imports", { method: "POST", form: data });
    await poll(started.import_id);
  } catch (err) {
    bar.className = "failed";
    setProgress(100, STAGES.failed, "");
    result.replaceChildren(h("p", { class: "form-error", role: "alert" }, err.message));
  } finally {
    button.disabled = false;
  }
});

reindexButton.addEventListener("click", async () => {
  reindexButton.disabled = true;
  reindexButton.setAttribute("aria-busy", "true");
  reindexResult.replaceChildren(h("p", { class: "hint" }, "Rebuilding… this can take a while."));
  try {
    const out = (await api("/admin/reindex", { method: "POST" })) || {};
    const pick = (part, keys) => keys.filter((k) => typeof (out[part] || {})[k] === "number").map((k) => [k.replaceAll("_", " "), out[part][k]]);
    const rows = [
      ...pick("memory", ["questions", "solved", "solutions"]).map(([k, v]) => [`memory: ${k}`, v]),
      ...pick("index", ["documents"]).map(([k, v]) => [`search index: ${k}`, v]),
      ...pick("expertise", ["people", "training_questions"]).map(([k, v]) => [`expertise: ${k}`, v]),
    ];
    const took = typeof out.seconds === "number" ? ` in ${out.seconds.toFixed(1)} s` : "";
    reindexResult.replaceChildren(h("p", { class: "confirm" }, `Derived data rebuilt${took}.`), table(rows));
  } catch (err) {
    reindexResult.replaceChildren(h("p", { class: "form-error", role: "alert" }, err.message));
  } finally {
    reindexButton.disabled = false;
    reindexButton.removeAttribute("aria-busy");
  }
});
