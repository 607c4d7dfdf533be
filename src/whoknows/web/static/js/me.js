// My profile: routing preferences, hidden topics and opting out, saved through the API.
import { api, h } from "./common.js";

const status = document.getElementById("me-status");
const prefsForm = document.getElementById("prefs-form");
const chips = document.getElementById("hidden-topics");
const noHidden = document.getElementById("no-hidden");
const hideForm = document.getElementById("hide-form");
const optoutForm = document.getElementById("optout-form");
const oooClear = document.getElementById("ooo-clear");
const oooHint = document.getElementById("ooo-hint");

function say(message, ok = true) {
  status.textContent = message;
  status.className = ok ? "status ok" : "status form-error";
}

async function busy(form, work) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    await work();
  } catch (err) {
    say(err.message, false);
  } finally {
    if (button) button.disabled = false;
  }
}

prefsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(prefsForm, async () => {
    const f = prefsForm.elements;
    const checked = (name) => [...prefsForm.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
    const body = {
      channels: checked("channels"),
      digest: f.digest.value,
      work_start: Number(f.work_start.value),
      work_end: Number(f.work_end.value),
      work_days: checked("work_days").map(Number),
    };
    if (Number(f.work_end.value) <= Number(f.work_start.value)) {
      say("Working hours must end after they start.", false);
      return;
    }
    // Empty fields are sent as null: no weekly budget of my own (the default), not out of office.
    body.weekly_budget = f.weekly_budget.value === "" ? null : Number(f.weekly_budget.value);
    body.ooo_until = f.ooo_until.value ? `${f.ooo_until.value}T23:59:59Z` : null;
    const prefs = await api("/me/prefs", { method: "PUT", body });
    showOoo(prefs.ooo_until);
    say("Preferences saved.");
  });
});

const OOO_DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

/** The out-of-office hint and the "I'm back" button, for the saved ``ooo_until`` (an ISO time or null). */
function showOoo(until) {
  const when = until ? new Date(until) : null;
  const away = when !== null && !Number.isNaN(when.getTime()) && when > new Date();
  oooClear.hidden = !away;
  oooHint.textContent = away
    ? `You are out of office until ${OOO_DAY.format(when)}: no questions are routed to you until then.`
    : "Leave empty when you are in.";
}

oooClear.addEventListener("click", async () => {
  oooClear.disabled = true;
  try {
    const prefs = await api("/me/prefs", { method: "PUT", body: { ooo_until: null } });
    prefsForm.elements.ooo_until.value = "";
    showOoo(prefs.ooo_until);
    prefsForm.elements.ooo_until.focus();
    say("Welcome back: you are no longer out of office, and questions can be routed to you again.");
  } catch (err) {
    say(err.message, false);
  } finally {
    oooClear.disabled = false;
  }
});

function currentTopics() {
  return [...chips.querySelectorAll(".chip-text")].map((n) => n.textContent);
}

function renderTopics(topics) {
  chips.replaceChildren(
    ...topics.map((t) =>
      h(
        "li",
        { class: "chip" },
        h("span", { class: "chip-text" }, t),
        h("button", { type: "button", class: "chip-remove", "data-topic": t, "aria-label": `Show questions about ${t} again` }, "×"),
      ),
    ),
  );
  noHidden.hidden = topics.length > 0;
}

async function saveTopics(topics, message) {
  const prefs = await api("/me/prefs", { method: "PUT", body: { hidden_topics: topics } });
  renderTopics(prefs.hidden_topics || []);
  say(message);
}

hideForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(hideForm, async () => {
    const topic = hideForm.elements.topic.value.trim();
    if (!topic) return;
    const topics = currentTopics();
    if (!topics.includes(topic)) topics.push(topic);
    await saveTopics(topics, `Questions about “${topic}” will not be routed to you.`);
    hideForm.elements.topic.value = "";
    hideForm.elements.topic.focus();
  });
});

chips.addEventListener("click", (event) => {
  const button = event.target.closest(".chip-remove");
  if (!button) return;
  const topic = button.dataset.topic;
  busy(hideForm, async () => {
    await saveTopics(currentTopics().filter((t) => t !== topic), `“${topic}” is shown again.`);
    hideForm.elements.topic.focus();
  });
});

optoutForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(optoutForm, async () => {
    const mode = optoutForm.elements.mode.value;
    const post = (scope, optOut) => api("/me/opt-out", { method: "POST", body: { opt_out: optOut, scope } });
    await post("all", mode === "all");
    await post("routing", mode !== "none");
    say(
      mode === "none"
        ? "You take part fully again."
        : mode === "routing"
          ? "Questions will no longer be routed to you; colleagues can still find you."
          : "You have left expert finding.",
    );
  });
});
