// Station view: follows the station's own group over /ws/live/?station=<identity>: connector status, connection,
// sessions with their live energy and power, and the answers to commands as the station gives them.
(function () {
  "use strict";
  const view = document.getElementById("station-view");
  if (!view) return;
  const identity = view.dataset.identity;
  const state = document.getElementById("live-state");
  const kw = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const kwh = new Intl.NumberFormat(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 });

  function setState(name, text) { state.dataset.state = name; state.textContent = text; }
  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }
  function dropPlaceholder(tbody) { const none = tbody.querySelector("tr.none"); if (none) none.remove(); }

  // Energies and powers are rendered server-side in Wh and W; show them in kWh and kW.
  function formatReadings() {
    view.querySelectorAll("#station-sessions td.energy[data-wh]").forEach(function (td) {
      if (td.dataset.wh !== "") td.textContent = kwh.format(Number(td.dataset.wh) / 1000);
    });
    view.querySelectorAll("#station-sessions td.power[data-w]").forEach(function (td) {
      if (td.dataset.w !== "") td.textContent = kw.format(Number(td.dataset.w) / 1000);
    });
  }
  formatReadings();

  function onStatus(event) {
    if (!event.connector_pk) {
      document.getElementById("station-status").dataset.status = event.status;
      document.getElementById("station-status-text").textContent = event.status + " " + (event.error_code || "");
      return;
    }
    const row = view.querySelector('#station-connectors tr[data-connector="' + event.connector_pk + '"]');
    if (!row) return;
    row.querySelector(".dot").dataset.status = event.status;
    row.querySelector(".status-text").textContent = event.status;
    row.querySelector(".error").textContent = event.error_code || "";
    row.querySelector(".since").textContent = event.timestamp ? new Date(event.timestamp).toLocaleString() : "";
  }
  function onConnection(event) {
    const badge = document.getElementById("station-connection");
    badge.dataset.state = event.connected ? "accepted" : "offline";
    badge.textContent = event.connected ? "connected" : "offline";
    if (event.connected) document.getElementById("station-connected-at").textContent = new Date().toLocaleString();
  }
  function sessionRow(id) { return view.querySelector('#station-sessions tr[data-session="' + id + '"]'); }
  function onSession(event) {
    const tbody = view.querySelector("#station-sessions tbody");
    let row = sessionRow(event.session_id);
    if (event.type === "session.started" && !row) {
      dropPlaceholder(tbody);
      row = document.createElement("tr");
      row.dataset.session = event.session_id;
      [event.transaction_id, "", "", new Date().toLocaleString()].forEach(function (t) { cell(row, t); });
      cell(row, "-", "energy"); cell(row, "-", "power");
      tbody.appendChild(row);
      catchUp();  // the server's row has what the event does not carry: the EVSE, the token, the customer
    } else if (event.type === "session.stopped" && row) {
      row.querySelector(".power").textContent = "stopped";
      if (event.energy_wh !== null) row.querySelector(".energy").textContent = kwh.format(event.energy_wh / 1000);
    } else if (event.type === "session.reading" && row) {
      if (event.energy_wh !== null) row.querySelector(".energy").textContent = kwh.format(event.energy_wh / 1000);
      if (event.power_w !== null) row.querySelector(".power").textContent = kw.format(event.power_w / 1000);
    }
  }
  function onCommand(event) {
    const tbody = view.querySelector("#station-commands tbody");
    let row = view.querySelector('#station-commands tr[data-command="' + event.command_id + '"]');
    if (!row) {
      dropPlaceholder(tbody);
      row = document.createElement("tr");
      row.dataset.command = event.command_id;
      cell(row, new Date().toLocaleString()); cell(row, event.action); cell(row, "", "command-state"); cell(row, "");
      tbody.prepend(row);
    }
    const stateCell = row.querySelector(".command-state");
    stateCell.dataset.state = event.state;
    stateCell.textContent = event.state;
    if (event.action === "GetConfiguration" && event.state === "accepted") catchUp();  // the keys it listed
  }
  const handlers = { "station.status": onStatus, "station.connection": onConnection, "session.started": onSession,
                     "session.stopped": onSession, "session.reading": onSession, "station.command": onCommand };

  function apply(event) {
    if (event.identity === identity && handlers[event.type]) handlers[event.type](event);
  }

  // What changed between rendering this page and joining the station's group (a command answered while the
  // page loaded, a status sent during a reconnect) reaches no socket: once joined, the live parts are taken
  // from a fresh copy of this page. Events arriving meanwhile are held and applied on top of that copy.
  const LIVE_PARTS = ["#station-connection", "#station-connected-at", "#station-status", "#station-status-text",
                      "#station-connectors tbody", "#station-sessions tbody", "#station-commands tbody",
                      "#station-configuration"];
  let held = null, again = false;
  function catchUp() {
    if (held) { again = true; return; }
    held = [];
    fetch(location.pathname + location.search, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        LIVE_PARTS.forEach(function (selector) {
          const now = fresh.querySelector("#station-view " + selector), shown = view.querySelector(selector);
          if (now && shown) shown.replaceWith(document.importNode(now, true));
        });
        formatReadings();
      })
      .catch(function () { /* the events still apply; what they missed shows at the next load */ })
      .finally(function () {
        const events = held;
        held = null;
        events.forEach(apply);
        if (again) { again = false; catchUp(); }
      });
  }

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/live/?station=" + encodeURIComponent(identity));
    socket.onopen = function () { delay = 1000; setState("live", "live"); catchUp(); };
    socket.onmessage = function (message) {
      const event = JSON.parse(message.data);
      if (held) held.push(event); else apply(event);
    };
    socket.onclose = function () {
      setState("closed", "disconnected, retrying…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
