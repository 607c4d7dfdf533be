// The Ask page: answers as you type (debounced, stale requests aborted, out-of-order answers ignored), expert
// cards with their evidence and availability (all from the one /ask request), and "Ask the experts" (routing).
import { api, formatDate, h, initials, personHref, safeUrl } from "./common.js";

const MIN_CHARS = 3;
const DEBOUNCE_MS = 250;

const form = document.getElementById("ask-form");
const box = document.getElementById("question");
const status = document.getElementById("ask-status");
const results = document.getElementById("results");
const solutions = document.getElementById("solutions");
const similarWrap = document.getElementById("similar-wrap");
const similar = document.getElementById("similar");
const experts = document.getElementById("experts");
const routeButton = document.getElementById("route");
const routeResult = document.getElementById("route-result");
const intro = document.getElementById("intro");

let timer = null;
let controller = null;
let sequence = 0; // the newest request; an answer to an older one is dropped
let shownQuestion = "";

function question() {
  return box.value.trim();
}

function schedule() {
  clearTimeout(timer);
  routeButton.disabled = question().length < MIN_CHARS;
  timer = setTimeout(search, DEBOUNCE_MS);
}

async function search() {
  clearTimeout(timer);
  const q = question();
  if (q.length < MIN_CHARS) {
    if (controller) controller.abort();
    sequence += 1;
    shownQuestion = "";
    results.hidden = true;
    intro.hidden = false;
    status.textContent = q ? `Type at least ${MIN_CHARS} characters.` : "";
    return;
  }
  if (q === shownQuestion) return;
  if (controller) controller.abort();
  controller = new AbortController();
  const mine = ++sequence;
  results.setAttribute("aria-busy", "true");
  if (results.hidden) showLoading();
  try {
    const data = await api("/ask", { method: "POST", body: { question: q, k: 5 }, signal: controller.signal });
    if (mine !== sequence) return;
    shownQuestion = q;
    render(data);
  } catch (err) {
    if (err.name === "AbortError" || mine !== sequence) return;
    status.textContent = err.message;
  } finally {
    if (mine === sequence) results.removeAttribute("aria-busy");
  }
}

function showLoading() {
  results.hidden = false;
  intro.hidden = true;
  solutions.replaceChildren(h("div", { class: "skeleton", "aria-hidden": "true" }));
  experts.replaceChildren(h("div", { class: "skeleton", "aria-hidden": "true" }));
  status.textContent = "Searching…";
}

function render(data) {
  const memory = data.memory || {};
  const found = data.experts || {};
  const sols = memory.solutions || [];
  const ex = found.experts || [];
  results.hidden = false;
  intro.hidden = true;
  routeResult.replaceChildren();
  solutions.replaceChildren(...(sols.length ? sols.map(solutionCard) : [emptyCard(memory.reason || "No recorded answer matches yet.")]));
  if (sols.length && memory.answer && memory.answer.length) {
    solutions.prepend(summaryCard(memory.answer));
  }
  if (sols.length && !memory.answered) {
    solutions.prepend(h("p", { class: "notice" }, `${capitalise(memory.verdict)}: these are the closest past answers.`));
  }
  const rest = memory.similar || [];
  similarWrap.hidden = rest.length === 0;
  similar.replaceChildren(...rest.map(similarItem));
  experts.replaceChildren(...(ex.length ? ex.map(expertCard) : [emptyCard(found.reason || "Nobody has written about this yet.")]));
  for (const w of [...(memory.warnings || []), ...(found.stale ? ["The expertise model is older than the latest data."] : [])]) {
    solutions.appendChild(h("p", { class: "notice" }, w));
  }
  status.textContent = `${count(sols.length, "answer")} and ${count(ex.length, "expert")} for “${data.question}”.`;
}

function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

