// The inbox: answer, decline or forward a routed question through the API, then confirm in place.
import { api, h, showError } from "./common.js";

const status = document.getElementById("inbox-status");

const ACTIONS = {
  answer: (form) => ({ path: "answer", body: { text: form.elements.text.value.trim() } }),
  decline: (form) => ({ path: "decline", body: { reason: form.elements.reason.value } }),
  forward: (form) => ({ path: "forward", body: { colleague: form.elements.colleague.value.trim() } }),
};

function confirmation(action, card, form) {
  const asker = card.dataset.asker || "the asker";
  if (action === "answer") return `Answer sent. It is saved to memory, credited to you; ${asker} finds it under My questions.`;
  if (action === "decline") return "Declined. The question goes to the next expert.";
  return `Forwarded to ${form.elements.colleague.value.trim()}.`;
}

// The "Inbox" count in the navigation was rendered with the page: one fewer waits once a question is handled.
function oneFewerWaiting() {
  const badge = document.querySelector('a[href="/inbox"] .nav-count');
  if (!badge) return;
  const left = parseInt(badge.textContent.replace(/\D+/g, ""), 10) - 1;
  if (!(left > 0)) {
    badge.remove();
    return;
  }
  badge.replaceChildren(
    h("span", { class: "visually-hidden" }, ", "),
    String(left),
    h("span", { class: "visually-hidden" }, " waiting"),
  );
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  const action = form.dataset && form.dataset.action;
  if (!ACTIONS[action]) return;
  event.preventDefault();
  const card = form.closest("[data-assignment]");
  const error = card.querySelector(".form-error");
  error.hidden = true;
  const { path, body } = ACTIONS[action](form);
  if ((action === "answer" && !body.text) || (action === "forward" && !body.colleague)) {
    showError(error, action === "answer" ? "Write an answer first." : "Name a colleague first.");
    return;
  }
  const buttons = card.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    await api(`/assignments/${encodeURIComponent(card.dataset.assignment)}/${path}`, { method: "POST", body });
    const message = confirmation(action, card, form);
    const done = h("p", { class: "confirm", tabindex: "-1" }, message);
    card.querySelector(".inbox-actions").replaceWith(done);
    done.focus();
    status.textContent = message;
    oneFewerWaiting();
  } catch (err) {
    showError(error, err.message);
    buttons.forEach((b) => (b.disabled = false));
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-use-draft]");
  if (!button) return;
  const card = button.closest("[data-assignment]");
  const draft = document.getElementById(button.dataset.useDraft);
  const area = card.querySelector("textarea[name=text]");
  area.value = draft ? draft.textContent.trim() : "";
  area.focus();
});
