// The dashboard's own glue, beside htmx: the connection badge, and
// publishing a component (a file as the request body, which htmx's forms
// do not send).
"use strict";

function setConnection(state, text) {
  const badge = document.getElementById("conn");
  if (badge) {
    badge.dataset.state = state;
    badge.textContent = text;
  }
}

document.addEventListener("htmx:sseOpen", () => setConnection("live", "live"));
document.addEventListener("htmx:sseError", () => setConnection("down", "reconnecting"));

function showFlash(html) {
  const flash = document.getElementById("flash");
  if (flash) {
    htmx.swap(flash, html, { swapStyle: "innerHTML" });
  }
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.id !== "publish-form") {
    return;
  }
  event.preventDefault();
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) {
    showFlash('<p class="flash error" role="status">Choose a component (.wasm) first.</p>');
    return;
  }
  if (!window.confirm(`Publish ${file.name} (${file.size} bytes)?`)) {
    return;
  }
  const answer = await fetch("/ui/actions/publish", {
    method: "POST",
    body: file,
    credentials: "same-origin",
    headers: { "HX-Request": "true", "Content-Type": "application/wasm" },
  });
  showFlash(await answer.text());
});