function count(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function emptyCard(text) {
  return h("div", { class: "card" }, h("p", { class: "empty" }, text));
}

function confidence(value, words) {
  const pct = Math.round(100 * Math.max(0, Math.min(1, value || 0)));
  return h(
    "span",
    { class: "confidence", title: `confidence ${pct} / 100` },
    h("span", { class: "confidence-bar", "aria-hidden": "true" }, h("span", { class: `w-${Math.round(pct / 10)}` })),
    words || "",
  );
}

function personLink(person) {
  if (!person) return null;
  return h("a", { href: personHref(person.id) }, person.name);
}

function summaryCard(answer) {
  return h(
    "section",
    { class: "card summary", "aria-label": "In short" },
    h("h3", { class: "card-title" }, "In short"),
    h(
      "ul",
      {},
      ...answer.map((s) =>
        h("li", {}, s.text, " ", h("a", { href: `#solution-${s.card}`, class: "cite", title: s.solved_by ? `from ${s.solved_by.name}` : "" }, `[${s.card}]`)),
      ),
    ),
  );
}

function solutionCard(s, i) {
  const link = safeUrl(s.link);
  const said = (s.duplicates || []).length;
  return h(
    "article",
    { class: "card solution", id: `solution-${i + 1}` },
    h("h3", { class: "card-title" }, h("span", { class: "cite" }, `[${i + 1}] `), s.question),
    h(
      "p",
      { class: "meta" },
      s.asked_by ? h("span", {}, "Asked by ", personLink(s.asked_by)) : null,
      s.asked_at ? h("span", {}, formatDate(s.asked_at)) : null,
      s.space ? h("span", {}, `in ${s.space}`) : null,
      said ? h("span", {}, `said ${said + 1} times`) : null,
    ),
    h("blockquote", {}, s.solution || ""),
    h(
      "div",
      { class: "by" },
      s.solved_by ? h("span", {}, "Answered by ", personLink(s.solved_by), s.solved_by.department ? ` · ${s.solved_by.department}` : "") : null,
      confidence(s.confidence, s.verdict),
    ),
    link ? h("div", { class: "card-foot" }, h("a", { href: link, rel: "noopener noreferrer" }, "Open the conversation")) : null,
  );
}

function similarItem(s) {
  const link = safeUrl(s.link);
  return h(
    "li",
    {},
    link ? h("a", { href: link, rel: "noopener noreferrer" }, s.question) : s.question,
    h("span", { class: "meta-item" }, ` · ${formatDate(s.asked_at)}${s.space ? " · " + s.space : ""}`),
  );
}

function evidenceItem(ev) {
  const url = safeUrl(ev.url);
  return h(
    "li",
    { class: "evidence" },
    h("p", { class: "snippet" }, ev.snippet || ""),
    h(
      "p",
      { class: "meta" },
      (ev.why || []).map((w) => h("span", { class: "tag" }, w)),
      ev.time ? h("span", { class: "meta-item" }, formatDate(ev.time)) : null,
      url ? h("a", { class: "meta-item", href: url, rel: "noopener noreferrer" }, "Open") : null,
    ),
  );
}

function expertCard(e) {
  const evidence = e.evidence || [];
  return h(
    "article",
    { class: "card expert", "data-person": e.person_id },
    h(
      "div",
      { class: "expert-head" },
      h("div", { class: "avatar", "aria-hidden": "true" }, initials(e.name)),
      h(
        "div",
        {},
        h("h3", { class: "expert-name" }, h("a", { href: personHref(e.person_id) }, e.name)),
        h("p", { class: "expert-sub" }, [e.title, e.department, e.team].filter(Boolean).join(" · ")),
      ),
      h("div", { class: "score" }, h("strong", {}, `#${e.rank}`), `score ${Number(e.score).toFixed(2)}`),
    ),
    availabilityLine(e.availability),
    evidence.length
      ? h(
          "details",
          { class: "why-expert", open: e.rank === 1 },
          h("summary", {}, e.reason ? `Why: ${e.reason}` : `Why: ${count(evidence.length, "answer")} like this`),
          h("ul", { class: "evidence-list" }, evidence.map(evidenceItem)),
        )
      : null,
  );
}

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const DAY_YEAR = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

/** "3 Dec" (this year) or "3 Jan 2027"; an out-of-office date is a whole day, kept in UTC as /me saves it. */
function shortDay(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  return (when.getUTCFullYear() === new Date().getUTCFullYear() ? DAY : DAY_YEAR).format(when);
}

/** "14:05 in Europe/Berlin" → "14:05 in Berlin"; "09:30 in UTC" → "09:30 UTC". */
function localTime(text) {
  const match = /^(\d{1,2}:\d{2}) in (.+)$/.exec(text || "");
  if (!match) return text || "";
  const [, time, zone] = match;
  if (zone === "UTC" || zone === "Etc/UTC") return `${time} UTC`;
  const place = zone.split("/").pop().replaceAll("_", " ");
  return `${time} in ${place}`;
}

/** One status line: "● Working now  14:05 in Berlin", "● Out of office until 3 Dec", "Not taking routed questions"
 * (spaced apart rather than separated, so a wrapped line never ends in a separator). */
function availabilityLine(a) {
  if (!a) return null;
  const parts = [];
  if (a.out_of_office_until) {
    parts.push(h("span", { class: "avail avail-away" }, `Out of office until ${shortDay(a.out_of_office_until)}`));
  } else if (a.working_now) {
    parts.push(h("span", { class: "avail avail-on" }, "Working now"));
  } else {
    parts.push(h("span", { class: "avail avail-off" }, "Outside working hours"));
  }
  if (a.local_time) parts.push(h("span", { class: "avail-time" }, localTime(a.local_time)));
  if (a.takes_routed_questions === false) parts.push(h("span", { class: "avail-optout" }, "Not taking routed questions"));
  const line = h("p", { class: "availability" }, h("span", { class: "visually-hidden" }, "Availability: "));
  parts.forEach((part, i) => {
    if (i) line.appendChild(h("span", { class: "visually-hidden" }, ", "));
    line.appendChild(part);
  });
  return line;
}

async function route() {
  const q = question();
  if (q.length < MIN_CHARS) return;
  routeButton.disabled = true;
  routeButton.setAttribute("aria-busy", "true");
  routeResult.replaceChildren(h("p", { class: "hint" }, "Finding available experts…"));
  try {
    const data = await api("/route", { method: "POST", body: { question: q, always: true, k: 3 } });
    routeResult.replaceChildren(...routeSummary(data));
  } catch (err) {
    routeResult.replaceChildren(h("p", { class: "form-error" }, err.message));
  } finally {
    routeButton.disabled = question().length < MIN_CHARS;
    routeButton.removeAttribute("aria-busy");
  }
}


// What the requests really reach: e-mail or Slack only where the server can deliver them, else the inbox.
function askedLine(asked) {
  const names = { email: "e-mail", slack: "Slack", webhook: "their webhook" };
  const outside = [...new Set(asked.map((a) => a.reaches).filter((r) => r && r !== "inbox"))].map((r) => names[r] || r);
  const where = outside.length
    ? `by ${outside.join(" and ")} and in their whoknows inbox`
    : "in their whoknows inbox (in the app only: no e-mail or Slack is set up here)";
  return `Asked ${count(asked.length, "expert")}, ${where}.`;
}
function routeSummary(data) {
  const asked = data.asked || [];
  const skipped = data.skipped || [];
  const out = [];
  if (!data.routed) {
    out.push(h("p", { class: "notice" }, data.reason || "The question was not sent to anyone."));
    return out;
  }
  out.push(
    h(
      "p",
      { class: asked.length ? "confirm" : "notice" },
      asked.length ? askedLine(asked) : "Nobody is available to ask right now.",
    ),
  );
  if (asked.length) {
    out.push(h("p", { class: "route-next" }, "You'll find the answer under ", h("a", { href: "/questions" }, "My questions"), "."));
  }
  if (asked.length) {
    out.push(h("h4", {}, "Asked"));
    out.push(
      h(
        "ul",
        { class: "asked" },
        asked.map((a) =>
          h(
            "li",
            {},
            h("a", { href: personHref(a.person_id) }, a.name),
            a.due_at ? ` · answer due ${formatDate(a.due_at)}` : "",
            h("ul", { class: "reasons" }, (a.reasons || []).map((r) => h("li", {}, r))),
          ),
        ),
      ),
    );
  }
  if (skipped.length) {
    out.push(h("h4", {}, "Not asked"));
    out.push(h("ul", { class: "skipped" }, skipped.map((s) => h("li", {}, `${s.name}: `, h("span", { class: "reasons" }, s.why)))));
  }
  return out;
}

box.addEventListener("input", schedule);
box.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    shownQuestion = "";
    search();
  }
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  shownQuestion = "";
  search();
});
routeButton.addEventListener("click", route);

if (question()) {
  routeButton.disabled = question().length < MIN_CHARS;
  search();
}
