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

// The owner's list can be reordered by dragging a row's handle (the native HTML5 drag and
// drop API); the new place is posted as the Move form would, with the page's CSRF token.
// The Up and Down buttons stay for keyboards and screen readers, and the page works
// without this. A failed move reloads the page, which shows the order the server kept.
function setUpReordering() {
  const list = document.querySelector("ol[data-reorder]");
  // A row's paper is the value of its Remove button (every owner's row has one).
  const paperOf = (row) => row.querySelector("button[name=remove]").value;
  const token = document.querySelector("#item-actions input[name=csrftoken]");
  if (!list || !token) return;
  let dragged = null;
  let from = -1;
  const rows = () => Array.from(list.children);
  for (const item of rows()) {
    const handle = document.createElement("span");
    handle.className = "drag-handle";
    handle.draggable = true;
    handle.title = "Drag to move";
    handle.setAttribute("aria-hidden", "true"); // keyboards use the Up and Down buttons
    handle.textContent = "⠿";
    item.prepend(handle);
  }
  list.addEventListener("dragstart", (event) => {
    if (!event.target.classList || !event.target.classList.contains("drag-handle")) return;
    dragged = event.target.closest("li");
    from = rows().indexOf(dragged);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", paperOf(dragged));
    event.dataTransfer.setDragImage(dragged, 16, 16);
    dragged.classList.add("dragging");
  });
  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest && event.target.closest("ol[data-reorder] > li");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    list.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextSibling : over);
  });
  list.addEventListener("drop", (event) => {
    if (dragged) event.preventDefault();
  });
  list.addEventListener("dragend", async () => {
    if (!dragged) return;
    const item = dragged;
    dragged = null;
    item.classList.remove("dragging");
    const to = rows().indexOf(item);
    if (to === from) return;
    rows().forEach((row, index) => {
      const rank = row.querySelector(".rank");
      if (rank) rank.textContent = `${index + 1}.`;
    });
    try {
      const response = await fetch(list.dataset.reorder, {
        method: "POST",
        body: new URLSearchParams({ csrftoken: token.value, paper: paperOf(item), to: String(to) }),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      list.dataset.moved = String(Number(list.dataset.moved || 0) + 1); // tests wait on it
    } catch (error) {
      window.location.reload();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  renderMath();
  setUpReordering();
  setUpCopyButtons();
  setUpSaveButtons();
});
