// Suggestions on the labelling page: each suggested span is drawn in the text as a ghost (a CSS
// highlight, like a change not saved yet: the server draws only the analyst's own spans), and
// listed in the side panel, where Tab moves between them. A (Shift+a) accepts the focused one, X
// rejects it, Y accepts all: capitals, so no label key (a lower-case letter or digit) can clash.
// Accepting and rejecting submit the item's forms, which go through the page's queue of changes
// (labelling.js): kept until the server has them, and answered with what changed.
(function () {
  "use strict";

  const root = document.getElementById("labelling");
  if (!root) return;

  function articleText() {
    return document.getElementById("article-text");
  }

  function items() {
    return Array.from(document.querySelectorAll("#suggestions li.suggestion:not([hidden])"));
  }

  function rangeOf(item) {
    if (item.dataset.start === undefined) return null;
    const start = window.annotatorText.pointAt(articleText(), Number(item.dataset.start));
    const end = window.annotatorText.pointAt(articleText(), Number(item.dataset.end));
    if (!start || !end) return null;
    const range = document.createRange();
    range.setStart(...start);
    range.setEnd(...end);
    return range;
  }

  let focused = null; // the item whose chip has the focus (or had it last)

  function draw() {
    // The count says how many are left (a decided one is hidden at once, removed by the answer).
    const count = document.getElementById("suggestion-count");
    if (count && count.textContent !== String(items().length)) count.textContent = String(items().length);
    if (!window.Highlight || !CSS.highlights) return;
    const ghosts = [];
    let current = null;
    for (const item of items()) {
      const range = rangeOf(item);
      if (!range) continue;
      if (item === focused) current = range;
      else ghosts.push(range);
    }
    CSS.highlights.set("suggested", new Highlight(...ghosts));
    CSS.highlights.set("suggested-focus", current ? new Highlight(current) : new Highlight());
  }

  document.addEventListener("focusin", (event) => {
    const item = event.target.closest && event.target.closest("#suggestions li.suggestion");
    if (!item) return;
    focused = item;
    for (const other of document.querySelectorAll("#suggestions li.focused")) other.classList.remove("focused");
    item.classList.add("focused");
    draw();
    // Show where it is in the text, without taking the keyboard from the list.
    const range = rangeOf(item);
    const node = range && range.startContainer.parentElement;
    if (node) node.scrollIntoView({ block: "nearest" });
  });

  // The item decided is hidden at once and the keyboard moves on to the next one; the server's
  // answer removes it (or, refused, the notice says why and a reload shows it again).
  function decide(item, which) {
    const list = items();
    const next = list[list.indexOf(item) + 1] || list[list.indexOf(item) - 1];
    item.querySelector(`form.suggestion-${which}`).requestSubmit();
    item.hidden = true;
    if (focused === item) focused = next || null;
    if (next) next.querySelector(".suggestion-chip").focus();
    else articleText().focus();
    draw();
  }

  document.addEventListener("keydown", (event) => {
    if (!["A", "X", "Y"].includes(event.key) || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (document.getElementById("help").open || !document.getElementById("suggestions")) return;
    event.preventDefault();
    if (event.key === "Y") {
      const all = document.getElementById("suggestions-accept-all");
      if (all) all.requestSubmit();
      return;
    }
    const item = target.closest && target.closest("#suggestions li.suggestion");
    if (item) {
      decide(item, event.key === "A" ? "accept" : "reject");
      return;
    }
    // Nothing focused yet: the first key press goes to the first suggestion.
    const first = items()[0];
    if (first) first.querySelector(".suggestion-chip").focus();
  });

  // A click on a chip focuses it (and its ghost), as Tab does.
  root.addEventListener("click", (event) => {
    const chip = event.target.closest(".suggestion-chip");
    if (chip) chip.focus();
  });

  // The text's lines are redrawn by changes and loaded a window at a time: draw the ghosts again.
  document.addEventListener("DOMContentLoaded", draw);
  let drawing = false; // one drawing a frame, however many changes the frame brought
  new MutationObserver(() => {
    if (drawing) return;
    drawing = true;
    requestAnimationFrame(() => {
      drawing = false;
      draw();
    });
  }).observe(root, { childList: true, subtree: true });
})();
