// My questions: accept an expert's answer (with an optional 1-5 rating) through the API, then confirm in place.
import { api, h, showError } from "./common.js";

const status = document.getElementById("questions-status");

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.dataset || form.dataset.action !== "accept") return;
  event.preventDefault();
  const card = form.closest("[data-question]");
  const error = card.querySelector(".form-error");
  error.hidden = true;
  const chosen = form.querySelector("input[name=rating]:checked");
  const rating = chosen && chosen.value ? Number(chosen.value) : null;
  const controls = form.querySelectorAll("button, input");
  controls.forEach((c) => (c.disabled = true));
  try {
    const result = await api(`/questions/${encodeURIComponent(card.dataset.question)}/accept`, {
      method: "POST",
      body: rating === null ? {} : { rating },
    });
    const rated = result && result.rating ? result.rating : rating;
    const answer = form.closest(".answer");
    answer
      .querySelector(".answer-state")
      .replaceChildren(h("span", { class: "badge badge-ok" }, rated ? `Accepted · rated ${rated} of 5` : "Accepted"));
    const badge = card.querySelector(".q-status");
    badge.textContent = "Closed";
    badge.className = "badge badge-muted q-status";
    const expert = form.dataset.expert || "the expert";
    const shared = result && result.shared && result.shared.with && result.shared.with.length
      ? ` Colleagues who ask the same now find it in memory (shared with ${result.shared.with.join(", ")}).`
      : "";
    const message = (rated
      ? `Answer accepted, rated ${rated} of 5. The question is closed; your rating tells whoknows how well ${expert} helped.`
      : `Answer accepted. The question is closed; whoknows now knows that ${expert} helped.`) + shared;
    const done = h("p", { class: "confirm", tabindex: "-1" }, message);
    form.replaceWith(done);
    done.focus();
    status.textContent = message;
  } catch (err) {
    showError(error, err.message);
    controls.forEach((c) => (c.disabled = false));
  }
});
