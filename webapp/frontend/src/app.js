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

// Live pages (the tracker, the inbox): the page asks for itself again every second with the
// tag it was drawn with; the server answers an empty 304 while nothing changed, else the page
// anew, whose parts marked data-live-region take the place of the same parts here. A part the
// reader is working in (focus in it, a box ticked, text typed) is left alone until they are
// done; the diagram keeps its view and only its marks change (viewer.js).
function touched(region) {
  if (region.contains(document.activeElement) && document.activeElement !== document.body) {
    return true;
  }
  return [...region.querySelectorAll("input, textarea, select")].some((field) => {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      return [...field.options].some((option) => option.selected !== option.defaultSelected);
    }
    return field.value !== field.defaultValue;
  }) || [...region.querySelectorAll("details")].some((box) => box.open !== (box.dataset.drawnOpen === "1"));
}

// how each folded part was drawn, to tell whether the reader opened or closed it since
function noteFolds(root) {
  root.querySelectorAll("details").forEach((box) => {
    box.dataset.drawnOpen = box.open ? "1" : "0";
  });
}

function takeIn(html) {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  let all = true;
  document.querySelectorAll("[data-live-region]").forEach((region) => {
    const next = region.id && fresh.getElementById(region.id);
    if (!next) {
      return;
    }
    if (touched(region)) {
      all = false;
      return;
    }
    if (region.innerHTML !== next.innerHTML) {
      const placed = document.importNode(next, true);
      region.replaceWith(placed);
      noteFolds(placed);
    }
  });
  document.querySelectorAll(".pf-diagram[data-marks]").forEach((diagram, index) => {
    const next = fresh.querySelectorAll(".pf-diagram[data-marks]")[index];
    if (next && next.dataset.marks !== diagram.dataset.marks) {
      diagram.dataset.marks = next.dataset.marks;
      diagram.dispatchEvent(new CustomEvent("pf:marks"));
    }
  });
  const title = fresh.querySelector("title");
  if (title) {
    document.title = title.textContent;
  }
  return all;
}

function follow(root) {
  let tag = root.dataset.liveTag;
  const every = Number(root.dataset.liveEvery) || 1000;
  let failures = 0;
  async function look() {
    if (!document.hidden) {
      try {
        const response = await fetch(window.location.href, {
          credentials: "same-origin",
          cache: "no-store",
          redirect: "manual",
          headers: { "If-None-Match": tag, "X-Parkflow-Live": "1" },
        });
        if (response.status === 200) {
          const next = response.headers.get("ETag");
          // what the reader is working in waits: ask with the old tag until it is taken in
          if (takeIn(await response.text()) && next) {
            tag = next;
          }
          failures = 0;
        } else if (response.status === 304) {
          failures = 0;
        } else {
          failures += 1; // signed out, gone, or the server is busy: ask less often
        }
      } catch {
        failures += 1;
      }
    }
    if (failures < 30) {
      window.setTimeout(look, every * Math.min(1 + failures, 10));
    }
  }
  window.setTimeout(look, every);
}

document.addEventListener("DOMContentLoaded", () => {
  noteFolds(document);
  document.querySelectorAll("[data-live][data-live-tag]").forEach(follow);
});
