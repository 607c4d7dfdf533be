import { api, showError } from "./common.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

function target() {
  const next = form.dataset.next || "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  if (!email || !password) {
    showError(error, "Enter your e-mail and password.");
    (email ? form.elements.password : form.elements.email).focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await api("/auth/login", { method: "POST", body: { email, password } });
    location.assign(target());
  } catch (err) {
    const message = err.status === 401 ? "Wrong e-mail or password." : err.message;
    showError(error, message);
    form.elements.password.select();
    form.elements.password.focus();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
});
