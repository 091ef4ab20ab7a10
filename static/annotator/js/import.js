// Upload progress for the import form. htmx reports the request's progress; the server
// renders the result. Without JavaScript the form is a plain POST and none of this runs.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("import-form");
  if (!form) return;
  const status = document.getElementById("upload-status");
  const progress = document.getElementById("upload-progress");
  const failure = document.getElementById("upload-failure");

  form.addEventListener("htmx:beforeRequest", () => {
    progress.value = 0;
    status.hidden = false;
    failure.hidden = true;
  });

  form.addEventListener("htmx:xhr:progress", (event) => {
    if (!event.detail.lengthComputable || !event.detail.total) return;
    // htmx reports the upload and then the (small) download: keep the bar from going back.
    const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    progress.value = Math.max(progress.value, percent);
  });

  form.addEventListener("htmx:afterRequest", (event) => {
    status.hidden = true;
    if (!event.detail.successful) {
      const xhr = event.detail.xhr;
      const type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
      if (xhr && xhr.status === 400 && type.startsWith("text/plain")) {
        // The server says why (too many files at once): sending the same again cannot help.
        failure.textContent = `The import did not start. ${xhr.responseText.slice(0, 300)}`;
      } else {
        const reason = xhr && xhr.status ? `the server answered ${xhr.status} ${xhr.statusText}` : "the connection failed";
        // Re-uploading is safe: articles already imported would be skipped as duplicates.
        failure.textContent = `The import did not finish: ${reason}. Try again.`;
      }
      failure.hidden = false;
    }
  });
});
