/* Find a charger: the map and live availability, as progressive enhancement over the server-rendered list.
   Without this script (or without Leaflet, or when tiles cannot load) the list stays complete and usable.
   Data comes from the page (json_script "charger-map-data"); availability is refreshed from the public
   status JSON every 30 s while the page is visible, updating badges and markers in place (no reload). */
(function () {
  "use strict";

  var dataNode = document.getElementById("charger-map-data");
  if (!dataNode) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var COLOURS = { ok: "#1d6b34", busy: "#0f5a99", bad: "#a3221b" };
  var markers = {};

  function markerStyle(badge) {
    return { radius: 9, weight: 2, color: "#ffffff", fillColor: COLOURS[badge] || "#53606c", fillOpacity: 0.95 };
  }

  function popupContent(loc) {
    // Built from DOM nodes with textContent: names come from operators' data and are never parsed as HTML.
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = loc.name;
    var address = document.createElement("div");
    address.textContent = loc.address;
    var count = document.createElement("div");
    count.textContent = loc.text;
    var link = document.createElement("a");
    link.href = loc.url;
    link.textContent = data.messages.details;
    box.append(name, address, count, link);
    return box;
  }

  function showNote(text) {
    var note = document.getElementById("map-note");
    if (note && note.hidden) {
      note.textContent = text;
      note.hidden = false;
    }
  }

  function setupMap() {
    var node = document.getElementById("map");
    if (!node || !window.L || !data.locations.length) {
      return;
    }
    node.hidden = false;
    var finder = node.closest(".finder");
    if (finder) {
      finder.classList.add("has-map");
    }
    var map = L.map(node, { scrollWheelZoom: false });
    var tiles = L.tileLayer(data.tile_url, { attribution: data.attribution, maxZoom: 19 });
    var tileLoaded = false;
    tiles.on("tileload", function () {
      tileLoaded = true;
    });
    tiles.on("tileerror", function () {
      // One missing tile at the edge of the world is harmless; none at all means the tile server is out of reach.
      if (!tileLoaded) {
        showNote(data.messages.tiles_failed);
      }
    });
    tiles.addTo(map);
    var points = [];
    data.locations.forEach(function (loc) {
      var marker = L.circleMarker([loc.lat, loc.lon], markerStyle(loc.badge)).addTo(map);
      marker.bindPopup(popupContent(loc));
      markers[loc.id] = { marker: marker, loc: loc };
      points.push([loc.lat, loc.lon]);
    });
    if (points.length === 1) {
      map.setView(points[0], 16);
    } else {
      map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
    }
  }

  function applyStatus(status) {
    if (!status) {
      return;
    }
    status.locations.forEach(function (loc) {
      document.querySelectorAll('[data-location-id="' + loc.id + '"]').forEach(function (item) {
        var badge = item.querySelector("[data-location-badge]");
        if (badge) {
          badge.textContent = loc.text;
          badge.className = "badge " + loc.badge;
        }
        loc.groups.forEach(function (group) {
          var count = item.querySelector('[data-group-key="' + group.key + '"] [data-group-count]');
          if (count) {
            count.textContent = group.text;
          }
        });
      });
      var entry = markers[loc.id];
      if (entry) {
        entry.loc.text = loc.text;
        entry.loc.badge = loc.badge;
        entry.marker.setStyle(markerStyle(loc.badge));
        entry.marker.setPopupContent(popupContent(entry.loc));
      }
    });
    (status.connectors || []).forEach(function (connector) {
      document.querySelectorAll('[data-connector-id="' + connector.id + '"]').forEach(function (badge) {
        badge.textContent = connector.label;
        badge.className = "badge " + connector.badge;
      });
    });
  }

  function refresh() {
    if (document.hidden || !window.fetch) {
      return;
    }
    fetch(data.status_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(applyStatus)
      .catch(function () {
        /* Offline for a moment: keep what is shown and try again at the next tick. */
      });
  }

  function setupNearMe() {
    var button = document.getElementById("near-me");
    var form = document.getElementById("charger-search");
    if (!button || !form || !navigator.geolocation) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.lat.value = position.coords.latitude.toFixed(5);
          form.elements.lon.value = position.coords.longitude.toFixed(5);
          form.submit();
        },
        function () {
          button.disabled = false;
          document.getElementById("near-me-error").hidden = false;
        },
        { timeout: 10000, maximumAge: 60000 }
      );
    });
  }

  setupMap();
  setupNearMe();
  window.setInterval(refresh, (data.refresh_s || 30) * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
})();
