// The review page: a selection plus a label key or button adds the reviewer's own span to gold,
// at the gold version the page shows; clicking a mark in the text shows its row in the table.
// The forms (accept, reject, edit, topics, mark reviewed) are plain htmx forms.
(function () {
  "use strict";

  const page = document.getElementById("review-page");
  if (!page) return;
  const addUrl = page.dataset.addUrl;

  function version() {
    return document.getElementById("review").dataset.version;
  }

  function send(item) {
    return window.annotator.send(addUrl, item, {
      saved: (body) => htmx.swap("#review", body, { swapStyle: "outerHTML" }),
    });
  }

  function label(labelId) {
    const span = window.annotatorText.selectedSpan(document.getElementById("article-text"));
    if (!span) {
      window.annotator.report("selection", "Select some text in the article first.", {});
      return;
    }
    window.annotator.resolve("selection");
    // The version is taken now: a retry after a lost answer must not claim a newer page.
    send({ ...span, label: String(labelId), client_id: crypto.randomUUID(), version: version() });
    window.getSelection().removeAllRanges();
  }

  page.addEventListener("click", (event) => {
    const button = event.target.closest(".label-button");
    if (button) {
      label(button.dataset.label);
      return;
    }
    const mark = event.target.closest("#article-text mark[data-group]");
    if (mark && window.getSelection().isCollapsed) {
      const row = document.getElementById("group-" + mark.dataset.group);
      if (row) {
        row.scrollIntoView({ block: "center" });
        row.classList.add("flash");
        setTimeout(() => row.classList.remove("flash"), 1500);
      }
    }
  });

  // A save's answer is the whole review as the server now has it: a notice about a form of the
  // review it replaced (refused, or failed with a Retry that could only resend from a form no longer
  // on the page) is out of date.
  // (htmx:load: the form that asked is gone from the page, so its own events do not reach here.)
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt.id === "review") window.annotator.resolveAll("htmx:");
  });

  // A label button takes the focus from the text, but keeps the selection.
  page.addEventListener("mousedown", (event) => {
    if (event.target.closest(".label-button")) event.preventDefault();
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "r") {
      window.annotator.retryAll();
      return;
    }
    const button = page.querySelector(`.label-button[data-hotkey="${CSS.escape(event.key)}"]`);
    if (button) {
      event.preventDefault();
      label(button.dataset.label);
    }
  });
})();
