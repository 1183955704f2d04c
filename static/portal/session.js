// The live session page: figures follow the session's websocket (/ws/portal/sessions/<pk>/) in place;
// no reloads, no polling. The duration ticks locally from the start time.
(function () {
  "use strict";
  var panel = document.getElementById("live-session");
  if (!panel || !("WebSocket" in window)) return;
  var texts = document.getElementById("live-texts").dataset;
  var lang = document.documentElement.lang || "en";
  var startedAt = new Date(panel.dataset.startedAt);
  var ended = false, priced = false;
  var $ = function (id) { return document.getElementById(id); };

  function number(value, digits) {
    return new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  }
  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency }).format(Number(amount));
    } catch (e) {
      return amount + " " + currency;
    }
  }
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }
  function say(text, level) {
    var box = $("live-message");
    box.hidden = !text;
    box.textContent = text || "";
    box.className = level === "bad" ? "alert" : "message" + (level === "ok" ? " success" : "");
  }
  function setConnection(state, text) {
    var el = $("live-connection");
    el.dataset.state = state;
    el.textContent = text;
  }

  function showFigures(event) {
    if (event.energy_wh !== null && event.energy_wh !== undefined) $("live-energy").textContent = number(event.energy_wh / 1000, 3);
    if (event.power_w !== null && event.power_w !== undefined) $("live-power").textContent = number(event.power_w / 1000, 1);
    if (event.soc !== null && event.soc !== undefined) {
      $("live-soc").textContent = number(event.soc, 0);
      $("live-soc-box").hidden = false;
    }
    if ("cost" in event) {
      $("live-cost").textContent = event.cost
        ? texts.about.replace("%(amount)s", money(event.cost.amount, event.cost.currency)) : texts.na;
    }
  }
  function showStatus(status) {
    var badge = $("live-status");
    var key = "status" + status.charAt(0).toUpperCase() + status.slice(1).toLowerCase();
    badge.className = "badge status-" + status.toLowerCase();
    badge.textContent = texts[key] || status;
  }
  // The end turns the page into what the server renders for an ended session: no live power, status or
  // connection; the price once the charge record exists ("being priced" until then).
  function showEnded(event) {
    if (!ended) {
      ended = true;
      $("live-title").textContent = texts.ended;
      ["stop-form", "live-status", "live-power-box", "live-note"].forEach(function (id) { $(id).hidden = true; });
      $("live-cost-label").textContent = texts.price;
      $("live-cost").textContent = texts.beingPriced;
      say("");
      $("final").hidden = false;
    }
    if (event.stopped_at) {
      $("live-duration").textContent = duration((new Date(event.stopped_at).getTime() - startedAt.getTime()) / 1000);
    }
    if (event.pricing_state === "review") {
      $("final-cost").textContent = texts.review;
      $("final-cost").className = "alert";
    }
    if (event.energy_wh !== null && event.energy_wh !== undefined) $("live-energy").textContent = number(event.energy_wh / 1000, 3);
  }
  function showPriced(event) {
    showEnded(event);
    priced = true;
    $("final-cost").className = "message";
    $("live-cost").textContent = money(event.amount, event.currency);
    $("final-cost").textContent = texts.priced.replace("%(amount)s", money(event.amount, event.currency));
    var list = $("final-explanation");
    list.textContent = "";
    (event.explanation || []).forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    list.hidden = $("final-explanation-heading").hidden = !list.childNodes.length;
  }

  function apply(event) {
    if (ended && event.type !== "stopped" && event.type !== "priced") return;  // late figures of a past session
    switch (event.type) {
      case "snapshot":
      case "reading": showFigures(event); if (event.connector_status) showStatus(event.connector_status); break;
      case "status": showStatus(event.status); break;
      case "connection": say(event.connected ? "" : texts.offline, "bad"); break;
      case "stop": say(event.message, event.level); break;
      case "stopped": showEnded(event); break;
      case "priced": showPriced(event); break;
    }
  }

  setInterval(function () {
    if (!ended) $("live-duration").textContent = duration((Date.now() - startedAt.getTime()) / 1000);
  }, 1000);

  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + panel.dataset.socketPath);
    socket.onopen = function () { delay = 1000; setConnection("live", texts.live); };
    socket.onmessage = function (message) {
      apply(JSON.parse(message.data));
      if (priced) socket.close();  // the final price is the last thing this page waits for
    };
    socket.onclose = function (close) {
      if (close.code === 4403 || priced) return;  // not this user's session any more, or nothing left to hear
      setConnection("closed", texts.reconnecting);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
