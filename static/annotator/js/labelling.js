// An article's text on the page, as the labelling and review pages both print it: one
// <p data-start data-end> per line of the text, with the line's code-point range. These turn the
// browser's selection into code-point offsets of the article text, and offsets back into DOM
// positions.
window.annotatorText = (function () {
  "use strict";

  // Browsers count UTF-16 units; the server counts code points. Iterating a string yields code points.
  function codePoints(text) {
    let n = 0;
    for (const _ of text) n++;
    return n;
  }

  // Code-point offset of a DOM boundary inside a paragraph <p data-start>.
  function offsetIn(paragraph, node, offset) {
    const range = document.createRange();
    range.setStart(paragraph, 0);
    range.setEnd(node, offset);
    return Number(paragraph.dataset.start) + codePoints(range.toString());
  }

  // The DOM position of a code-point offset in the text `container`, the inverse of offsetIn.
  function pointAt(container, offset) {
    for (const paragraph of container.querySelectorAll("p[data-start]")) {
      if (offset < Number(paragraph.dataset.start) || offset > Number(paragraph.dataset.end)) continue;
      let remaining = offset - Number(paragraph.dataset.start);
      const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const chars = Array.from(walker.currentNode.data);
        if (remaining <= chars.length) return [walker.currentNode, chars.slice(0, remaining).join("").length];
        remaining -= chars.length;
      }
      return [paragraph, paragraph.childNodes.length];
    }
    return null;
  }

  // The selection in the text `container` as {start, end, text}, trimmed of surrounding white
  // space, or null.
  function selectedSpan(container) {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    const paragraphs = Array.from(container.querySelectorAll("p[data-start]")).filter((p) => range.intersectsNode(p));
    if (paragraphs.length === 0) return null;
    const first = paragraphs[0];
    const last = paragraphs[paragraphs.length - 1];
    const startsInside = first.contains(range.startContainer);
    const endsInside = last.contains(range.endContainer);
    let start = startsInside ? offsetIn(first, range.startContainer, range.startOffset) : Number(first.dataset.start);
    let end = endsInside ? offsetIn(last, range.endContainer, range.endOffset) : Number(last.dataset.end);
    // Lines are separated by exactly one "\n" in the article text, so the selected text is each
    // paragraph's selected part joined by newlines.
    const parts = paragraphs.map((p) => {
      const part = document.createRange();
      part.selectNodeContents(p);
      if (p === first && startsInside) part.setStart(range.startContainer, range.startOffset);
      if (p === last && endsInside) part.setEnd(range.endContainer, range.endOffset);
      return part.toString();
    });
    const chars = Array.from(parts.join("\n"));
    while (chars.length && /\s/u.test(chars[0])) {
      chars.shift();
      start++;
    }
    while (chars.length && /\s/u.test(chars[chars.length - 1])) {
      chars.pop();
      end--;
    }
    if (chars.length === 0 || end <= start) return null;
    return snapToClusters(container, { start, end, text: chars.join("") });
  }

  // A selection made by script, or by a browser that does not snap its own, can end inside what
  // a reader sees as one character (an emoji ZWJ sequence, a flag, a letter and its combining
  // marks). The server refuses such a span, so it is widened to the whole clusters first, found
  // by the browser's own Unicode grapheme rules.
  function snapToClusters(container, span) {
    if (!window.Intl || !Intl.Segmenter) return span;
    const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
    // The cluster [start, end) that `offset` is strictly inside, with its line's characters.
    const clusterAround = (offset) => {
      const line = Array.from(container.querySelectorAll("p[data-start]")).find(
        (p) => Number(p.dataset.start) < offset && offset < Number(p.dataset.end),
      );
      if (!line) return null;
      const lineStart = Number(line.dataset.start);
      let position = lineStart;
      for (const { segment } of segmenter.segment(line.textContent)) {
        const next = position + codePoints(segment);
        if (next > offset) {
          if (position === offset) return null;
          return { start: position, end: next, lineStart, chars: Array.from(line.textContent) };
        }
        position = next;
      }
      return null;
    };
    let { start, end, text } = span;
    const first = clusterAround(start);
    if (first) {
      text = first.chars.slice(first.start - first.lineStart, start - first.lineStart).join("") + text;
      start = first.start;
    }
    const last = clusterAround(end);
    if (last) {
      text += last.chars.slice(end - last.lineStart, last.end - last.lineStart).join("");
      end = last.end;
    }
    return { start, end, text };
  }

  return { codePoints, pointAt, selectedSpan };
})();

