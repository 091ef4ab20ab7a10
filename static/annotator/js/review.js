// The review page: a selection plus a label key or button adds the reviewer's own span to gold,
// at the gold version the page shows. Clicking a mark in the text (or N / P, or the group picker)
// opens its span group's decisions in the side panel; A accepts and X rejects there.
// The forms (accept, reject, edit, topics, mark reviewed) are plain htmx forms.
// Every link the page lists (an element with data-link-source/-target/-style) is drawn as an
// arrow over the text, from its source span's mark to its target's, redrawn when the page changes.
(function () {
  "use strict";

  const page = document.getElementById("review-page");
  if (!page) return;
  const addUrl = page.dataset.addUrl;
  const SVG = "http://www.w3.org/2000/svg";

  function svg(name, attributes) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    return element;
  }

  function anchor(spanId, box) {
    // The mark's first piece: in a right-to-left paragraph that is its rightmost, where it starts.
    const mark = document.querySelector(`#article-text mark[data-span="${CSS.escape(spanId)}"]`);
    const rect = mark && mark.getClientRects()[0];
    if (!rect) return null;
    return { x: rect.left + rect.width / 2 - box.left, y: rect.top - box.top };
  }

  function drawLinks() {
    const layer = document.getElementById("link-layer");
    if (!layer) return;
    layer.replaceChildren();
    const box = layer.getBoundingClientRect();
    const defs = svg("defs", {});
    for (const style of ["analyst", "gold"]) {
      const marker = svg("marker", {
        // In the layer's units: a gold arrow's thicker line does not make a bigger head.
        id: `arrow-${style}`, class: style, viewBox: "0 0 10 10", refX: "9", refY: "5", markerUnits: "userSpaceOnUse",
        markerWidth: "9", markerHeight: "9", orient: "auto-start-reverse",
      });
      marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z" }));
      defs.append(marker);
    }
    layer.append(defs);
    let index = 0;
    for (const link of page.querySelectorAll("[data-link-source]")) {
      const from = anchor(link.dataset.linkSource, box);
      const to = anchor(link.dataset.linkTarget, box);
      if (!from || !to) continue;
      const style = link.dataset.linkStyle;
      // Arcs above the line, higher the farther apart the ends; each link a little apart from the last.
      const lift = 14 + Math.min(60, Math.abs(to.x - from.x) / 8 + Math.abs(to.y - from.y) / 4) + (index % 4) * 4;
      // Never above the layer, where the legend is: the stage's top padding leaves the first line room.
      const top = Math.max(2, Math.min(from.y, to.y) - lift);
      const path = svg("path", {
        class: `link ${style}`,
        d: `M${from.x},${from.y} C${from.x},${top} ${to.x},${top} ${to.x},${to.y}`,
        "marker-end": `url(#arrow-${style === "gold" ? "gold" : "analyst"})`,
      });
      link.linkPath = path;
      layer.append(path);
      index += 1;
    }
  }

  // Pointing at (or focusing) a listed link picks its arrow out.
  function highlight(event, on) {
    const link = event.target.closest && event.target.closest("[data-link-source]");
    if (link && link.linkPath) link.linkPath.classList.toggle("active", on);
  }
  page.addEventListener("mouseover", (event) => highlight(event, true));
  page.addEventListener("mouseout", (event) => highlight(event, false));
  page.addEventListener("focusin", (event) => highlight(event, true));
  page.addEventListener("focusout", (event) => highlight(event, false));

  let offers = new Set();
  function seenOffers() {
    return new Set([...page.querySelectorAll(".offer-accept")].map((button) => button.dataset.offer));
  }
  document.addEventListener("htmx:beforeSwap", () => {
    offers = seenOffers();
  });
  document.addEventListener("htmx:afterSettle", () => {
    drawLinks();
    // Accepting a link's second end offers the link: its button takes the focus, one key to accept.
    const fresh = [...page.querySelectorAll(".offer-accept")].find((button) => !offers.has(button.dataset.offer));
    if (fresh) fresh.focus();
  });
  window.addEventListener("resize", drawLinks);
  if (document.fonts) document.fonts.ready.then(drawLinks);
  drawLinks();

  function version() {
    return document.getElementById("review").dataset.version;
  }

  function send(item) {
    return window.annotator.send(addUrl, item, {
      saved: (body) => {
        htmx.swap("#review", body, { swapStyle: "outerHTML" });
        drawLinks();
      },
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

  // The span group whose decisions the side panel shows. Kept across the review's re-renders, so
  // an accept leaves the reviewer where they were (the server opens the first disagreement).
  let openGroup = null;

  function groups() {
    return [...page.querySelectorAll("#decision .group-detail")];
  }

  function showGroup(key, { scroll = false } = {}) {
    const detail = document.getElementById("group-" + key);
    if (!detail) return null;
    openGroup = key;
    for (const other of groups()) other.hidden = other !== detail;
    const picker = document.getElementById("group-picker");
    if (picker) picker.value = key;
    const marks = selectMarks(key);
    if (scroll && marks.length) marks[0].scrollIntoView({ block: "center" });
    else if (scroll) {
      // Its text window has not loaded its highlights yet: scrolling to its line loads them.
      const start = parseInt(key, 10);
      const line = [...page.querySelectorAll("#article-text p[data-start]")].find(
        (p) => Number(p.dataset.start) <= start && start <= Number(p.dataset.end));
      if (line) line.scrollIntoView({ block: "center" });
    }
    return detail;
  }

  function selectMarks(key) {
    for (const mark of page.querySelectorAll("#article-text mark.selected")) mark.classList.remove("selected");
    const marks = page.querySelectorAll(`#article-text mark[data-group="${CSS.escape(key)}"]`);
    for (const mark of marks) mark.classList.add("selected");
    return marks;
  }

  // The next (step 1) or previous (-1) disagreement after the open group, round the end.
  function stepDisagreement(step) {
    const all = groups();
    const at = all.findIndex((detail) => detail.dataset.group === openGroup);
    // A huge article's groups load a page at a time: past the last disagreement loaded, N loads
    // the next page (and steps again) before it goes round to the first; P, going round from the
    // first disagreement, loads the pages left so that it lands on the article's last.
    const more = document.querySelector("#groups-more button");
    const ahead = step > 0 ? all.slice(at + 1) : all.slice(0, Math.max(at, 0));
    if (more && !ahead.some((detail) => detail.classList.contains("disagree"))) {
      htmx.ajax("GET", more.getAttribute("hx-get"), { source: more, swap: "none" }).then(() => stepDisagreement(step));
      return;
    }
    for (let i = 1; i <= all.length; i++) {
      const detail = all[(at + step * i + all.length * (i + 1)) % all.length];
      if (detail.classList.contains("disagree")) {
        showGroup(detail.dataset.group, { scroll: true });
        const first = detail.querySelector(".span-actions button, .span-actions summary");
        if (first) first.focus({ preventScroll: true });
        return;
      }
    }
  }

  // A highlight further on than the groups loaded so far: load their pages (by start) up to it.
  function openLoading(key) {
    if (showGroup(key)) return;
    const more = document.querySelector("#groups-more button");
    const loaded = groups();
    const last = loaded.length ? parseInt(loaded[loaded.length - 1].dataset.group, 10) : -1;
    if (more && last <= parseInt(key, 10)) {
      htmx.ajax("GET", more.getAttribute("hx-get"), { source: more, swap: "none" }).then(() => openLoading(key));
    }
  }

  function restoreGroup() {
    const shown = groups().find((detail) => !detail.hidden);
    if (!(openGroup && showGroup(openGroup)) && shown) showGroup(shown.dataset.group);
  }

  // The analyst's span A and X act on: the one with the focus, else the open group's first not in gold.
  function currentSpan(withAccept) {
    const focused = document.activeElement && document.activeElement.closest("#decision .analyst-span");
    if (focused) return focused;
    const detail = openGroup && document.getElementById("group-" + openGroup);
    if (!detail) return null;
    const spans = [...detail.querySelectorAll(".analyst-span")];
    return (withAccept ? spans.find((span) => span.querySelector("form.accept")) : spans[0]) || null;
  }

  function accept() {
    const span = currentSpan(true);
    const form = span && span.querySelector("form.accept");
    if (form) htmx.trigger(form, "submit");
  }

  function reject() {
    const span = currentSpan(false);
    const details = span && span.querySelector("details.reject");
    if (!details) return;
    details.open = true;
    details.querySelector("input[name=reason]").focus();
  }

  page.addEventListener("click", (event) => {
    const button = event.target.closest(".label-button");
    if (button) {
      label(button.dataset.label);
      return;
    }
    const step = event.target.closest("#decision [data-step]");
    if (step) {
      stepDisagreement(Number(step.dataset.step));
      return;
    }
    if (event.target.closest(".help-button")) {
      document.getElementById("help").showModal();
      return;
    }
    const mark = event.target.closest("#article-text mark[data-group]");
    if (mark && window.getSelection().isCollapsed) openLoading(mark.dataset.group);
  });

  page.addEventListener("change", (event) => {
    if (event.target.id === "group-picker") showGroup(event.target.value, { scroll: true });
  });

  // A save's answer is the whole review as the server now has it: a notice about a form of the
  // review it replaced (refused, or failed with a Retry that could only resend from a form no longer
  // on the page) is out of date.
  // (htmx:load: the form that asked is gone from the page, so its own events do not reach here.)
  document.addEventListener("htmx:load", (event) => {
    // A text window that loaded its highlights: the open group's are picked out in it too.
    if (event.detail.elt.classList && event.detail.elt.classList.contains("text-window")) {
      if (openGroup) selectMarks(openGroup);
      return;
    }
    if (event.detail.elt.id !== "review") return;
    window.annotator.resolveAll("htmx:");
    restoreGroup();
  });
  restoreGroup();

  // A label button takes the focus from the text, but keeps the selection.
  page.addEventListener("mousedown", (event) => {
    if (event.target.closest(".label-button")) event.preventDefault();
  });

  // Capitals for the review's own keys: a label's key is a lower-case letter or digit.
  const KEYS = { N: () => stepDisagreement(1), P: () => stepDisagreement(-1), A: accept, X: reject };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    // Escape in a reject reason gives up the reject: the keys work again from its summary.
    const rejecting = event.key === "Escape" && target.closest && target.closest("#decision details.reject[open]");
    if (rejecting) {
      rejecting.open = false;
      rejecting.querySelector("summary").focus();
      return;
    }
    const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    const help = document.getElementById("help");
    if (typing || event.ctrlKey || event.metaKey || event.altKey || help.open) return;
    if (event.key === "?") {
      event.preventDefault();
      help.showModal();
      return;
    }
    if (KEYS[event.key]) {
      event.preventDefault();
      KEYS[event.key]();
      return;
    }
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
