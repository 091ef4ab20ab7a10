// Behaviour every page shares: the CSRF header on htmx requests, and a visible, retryable
// notice whenever a change did not reach the server.
(function () {
  "use strict";

  function csrfToken() {
    // Read at request time: logging in again (after an expired session) rotates the token.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  const problems = new Map(); // key -> {message, retry}

  function render() {
    const box = document.getElementById("save-status");
    if (!box) return;
    box.replaceChildren();
    if (problems.size === 0) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.classList.remove("ok");
    for (const [key, problem] of problems) {
      const line = document.createElement("p");
      line.className = "problem";
      line.dataset.key = key;
      if (problem.what) {
        // The analyst's text (a highlight, a label's name): isolated, so its direction cannot reorder ours.
        const what = document.createElement("bdi");
        what.textContent = problem.what;
        line.append(what, document.createTextNode(": "));
      }
      line.append(document.createTextNode(problem.message + " "));
      if (problem.login) {
        const link = document.createElement("a");
        link.href = "/accounts/login/";
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = "Log in (opens a new tab)";
        line.append(link, document.createTextNode(" then "));
      }
      if (problem.retry) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "retry";
        button.textContent = "Retry";
        button.addEventListener("click", () => retry(key));
        line.append(button);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "Dismiss";
        button.addEventListener("click", () => resolve(key));
        line.append(button);
      }
      box.append(line);
    }
  }

  function report(key, message, options) {
    problems.set(key, { message, what: options && options.what, retry: options && options.retry, login: options && options.login });
    render();
  }

  function resolve(key) {
    if (problems.delete(key)) render();
  }

  // Forget every notice whose key starts with `prefix` (a page that now shows the server's state).
  function resolveAll(prefix) {
    let changed = false;
    for (const key of Array.from(problems.keys())) if (key.startsWith(prefix)) changed = problems.delete(key) || changed;
    if (changed) render();
  }

  function retry(key) {
    const problem = problems.get(key);
    if (problem && problem.retry) problem.retry();
  }

  function retryAll() {
    for (const key of Array.from(problems.keys())) retry(key);
  }

  const CHANGE_LOST = "Your change is not saved.";
  const VIEW_STALE = "This part of the page is not up to date; nothing is lost.";

  // What a failed response means for the person whose change it was (`outcome`: what it means for
  // them, when what failed was not a change). The app explains a refusal in a plain-text body; an
  // HTML body is an error page (Django's own 404, say), never shown as text.
  function describe(status, body, type, outcome = CHANGE_LOST) {
    if (status === 0) return { message: `The server cannot be reached. ${outcome}`, retry: true };
    if (status === 401) return { message: `Your session has expired. ${outcome}`, retry: true, login: true };
    if (status === 403) return { message: `The server refused this (permission or expired form). ${outcome}`, retry: true, login: true };
    if (status === 400 || status === 404 || status === 409 || status === 422) {
      const said = type && type.startsWith("text/plain") && body;
      const fallback = status !== 404 ? "The change was refused."
        : outcome === CHANGE_LOST ? "What you changed is no longer there (deleted in another tab?)."
        : "This is no longer there (deleted in another tab?).";
      return { message: (said || fallback).slice(0, 300), retry: false };
    }
    return { message: `The server failed (${status}). ${outcome}`, retry: true };
  }

  // The notice of an htmx request is keyed by the element that made it. Not `detail.elt`: when the
  // answer replaced that element, htmx reports the end of the request on its nearest remaining
  // parent, and the notice of a failure that this success fixed would stay.
  function htmxKey(detail) {
    const elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    return "htmx:" + (elt.id || detail.pathInfo.requestPath);
  }

  function htmxFailure(event) {
    const detail = event.detail;
    const elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    const xhr = detail.xhr;
    const status = event.type === "htmx:sendError" ? 0 : xhr.status;
    const trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    const key = htmxKey(detail);
    // A GET (a page of a list, a progress poll) changes nothing: only what the page shows is behind.
    const outcome = detail.requestConfig && detail.requestConfig.verb === "get" ? VIEW_STALE : CHANGE_LOST;
    const what = describe(status, xhr && xhr.responseText, xhr && xhr.getResponseHeader("Content-Type"), outcome);
    report(key, what.message, {
      login: what.login,
      retry: what.retry && (() => htmx.trigger(elt, trigger ? trigger.type : "submit")),
    });
  }

  // Send a request and report its fate under `key`: `saved(body, response)` with the answer,
  // `refused(what, status)` when retrying cannot help; otherwise the notice offers Retry, which calls
  // `retry` (by default: the same request again). `outcome` is what a failure means (`describe`);
  // a request the page gave up (`signal` aborted) reports nothing. The CSRF token is read at each
  // send, so a retry after logging in again carries the new one.
  function request(method, url, body, { key, what, outcome, signal, saved, refused, retry }) {
    const again = retry || (() => request(method, url, body, { key, what, outcome, signal, saved, refused }));
    const failed = (problem) => report(key, problem.message, { what, login: problem.login, retry: problem.retry && again });
    return fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      body: body && new URLSearchParams(body),
      signal,
    })
      .then((response) => response.text().then((text) => ({ response, text })))
      .then(({ response, text }) => {
        if (signal && signal.aborted) return false;
        if (response.redirected || !response.ok) {
          // A redirect here is the login page: the session expired.
          const status = response.redirected ? 401 : response.status;
          const problem = describe(status, text, response.headers.get("Content-Type"), outcome);
          if (!problem.retry && refused) refused(problem, status);
          failed(problem);
          return false;
        }
        resolve(key);
        saved(text, response);
        return true;
      })
      .catch(() => {
        if (!(signal && signal.aborted)) failed(describe(0, "", "", outcome));
        return false;
      });
  }

  // POST a change (`body`, form fields); see `request`.
  function post(url, body, options) {
    return request("POST", url, body, options);
  }

  // GET what the page shows (a span's editor); see `request`.
  function get(url, options) {
    return request("GET", url, null, options);
  }

  // POST a new highlight; its client_id makes a retry harmless.
  function send(url, item, { saved, refused }) {
    return post(url, item, { key: "span:" + item.client_id, what: `“${item.text.slice(0, 40)}”`, saved, refused });
  }

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = csrfToken();
    // Django reads a form's own token before the header: the one the page was rendered with is
    // stale once the analyst has logged in again.
    if (event.detail.parameters.csrfmiddlewaretoken !== undefined) event.detail.parameters.csrfmiddlewaretoken = csrfToken();
  });
  document.addEventListener("htmx:responseError", htmxFailure);
  document.addEventListener("htmx:sendError", htmxFailure);
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) resolve(htmxKey(event.detail));
  });

  window.annotator = { csrfToken, report, resolve, resolveAll, retryAll, describe, get, post, send };
})();
