// Live network board: listens on /ws/live/ and recolours connector rows as status events arrive.
(function () {
  "use strict";
  const board = document.getElementById("live-board");
  const state = document.getElementById("live-state");
  if (!board) return;

  function setState(name, text) { state.dataset.state = name; state.textContent = text; }

  function apply(event) {
    if (event.type === "station.status" && event.connector_pk) {
      const row = board.querySelector('tr[data-connector="' + event.connector_pk + '"]');
      if (!row) return;
      const cell = row.querySelector("td.status");
      cell.dataset.status = event.status;
      cell.textContent = event.status;
      row.querySelector("td.error").textContent = event.error_code || "";
    } else if (event.type === "station.connection") {
      board.querySelectorAll('tr[data-identity="' + CSS.escape(event.identity) + '"] .conn').forEach(function (el) {
        el.dataset.connected = event.connected ? "true" : "false";
      });
    }
  }

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/live/");
    socket.onopen = function () { delay = 1000; setState("live", "live"); };
    socket.onmessage = function (message) { apply(JSON.parse(message.data)); };
    socket.onclose = function () {
      setState("closed", "disconnected, retrying…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
