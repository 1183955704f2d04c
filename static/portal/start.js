// Start progress: asks the start request's status until it settles (the station answered and the session
// started, or it failed), then stops asking and opens the session once there is one. Backs off from 1 to 5
// seconds. The page replaces itself in the history with the session, so "back" does not return to a start.
(function () {
  "use strict";
  var box = document.getElementById("start-progress");
  if (!box) return;
  var message = document.getElementById("progress-message");
  var sessionLink = document.getElementById("progress-session");
  var retry = document.getElementById("progress-retry");
  var delay = 1000;

  function openSession(url) {
    window.location.replace(url);
  }
  if (box.dataset.settled === "true") {
    // Settled before the page was rendered. The server redirects to the session then, but a copy of the page
    // from the browser's cache still arrives settled: open the session if there is one; a failure is on the page.
    if (sessionLink && !sessionLink.hidden && sessionLink.getAttribute("href")) openSession(sessionLink.href);
    return;
  }

  function show(status) {
    box.dataset.state = status.state;
    message.textContent = status.message;
    message.dataset.code = status.code || "";
    message.className = status.state === "failed" ? "alert" : "message";
    if (status.session_url) {
      sessionLink.href = status.session_url;
      sessionLink.hidden = false;
    }
    if (retry) retry.hidden = status.state !== "failed";
  }

  function ask() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (status) {
        show(status);
        if (status.settled) {
          if (status.session_url) openSession(status.session_url);
          return;
        }
        setTimeout(ask, delay);
        delay = Math.min(delay + 1000, 5000);
      })
      .catch(function () { setTimeout(ask, 5000); });
  }
  setTimeout(ask, delay);
})();
