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
    problems.set(key, { message, retry: options && options.retry, login: options && options.login });
    render();
  }

  function resolve(key) {
    if (problems.delete(key)) render();
  }

  function retry(key) {
    const problem = problems.get(key);
    if (problem && problem.retry) problem.retry();
  }

  function retryAll() {
    for (const key of Array.from(problems.keys())) retry(key);
  }

  // What a failed response means for the person whose change it was.
  function describe(status, body) {
    if (status === 0) return { message: "The server cannot be reached. Your change is not saved.", retry: true };
    if (status === 401) return { message: "Your session has expired. Your change is not saved.", retry: true, login: true };
    if (status === 403) return { message: "The server refused this change (permission or expired form). It is not saved.", retry: true, login: true };
    if (status === 400 || status === 404 || status === 409 || status === 422) {
      return { message: (body || "The change was refused.").slice(0, 300), retry: false };
    }
    return { message: `The server failed (${status}). Your change is not saved.`, retry: true };
  }

  function htmxFailure(event) {
    const detail = event.detail;
    const elt = detail.elt;
    const xhr = detail.xhr;
    const status = event.type === "htmx:sendError" ? 0 : xhr.status;
    const trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    const key = "htmx:" + (elt.id || detail.pathInfo.requestPath);
    const what = describe(status, xhr && xhr.responseText);
    report(key, what.message, {
      login: what.login,
      retry: what.retry && (() => htmx.trigger(elt, trigger ? trigger.type : "submit")),
    });
  }

  // POST a new highlight and report its fate: `saved(body, response)` with the answer, `refused()` when
  // retrying cannot help; otherwise the notice offers Retry, which sends the same item again
  // (its client_id makes a retry harmless).
  function send(url, item, { saved, refused }) {
    const key = "span:" + item.client_id;
    const label = `“${item.text.slice(0, 40)}”: `;
    const failed = (what) =>
      report(key, label + what.message, { login: what.login, retry: what.retry && (() => send(url, item, { saved, refused })) });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      body: new URLSearchParams(item),
    })
      .then((response) => response.text().then((body) => ({ response, body })))
      .then(({ response, body }) => {
        if (response.redirected || !response.ok) {
          // A redirect here is the login page: the session expired.
          const what = describe(response.redirected ? 401 : response.status, body);
          if (!what.retry && refused) refused();
          failed(what);
          return;
        }
        resolve(key);
        saved(body, response);
      })
      .catch(() => failed(describe(0, "")));
  }

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });
  document.addEventListener("htmx:responseError", htmxFailure);
  document.addEventListener("htmx:sendError", htmxFailure);
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) resolve("htmx:" + (event.detail.elt.id || event.detail.pathInfo.requestPath));
  });

  window.annotator = { csrfToken, report, resolve, retryAll, describe, send };
})();
