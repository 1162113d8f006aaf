// Server-rendered pages with small enhancements: htmx, and CSRF on every htmx request.
import htmx from "htmx.org";

window.htmx = htmx;

document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) {
    event.detail.headers["X-CSRFToken"] = token.content;
  }
});

// A file over the size limit, or of a type the park does not take, is refused before the
// form is sent, on its own field: the server refuses it too (it reads the content, not the
// name), but a request of many megabytes should not travel only to come back.
function wrongType(input, file) {
  const extensions = input.accept.split(",").map((item) => item.trim().toLowerCase());
  const dot = file.name.lastIndexOf(".");
  const extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
  const types = (input.dataset.types || "").split(" ");
  return !extensions.includes(extension) && !types.includes(file.type);
}

function checkFiles(input) {
  const limit = Number(input.dataset.maxBytes);
  const tooLarge = [...input.files].find((file) => file.size > limit);
  const unknown = input.dataset.wrongType && [...input.files].find((file) => wrongType(input, file));
  let message = "";
  if (tooLarge) {
    message = input.dataset.tooLarge.replace("%(name)s", tooLarge.name);
  } else if (unknown) {
    message = input.dataset.wrongType.replace("%(name)s", unknown.name);
  }
  input.setCustomValidity(message);
  if (message) {
    input.reportValidity();
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches('input[type="file"][data-max-bytes]')) {
    checkFiles(event.target);
  }
});

// What cannot be undone (不予受理, 不予批准, withdrawing) is asked once more, naming the
// application and the decision: a form says so with data-confirm (asked when a choice marked
// data-final is taken, its label in place of %(decision)s) or data-confirm-always.
function confirmation(form) {
  if (form.dataset.confirmAlways) {
    return form.dataset.confirmAlways;
  }
  const chosen = form.dataset.confirm && form.querySelector("input[data-final]:checked");
  if (!chosen) {
    return "";
  }
  const label = chosen.closest("label")?.textContent.trim() || chosen.value;
  return form.dataset.confirm.replace("%(decision)s", label);
}

// a form that leaves validation to the server (novalidate) would send it anyway: hold it here
document.addEventListener("submit", (event) => {
  const refused = [...event.target.querySelectorAll('input[type="file"][data-max-bytes]')]
    .find((input) => input.validationMessage);
  if (refused) {
    event.preventDefault();
    refused.reportValidity();
    return;
  }
  const question = confirmation(event.target);
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// 办事指南 stands beside the form on a wide screen; on a phone it comes first, folded
document.addEventListener("DOMContentLoaded", () => {
  if (window.matchMedia("(max-width: 900px)").matches) {
    document.querySelectorAll("details#guide[open]").forEach((guide) => guide.removeAttribute("open"));
  }
});

// 常用语: a phrase button puts its text into the comment box, after what is typed there
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-phrase]");
  const picker = button?.closest("[data-phrase-target]");
  const box = picker && document.getElementById(picker.dataset.phraseTarget);
  if (!box) {
    return;
  }
  const typed = box.value.trimEnd();
  box.value = typed ? `${typed}${button.dataset.phrase}` : button.dataset.phrase;
  box.dispatchEvent(new Event("input", { bubbles: true }));
  box.focus();
});
