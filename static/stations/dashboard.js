// Operator dashboard: counters, status board and charts. The board follows station events from /ws/live/ as
// they arrive; the counters are re-fetched (debounced, one request at a time) after events, never on a timer.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) return;
  const boardEl = document.getElementById("board");
  const state = document.getElementById("live-state");
  const filterInput = document.getElementById("board-filter");
  const problemsOnly = document.getElementById("board-problems");
  const stationUrl = root.dataset.stationUrl;
  const PROBLEMS = new Set(["Faulted", "Unavailable"]);
  const REFETCH_AFTER_MS = 1500;

  function data(id) { return JSON.parse(document.getElementById(id).textContent); }

  // --- counters -------------------------------------------------------------------------------------------
  const kwh = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  function renderCounters(counters) {
    root.querySelectorAll("[data-counter]").forEach(function (el) {
      const [group, key] = el.dataset.counter.split(".");
      const value = (counters[group] || {})[key];
      if (value === undefined) return;
      el.textContent = el.dataset.unit === "kwh" ? kwh.format(value / 1000) : value;
    });
    const rows = document.getElementById("revenue-rows");
    if (rows && counters.revenue) {
      rows.replaceChildren();
      counters.revenue.forEach(function (r) {
        const tr = document.createElement("tr");
        [r.currency, r.today_incl_vat, r.today_excl_vat, r.month_incl_vat, r.month_excl_vat].forEach(function (v, i) {
          const cell = document.createElement(i === 0 ? "th" : "td");
          cell.textContent = v;
          tr.appendChild(cell);
        });
        rows.appendChild(tr);
      });
    }
  }

  let timer = null, inFlight = false, again = false, withBoard = false;
  function scheduleRefetch(board) {
    withBoard = withBoard || Boolean(board);
    if (timer) return;
    timer = setTimeout(refetch, REFETCH_AFTER_MS);
  }
  function refetch() {
    timer = null;
    if (inFlight) { again = true; return; }
    inFlight = true;
    const url = root.dataset.countersUrl + (withBoard ? "?board=1" : "");
    withBoard = false;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (counters) {
        renderCounters(counters);
        if (counters.board) { stations = index(counters.board); renderBoard(); }
      })
      .catch(function () { setState("closed", "counters could not be refreshed"); })
      .finally(function () { inFlight = false; if (again) { again = false; scheduleRefetch(); } });
  }

  // --- status board ---------------------------------------------------------------------------------------
  let stations = index(data("dashboard-board"));
  function index(board) {
    const byId = new Map();
    board.forEach(function (s) { byId.set(s.identity, s); });
    return byId;
  }
  function hasProblem(s) {
    return !s.connected || PROBLEMS.has(s.status) || s.connectors.some(function (c) { return PROBLEMS.has(c[2]); });
  }
  function tile(s) {
    const el = document.createElement("a");
    el.className = "tile";
    el.href = stationUrl.replace("/0/", "/" + s.id + "/");
    el.dataset.identity = s.identity;
    el.dataset.connected = s.connected ? "true" : "false";
    el.title = s.identity + (s.location ? " · " + s.location : "") + (s.connected ? "" : " · offline");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = s.identity;
    el.appendChild(name);
    s.connectors.forEach(function (c) {
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.dataset.connector = c[0];
      dot.dataset.status = c[2];
      dot.title = "EVSE " + c[1] + ": " + c[2] + (c[3] ? " (" + c[3] + ")" : "");
      el.appendChild(dot);
    });
    return el;
  }
  function visible(s) {
    const text = filterInput.value.trim().toLowerCase();
    if (text && s.identity.toLowerCase().indexOf(text) < 0 && s.location.toLowerCase().indexOf(text) < 0) return false;
    return !problemsOnly.checked || hasProblem(s);
  }
  function renderBoard() {
    const fragment = document.createDocumentFragment();
    stations.forEach(function (s) { if (visible(s)) fragment.appendChild(tile(s)); });
    boardEl.replaceChildren(fragment);
  }
  function replaceTile(s) {
    const old = boardEl.querySelector('a.tile[data-identity="' + CSS.escape(s.identity) + '"]');
    if (old && visible(s)) old.replaceWith(tile(s));
    else if (old) old.remove();
    else if (visible(s)) renderBoard();  // keeps identity order
  }
  function applyEvent(event) {
    const s = stations.get(event.identity);
    if (!s) { scheduleRefetch(true); return; }  // a station added since the page loaded
    if (event.type === "station.status") {
      if (event.connector_pk) {
        const c = s.connectors.find(function (c) { return c[0] === event.connector_pk; });
        if (!c) { scheduleRefetch(true); return; }
        c[2] = event.status; c[3] = event.error_code || "";
      } else {
        s.status = event.status;
      }
    } else if (event.type === "station.connection") {
      s.connected = Boolean(event.connected);
    } else if (event.type !== "session.started" && event.type !== "session.stopped") {
      return;
    }
    replaceTile(s);
    scheduleRefetch(false);
  }
  filterInput.addEventListener("input", renderBoard);
  problemsOnly.addEventListener("change", renderBoard);
  renderBoard();

  // --- live socket ----------------------------------------------------------------------------------------
  function setState(name, text) { state.dataset.state = name; state.textContent = text; }
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/live/");
    socket.onopen = function () {
      delay = 1000;
      setState("live", "live");
      // Catch up with what happened since the page was rendered (events before the group was joined reach
      // no socket) or while disconnected.
      scheduleRefetch(true);
    };
    socket.onmessage = function (message) { applyEvent(JSON.parse(message.data)); };
    socket.onclose = function () {
      setState("closed", "disconnected, retrying…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  renderCounters(data("dashboard-counters"));
  connect();

  // --- charts ---------------------------------------------------------------------------------------------
  function loadCharts() {
    fetch(root.dataset.chartsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(drawCharts)
      .catch(function () {
        root.querySelectorAll(".charts figcaption").forEach(function (c) { c.textContent += " (could not be loaded)"; });
      });
  }
  function drawCharts(charts) {
    if (!window.Chart) return;
    const days = charts.days.map(function (d) { return d.slice(5); });
    new Chart(document.getElementById("chart-sessions"), {
      data: { labels: days, datasets: [
        { type: "bar", label: "sessions", data: charts.sessions, yAxisID: "y" },
        { type: "line", label: "energy (kWh)", data: charts.energy_kwh, yAxisID: "kwh" },
      ] },
      options: { scales: { y: { beginAtZero: true, position: "left" },
                           kwh: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
    });
    const revenueCanvas = document.getElementById("chart-revenue");
    if (revenueCanvas && charts.revenue) {
      new Chart(revenueCanvas, {
        type: "line",
        data: { labels: days, datasets: Object.keys(charts.revenue).map(function (currency) {
          return { label: currency + " incl. VAT", data: charts.revenue[currency].incl_vat.map(Number) };
        }) },
        options: { scales: { y: { beginAtZero: true } } },
      });
    }
    new Chart(document.getElementById("chart-utilisation"), {
      type: "bar",
      data: { labels: charts.utilisation.map(function (l) { return l.name; }),
              datasets: [{ label: "% of connector-hours occupied", data: charts.utilisation.map(function (l) { return l.percent; }) }] },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, suggestedMax: 100 } } },
    });
    new Chart(document.getElementById("chart-load"), {
      data: { labels: charts.load.hours.map(function (h) { return String(h).padStart(2, "0") + ":00"; }), datasets: [
        { type: "bar", label: "average kW", data: charts.load.average_kw, yAxisID: "y" },
        { type: "line", label: "sessions started per day", data: charts.load.sessions_started, yAxisID: "n" },
      ] },
      options: { scales: { y: { beginAtZero: true, position: "left" },
                           n: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
    });
  }
  loadCharts();
})();
