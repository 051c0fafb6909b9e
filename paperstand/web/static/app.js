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

document.addEventListener("DOMContentLoaded", () => {
  renderMath();
  setUpCopyButtons();
});
