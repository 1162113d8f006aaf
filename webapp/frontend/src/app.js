// Server-rendered pages with small enhancements: htmx, and CSRF on every htmx request.
import htmx from "htmx.org";

window.htmx = htmx;

document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) {
    event.detail.headers["X-CSRFToken"] = token.content;
  }
});

// A file over the size limit is refused before the form is sent, on its own field: the
// server refuses it too, but a request of many megabytes should not travel only to come back.
function checkFileSizes(input) {
  const limit = Number(input.dataset.maxBytes);
  const tooLarge = [...input.files].find((file) => file.size > limit);
  const message = tooLarge ? input.dataset.tooLarge.replace("%(name)s", tooLarge.name) : "";
  input.setCustomValidity(message);
  if (message) {
    input.reportValidity();
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches('input[type="file"][data-max-bytes]')) {
    checkFileSizes(event.target);
  }
});

// a form that leaves validation to the server (novalidate) would send it anyway: hold it here
document.addEventListener("submit", (event) => {
  const refused = [...event.target.querySelectorAll('input[type="file"][data-max-bytes]')]
    .find((input) => input.validationMessage);
  if (refused) {
    event.preventDefault();
    refused.reportValidity();
  }
});