// The labelling page: turn the browser's selection into code-point offsets, send it, and let
// the server render the result. A highlight waits in localStorage until the server has it,
// so a network error, a server error or an expired session never loses it.
(function () {
  "use strict";

  const root = document.getElementById("labelling");
  if (!root) return;
  const createUrl = root.dataset.createUrl;
  const storageKey = "annotator:pending:" + root.dataset.articleKey;

  function articleText() {
    return document.getElementById("article-text");
  }

  function selectedSpan() {
    return window.annotatorText.selectedSpan(articleText());
  }

  function pointAt(offset) {
    return window.annotatorText.pointAt(articleText(), offset);
  }

  // Keep what the analyst selected while a save's answer (or a reload) replaces paragraphs.
  let keptSelection = null;

  function keepSelection() {
    const span = selectedSpan();
    keptSelection = span && { start: span.start, end: span.end };
  }

  function restoreSelection() {
    if (!keptSelection) return;
    const start = pointAt(keptSelection.start);
    const end = pointAt(keptSelection.end);
    keptSelection = null;
    if (!start || !end) return;
    const range = document.createRange();
    range.setStart(...start);
    range.setEnd(...end);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }

  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    if (event.detail.target && event.detail.target.closest("#article-text")) keepSelection();
  });
  document.addEventListener("htmx:oobAfterSwap", restoreSelection);

  // A change's answer holds only what the change changed, and says which version of the
  // annotation it starts from. The text shows one version (data-version); an answer that starts
  // from another one (another tab changed the annotation, or two answers crossed) is swapped in
  // for its editor, then the whole text and list are loaded again.
  function changeArrived(base, version) {
    if (base === null) return;
    const text = articleText();
    if (text.dataset.version === base) text.dataset.version = version;
    else reloadText();
  }

  let reloading = false;
  let reloadAgain = false;
  function reloadText() {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = true;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((response) => (response.ok && !response.redirected ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        // Without its <style>: it carries that answer's CSP nonce, not this page's, so parsing it here
        // would be reported as a violation (and this page has the label colours already).
        const page = new DOMParser().parseFromString(html.replace(/<style[^>]*>[^<]*<\/style>/g, ""), "text/html");
        const text = page.getElementById("article-text");
        const list = page.getElementById("span-list");
        if (!text || !list || Number(text.dataset.version) < Number(articleText().dataset.version)) return;
        keepSelection();
        const shownText = document.adoptNode(text);
        articleText().replaceWith(shownText);
        htmx.process(shownText); // its windows still to load
        const shown = document.adoptNode(list);
        document.getElementById("span-list").replaceWith(shown);
        htmx.process(shown);
        // An editor open on a span that is gone (deleted in another tab) closes.
        const editing = document.getElementById("span-editor").dataset.span;
        if (editing && !document.getElementById("span-" + editing)) {
          document.getElementById("span-editor").replaceWith(document.adoptNode(page.getElementById("span-editor")));
        }
        restoreSelection();
        markEditing();
        showPending();
        window.annotator.resolve("reload");
      })
      .catch(() => window.annotator.report("reload", "This page may be out of date: reload it to see every change.", {}))
      .finally(() => {
        reloading = false;
        if (reloadAgain) {
          reloadAgain = false;
          reloadText();
        }
      });
  }

  // A change's answer puts what changed in the span list into #span-changes. A long list loads a
  // page at a time, so each goes into the list only if the list has loaded that far: the rest
  // comes with the list's later pages, which are read after the change. The count goes up or down
  // by one (counting a huge list costs more than the change): an answer that does not follow
  // from the version the page shows makes the page load the list again, count and all.
  function applyListChanges() {
    const list = document.getElementById("span-items");
    for (const item of Array.from(document.getElementById("span-changes").children)) {
      item.remove();
      const change = item.dataset.change;
      const before = item.dataset.before;
      delete item.dataset.change;
      delete item.dataset.before;
      const shown = item.id && document.getElementById(item.id);
      if (change === "count") {
        const count = document.getElementById("span-count");
        count.textContent = String(Number(count.textContent) + Number(item.dataset.by));
      } else if (change === "remove") {
        if (shown) shown.remove();
      } else if (change === "replace") {
        if (shown) shown.replaceWith(item);
      } else if (!shown) {
        const next = before && document.getElementById("span-" + before);
        if (next && next.parentNode === list) list.insertBefore(item, next);
        else if (!before && !document.getElementById("span-more")) list.append(item);
      }
    }
  }
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "span-changes") applyListChanges();
  });

  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr && event.detail.shouldSwap) {
      changeArrived(xhr.getResponseHeader("X-Annotation-Base"), xhr.getResponseHeader("X-Annotation-Version"));
    }
  });

  // The highlights of the span in the editor are marked as edited, wherever the editor changed.
  function markEditing() {
    const editing = document.getElementById("span-editor").dataset.span;
    for (const mark of articleText().querySelectorAll("mark.editing")) {
      if (mark.dataset.span !== editing) mark.classList.remove("editing");
    }
    if (editing) {
      for (const mark of articleText().querySelectorAll(`mark[data-span="${CSS.escape(editing)}"]`)) {
        mark.classList.add("editing");
      }
    }
  }
  // After settling: until then htmx leaves the old attributes on a swapped element.
  document.addEventListener("htmx:afterSettle", markEditing);

  // Changes wait in localStorage until the server has them, so a network error, a server error, an
  // expired session, a reload or a restarted server never loses one: new highlights, and what the
  // side panel's forms marked data-unsaved send (a span's label and attributes, links, deleting a
  // span, topics and stance). Each is kept under a key: a later change under the same key (the same
  // span's editor, the topics form) replaces it, as it sends the whole state again. They are sent
  // with fetch, the CSRF token read at each send, one at a time per key, and shown as unsaved until
  // the server has them.
  function loadPending() {
    let pending;
    try {
      pending = JSON.parse(localStorage.getItem(storageKey) || "{}");
    } catch (e) {
      return {};
    }
    // Highlights stored before changes had kinds: {client_id: {start, end, text, label, client_id}}.
    for (const [key, entry] of Object.entries(pending)) {
      if (!entry.kind) pending[key] = highlightEntry(entry);
    }
    return pending;
  }

  function savePending(pending) {
    if (Object.keys(pending).length) localStorage.setItem(storageKey, JSON.stringify(pending));
    else localStorage.removeItem(storageKey);
    showPending();
  }

  function highlightEntry(item) {
    const button = root.querySelector(`.label-button[data-label="${CSS.escape(item.label)}"]`);
    const name = button ? button.firstChild.textContent.trim() : "Highlight";
    return {
      id: item.client_id, key: "span:" + item.client_id, kind: "highlight", url: createUrl,
      fields: Object.entries(item), what: `${name} “${item.text.slice(0, 40)}”`, start: item.start, end: item.end,
    };
  }

  function field(entry, name) {
    const found = entry.fields.find(([key]) => key === name);
    return found ? found[1] : null;
  }

  function keep(entry) {
    // The last thing the analyst did wins. A change's answer shows an editor or a notice of its own
    // (a new span's editor, a deletion's Undo), which an opening still on its way would replace, so
    // every change but the topics and stance stops it; a change sent from the editor of the span
    // being opened stops it too (the opening's answer may be older: the span deleted, or saved since).
    if (opening && (entry.kind !== "labels" || entry.span === opening.span)) stopOpening();
    const pending = loadPending();
    pending[entry.key] = entry;
    savePending(pending);
    sendChange(entry);
  }

  function forget(entry) {
    const pending = loadPending();
    if (pending[entry.key] && pending[entry.key].id === entry.id) {
      delete pending[entry.key];
      savePending(pending);
    }
  }

  const sending = new Set(); // keys with a request in flight

  function sendChange(entry) {
    if (sending.has(entry.key)) return; // sent when the answer in flight is in
    sending.add(entry.key);
    window.annotator
      .post(entry.url, entry.fields, {
        key: "change:" + entry.key,
        what: entry.what,
        retry: () => {
          const latest = loadPending()[entry.key];
          if (latest) sendChange(latest);
          else window.annotator.resolve("change:" + entry.key);
        },
        saved(body, response) {
          forget(entry);
          rebase(entry, response.headers.get("X-Seen"));
          arrived(entry, body, response);
        },
        refused(problem, status) {
          forget(entry);
          // Deleted meanwhile (in another tab): show what there is now.
          if (status === 404) reloadText();
        },
      })
      .then((ok) => {
        sending.delete(entry.key);
        const latest = loadPending()[entry.key];
        if (ok && latest && latest.id !== entry.id) sendChange(latest);
      });
  }

  // A newer change under the same key was made from the state this one started from, which this
  // one has just moved on: it now starts from the state this one left.
  function rebase(entry, seen) {
    const pending = loadPending();
    const latest = pending[entry.key];
    if (!seen || !latest || field(latest, "seen") === null || field(latest, "seen") !== field(entry, "seen")) return;
    latest.fields = latest.fields.map(([key, value]) => [key, key === "seen" ? seen : value]);
    savePending(pending);
  }

  function arrived(entry, body, response) {
    changeArrived(response.headers.get("X-Annotation-Base"), response.headers.get("X-Annotation-Version"));
    if (entry.kind === "labels") {
      htmx.swap("#document-labels [role=status]", body, { swapStyle: "innerHTML" });
      return;
    }
    htmx.swap("#article-text", body, { swapStyle: "none" });
    moveFocus(entry);
    if (entry.kind === "highlight") {
      root.dispatchEvent(new CustomEvent("annotator:span-saved", { bubbles: true, detail: Object.fromEntries(entry.fields) }));
    }
  }

  // Where the keyboard goes once a change made on this page is saved (the form's data-focus-after):
  // back to the text after saving a span or undoing a deletion, so the next selection and label key
  // follow at once; to the link list after linking or unlinking; to Undo after deleting a span. A
  // change resent from an earlier visit moves nothing.
  const focusAfter = new Map(); // change id -> "text" | "links" | "undo"

  function moveFocus(entry) {
    const where = focusAfter.get(entry.id);
    focusAfter.delete(entry.id);
    const target = {
      text: () => articleText(),
      links: () => document.getElementById("span-links"),
      undo: () => document.querySelector("#span-notice form.undo button"),
    }[where];
    const element = target && target();
    if (element) element.focus();
  }

  // The side panel's changes go the same way as highlights, not through htmx.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form[data-unsaved]");
    if (!form || !root.contains(form)) return;
    event.preventDefault();
    const fields = Array.from(event.detail.formData.entries()).filter(([name]) => name !== "csrfmiddlewaretoken");
    const id = crypto.randomUUID();
    if (form.dataset.focusAfter) focusAfter.set(id, form.dataset.focusAfter);
    keep({
      id, key: form.dataset.unsavedKey || id, kind: form.id === "document-labels" ? "labels" : "change",
      url: event.detail.path, fields, what: form.dataset.unsaved, span: form.dataset.span,
    });
  });

  // What is not saved yet, shown where it belongs: new highlights drawn in the text (as a CSS
  // highlight: the server draws the marks), changed spans marked in the text and the list, the
  // topics form marked, and everything listed in the "Not saved yet" panel.
  function showPending() {
    const pending = Object.values(loadPending());
    if (window.Highlight && CSS.highlights) {
      const ranges = [];
      for (const entry of pending.filter((e) => e.kind === "highlight")) {
        const start = pointAt(entry.start);
        const end = pointAt(entry.end);
        if (!start || !end) continue;
        const range = document.createRange();
        range.setStart(...start);
        range.setEnd(...end);
        ranges.push(range);
      }
      CSS.highlights.set("unsaved", new Highlight(...ranges));
    }
    const labels = document.getElementById("document-labels");
    // Refused (a notice says why) rather than saved: the form no longer claims it is on its way.
    if (labels.classList.contains("unsaved") && !pending.some((e) => e.kind === "labels")) {
      labels.querySelector("[role=status]").textContent = "";
    }
    for (const element of root.querySelectorAll(".unsaved")) element.classList.remove("unsaved");
    for (const entry of pending) {
      if (entry.span) {
        for (const element of root.querySelectorAll(`#span-${CSS.escape(entry.span)}, #article-text mark[data-span="${CSS.escape(entry.span)}"]`)) {
          element.classList.add("unsaved");
        }
      }
      if (entry.kind === "labels") {
        labels.classList.add("unsaved");
        labels.querySelector("[role=status]").textContent = "Not saved yet.";
      }
    }
    const panel = document.getElementById("unsaved");
    panel.querySelector("ul").replaceChildren(
      ...pending.map((entry) => {
        const item = document.createElement("li");
        const what = document.createElement("bdi");
        what.textContent = entry.what;
        item.append(what);
        return item;
      })
    );
    panel.hidden = pending.length === 0;
  }
  document.addEventListener("htmx:afterSettle", showPending);

  // The topics form shows the choice that is not saved yet, not the one the server had.
  function showLabels(entry) {
    const form = document.getElementById("document-labels");
    for (const box of form.querySelectorAll("input[type=checkbox]")) {
      box.checked = entry.fields.some(([name, value]) => name === box.name && value === box.value);
    }
    for (const select of form.querySelectorAll("select")) select.value = field(entry, select.name) || "";
  }

  // The label just given to a selection (which labelling cleared), until another selection is
  // made: the same key pressed again is the same span, not a request for a new selection.
  let lastLabelled = null;
  document.addEventListener("selectionchange", () => {
    if (lastLabelled && selectedSpan()) lastLabelled = null;
  });

  function label(labelId) {
    const span = selectedSpan();
    if (!span) {
      if (lastLabelled === String(labelId)) return;
      window.annotator.report("selection", "Select some text in the article first.", {});
      return;
    }
    lastLabelled = String(labelId);
    window.annotator.resolve("selection");
    window.getSelection().removeAllRanges();
    hideMenu();
    // The same label on the same text, still on its way: one span, not two (the server also
    // answers a second identical span with the first).
    const same = Object.values(loadPending()).some(
      (e) => e.kind === "highlight" && e.start === span.start && e.end === span.end && field(e, "label") === String(labelId),
    );
    if (same) return;
    keep(highlightEntry({ ...span, label: String(labelId), client_id: crypto.randomUUID() }));
  }

  // The label choice at the selection: a small menu of the label buttons, keys shown, placed just
  // below the selection's last line once the mouse (or Shift and an arrow) has made it.
  const menu = document.getElementById("selection-menu");

  function hideMenu() {
    if (menu) menu.hidden = true;
  }

  function showMenu() {
    if (!menu) return;
    const span = selectedSpan();
    const rects = span ? window.getSelection().getRangeAt(0).getClientRects() : [];
    if (rects.length === 0) {
      hideMenu();
      return;
    }
    const last = rects[rects.length - 1];
    const column = menu.offsetParent || menu.parentElement;
    const box = column.getBoundingClientRect();
    menu.hidden = false;
    // Set through the CSSOM, which the Content-Security-Policy allows (a style attribute it does not).
    const left = Math.max(0, Math.min(last.left - box.left, column.clientWidth - menu.offsetWidth));
    menu.style.left = `${left}px`;
    menu.style.top = `${last.bottom - box.top + 4}px`;
  }

  if (menu) {
    articleText().parentElement.addEventListener("mouseup", (event) => {
      if (!menu.contains(event.target)) setTimeout(showMenu);
    });
    document.addEventListener("keyup", (event) => {
      if (event.shiftKey && event.target.closest && event.target.closest("#article-text")) showMenu();
    });
    document.addEventListener("selectionchange", () => {
      if (!menu.hidden && !selectedSpan()) hideMenu();
    });
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest(".label-button");
    if (button) {
      label(button.dataset.label);
      return;
    }
    // A span opens from its chip in the list (its item is #span-<id>), or from its highlight (also
    // one the list has not loaded yet: a long list loads a page at a time).
    const chip = event.target.closest("#span-items > li[id^='span-'] > .chip");
    const mark = event.target.closest("#article-text mark[data-span]");
    if (chip) openSpan(chip.parentElement.id.slice("span-".length));
    else if (mark && window.getSelection().isCollapsed) openSpan(mark.dataset.span);
  });

  // A label button takes the focus from the text, but keeps the selection: don't let a mouse
  // press on the button collapse it first.
  root.addEventListener("mousedown", (event) => {
    if (event.target.closest(".label-button")) event.preventDefault();
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const help = document.getElementById("help");
    const submit = document.getElementById("submit-next"); // not on a read-only page
    if (event.key === "Enter" && event.shiftKey && submit && !help.open && !target.closest("textarea")) {
      // Works from the side panel's fields too, so the keyboard path ends in one key press.
      event.preventDefault();
      submit.click();
      return;
    }
    const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (!typing && (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z") {
      // Undo the deletion the notice offers to undo (the browser's own undo has nothing to do here).
      const undo = document.querySelector("#span-notice form.undo");
      if (undo) {
        event.preventDefault();
        undo.requestSubmit();
      }
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && menu && !menu.hidden) {
      const inMenu = menu.contains(target);
      hideMenu();
      if (inMenu) articleText().focus();
      return;
    }
    if (menu && menu.contains(target) && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      // A toolbar: the arrows move between its buttons (Tab leaves it).
      event.preventDefault();
      const buttons = Array.from(menu.querySelectorAll("button"));
      const step = event.key === "ArrowRight" ? 1 : -1;
      buttons[(buttons.indexOf(target.closest("button")) + step + buttons.length) % buttons.length].focus();
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      help.showModal();
      return;
    }
    if (help.open) return;
    if (event.key === "r") {
      window.annotator.retryAll();
      return;
    }
    const button = root.querySelector(`.label-button[data-hotkey="${CSS.escape(event.key)}"]`);
    if (button) {
      event.preventDefault();
      // A held key repeats: one press, one span.
      if (!event.repeat) label(button.dataset.label);
    }
  });

  document.getElementById("help-button").addEventListener("click", () => document.getElementById("help").showModal());

  // Opening a span: its editor (and the notice, cleared) arrive as out-of-band parts, swapped into
  // the page as a change's answer is, and the keyboard focus moves into the editor. Not an hx-get
  // on the chip: htmx looks for an answer's out-of-band targets under the root of the element that
  // asked, and by the time the answer is in, another answer (deleting or saving the span replaces
  // its list item) or a reload of the list may have taken that chip out of the page; then htmx
  // finds neither target (htmx:oobErrorNoTarget) and the editor does not open. The span asked for
  // last is the one that opens; a change sent meanwhile stops it (`keep`).
  let opening = null; // {span, controller} of the opening on its way

  function stopOpening() {
    opening.controller.abort();
    opening = null;
  }

  function openSpan(spanId) {
    if (opening) stopOpening();
    const mine = { span: String(spanId), controller: new AbortController() };
    opening = mine;
    window.annotator.get(`${createUrl}${spanId}/`, {
      key: "open",
      outcome: "The span did not open; nothing is lost.",
      signal: mine.controller.signal,
      retry: () => openSpan(spanId),
      saved: (text) => {
        htmx.swap("#span-editor", text, { swapStyle: "none" });
        const field = document.querySelector("#span-editor select, #span-editor input:not([type=hidden]), #span-editor button");
        if (field) field.focus();
      },
      // Deleted in another tab (the notice says so): show what there is now.
      refused: (problem, status) => status === 404 && reloadText(),
    }).then(() => {
      if (opening === mine) opening = null;
    });
  }

  // Changes left unsaved by an earlier visit (closed tab, lost session, server down) are shown and
  // sent again. After DOMContentLoaded: app.js, which sends them, is loaded after this file.
  document.addEventListener("DOMContentLoaded", () => {
    const pending = Object.values(loadPending());
    const labels = pending.find((entry) => entry.kind === "labels");
    if (labels) showLabels(labels);
    showPending();
    for (const entry of pending) sendChange(entry);
  });
})();
