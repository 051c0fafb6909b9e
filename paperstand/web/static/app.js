// Progressive enhancement only: every page works without this file.
"use strict";

function renderMath() {
  if (typeof renderMathInElement !== "function") return;
  const options = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  };
  document.querySelectorAll(".math").forEach((el) => renderMathInElement(el, options));
}

function setUpCopyButtons() {
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.status);
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = source.textContent;
      try {
        await navigator.clipboard.writeText(text);
        status.textContent = "BibTeX copied to the clipboard.";
      } catch (error) {
        // No clipboard access (e.g. plain http): select the text for Ctrl+C instead.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
      }
    });
  });
}

// Save buttons toggle in place: the same form, posted by fetch, asking for JSON.
function setUpSaveButtons() {
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("save")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    const field = form.querySelector("input[name=saved]");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)), // urlencoded, as the plain form sends
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      const answer = await response.json();
      field.value = answer.saved ? "0" : "1";
      button.textContent = answer.saved ? "Saved" : "Save";
      button.setAttribute("aria-pressed", answer.saved ? "true" : "false");
      const label = button.getAttribute("aria-label") || "";
      button.setAttribute("aria-label", label.replace(/^(Saved|Save)/, answer.saved ? "Saved" : "Save"));
    } catch (error) {
      form.submit(); // let the server answer the plain way (e.g. log in again)
    } finally {
      button.disabled = false;
    }
  });
}

// A chosen BibTeX file is read into the import form's text field (which works without
// JavaScript too: paste the file's text there).
function setUpFileFields() {
  document.querySelectorAll("input[type=file][data-into]").forEach((input) => {
    const target = document.getElementById(input.dataset.into);
    if (!target) return;
    input.hidden = false;
    document.querySelectorAll(`label[for="${input.id}"]`).forEach((label) => (label.hidden = false));
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (file) target.value = await file.text();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  renderMath();
  setUpFileFields();
  setUpCopyButtons();
  setUpSaveButtons();
});
