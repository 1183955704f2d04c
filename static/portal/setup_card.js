/* The portal's "add a card" form: Stripe.js collects the card and confirms the SetupIntent in the browser
   (3-D Secure included), then the form posts only the SetupIntent's id, which the server reads back from Stripe.
   The card number never reaches our server. Messages come from the page (translated there). */
(function () {
  "use strict";
  var form = document.getElementById("setup-card");
  if (!form) { return; }
  var message = document.getElementById("card-message");
  var button = form.querySelector("button[type=submit]");
  var say = function (text) { message.textContent = text || ""; };
  var busy = false;  // confirming: a second tap while the bank answers must not confirm twice

  if (typeof window.Stripe !== "function") {
    say(form.dataset.msgUnavailable);
    return;
  }
  var stripe = window.Stripe(form.dataset.key);
  var card = stripe.elements({locale: document.documentElement.lang || "auto"}).create("card", {
    hidePostalCode: true,
    style: {base: {fontSize: "16px", color: "#1d2733"}}
  });
  // Stripe.js sends "ready" once the card field can take input, and "change" (with an event) as the driver
  // types. A stand-in that never sends "ready", or sends "change" without an event, must not leave the button
  // disabled or break the page: either event enables it.
  var enable = function () { if (!busy) { button.disabled = false; } };
  card.on("ready", enable);
  card.on("change", function (event) {
    enable();
    say(event && event.error ? event.error.message : "");
  });
  card.mount("#card-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }  // a second tap while the bank answers must not confirm twice
    busy = true;
    button.disabled = true;
    say(form.dataset.msgWorking);
    stripe.confirmCardSetup(form.dataset.clientSecret, {
      payment_method: {card: card, billing_details: {name: form.cardholder.value}}
    }).then(function (result) {
      if (result.error) {
        say(result.error.message);
        busy = false;
        button.disabled = false;
        return;
      }
      form.setup_intent.value = result.setupIntent.id;
      form.submit();  // the native submit: no second "submit" event, so no loop
    });
  });
})();
