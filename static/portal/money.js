/* Money forms (top-up, membership, promotion code): once submitted, their button is disabled, so a double tap
   sends one request. The server refuses a second charge anyway; this only spares the driver the message. */
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    var button = form.querySelector("button[data-once]");
    if (!button) { return; }
    form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0);  // after the browser took its value
    });
  });
})();
