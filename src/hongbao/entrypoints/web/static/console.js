// hongbao console: the pages work without this script; it adds the guidance bubbles'
// dismiss and "learn more" counting, and fetches a drill code in place.
"use strict";

function postHint(hint, event) {
  return fetch("/console/hints/" + encodeURIComponent(hint), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ event: event }),
    credentials: "same-origin",
    keepalive: true,
  });
}

document.addEventListener("click", function (click) {
  const target = click.target.closest("[data-hint-event]");
  if (target) {
    const bubble = target.closest("[data-hint]");
    const event = target.getAttribute("data-hint-event");
    postHint(bubble.getAttribute("data-hint"), event);
    if (event === "dismissed") {
      click.preventDefault();
      bubble.remove();
      const main = document.getElementById("main");
      if (main) { main.focus(); }  // focus must not fall to the top of the page
    }
    return;
  }
  const reveal = click.target.closest("a.reveal[data-challenge]");
  if (reveal) {
    click.preventDefault();
    const id = reveal.getAttribute("data-challenge");
    fetch("/console/drill-code/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (answer) { return answer.json(); })
      .then(function (found) {
        if (!found.code) { window.location.href = reveal.href; return; }
        const input = document.getElementById("code-" + id);
        input.value = found.code;
        const shown = document.createElement("strong");
        shown.className = "drill-code";
        shown.textContent = found.code;
        reveal.replaceWith(shown);
        input.focus();
      });
  }
});
