/* The trajectory map: city boundaries and checkpoints drawn from the platform's own GeoJSON
 * (no tile server), each track's readable points joined in time order in its own colour, masked
 * points only named on their city (no place, no time). Data comes from the page (<script type="application/json"
 * id="track-data">); the layers from /api/v1/geo/… with the session cookie. */
(function () {
  "use strict";

  lianfang.ready(function () {
    var el = document.getElementById("track-map");
    var data = lianfang.data("track-data");
    if (!el || !data || !window.L) { return; }
    var status = document.getElementById("map-status");
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, preferCanvas: false });
    map.setView([28.7, 115.9], 7);
    var maskedByCity = {};
    data.masked.forEach(function (m) { maskedByCity[m.city_code] = m; });

    var bounds = null;
    function extend(b) {
      if (!b || !b.isValid()) { return; }
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    }

    function drawTrack(track) {
      var colour = track.colour || "#1d5aa6";
      var placed = track.points.filter(function (p) { return p.lat !== null && p.lon !== null; });
      var line = placed.map(function (p) { return [p.lat, p.lon]; });
      if (line.length > 1) {
        L.polyline(line, { color: colour, weight: 3, opacity: 0.85 }).addTo(map);
      }
      placed.forEach(function (p) {
        var marker = L.circleMarker([p.lat, p.lon], {
          radius: p.clone ? 9 : 6, weight: p.enters ? 3 : 1.5,
          color: p.clone ? "#b00020" : colour,
          fillColor: p.clone ? "#e53935" : "#ffffff", fillOpacity: 0.95
        }).addTo(map);
        var text = (data.tracks.length > 1 ? track.label + " · " : "") + p.seq + ". " + p.when + " · " +
          (p.name || "") + " · " + p.city;
        if (p.clone) { text += " · " + data.texts.clone.replace("{kmh}", p.kmh === null ? "?" : p.kmh); }
        marker.bindTooltip(text);
        marker.on("click", function () {
          var row = document.getElementById("point-" + p.id);
          if (row) { row.scrollIntoView({ block: "center" }); }
        });
      });
      if (line.length) { extend(L.latLngBounds(line)); }
    }

    function drawCities(geo) {
      var layer = L.geoJSON(geo, {
        style: function (f) {
          var masked = maskedByCity[f.properties.code || f.properties.city_code];
          return { color: "#5f6b7a", weight: 1, fillColor: masked ? "#b26a00" : "#d8dee6",
                   fillOpacity: masked ? 0.18 : 0.08 };
        },
        onEachFeature: function (f, l) {
          var masked = maskedByCity[f.properties.code || f.properties.city_code];
          if (masked) {
            l.bindTooltip(masked.label, { permanent: true, direction: "center", className: "city-label" });
          } else if (f.properties.name) {
            l.bindTooltip(f.properties.name, { sticky: true });
          }
        }
      }).addTo(map);
      layer.bringToBack();
      if (!bounds) { extend(layer.getBounds()); }
    }

    function drawDevices(geo) {
      L.geoJSON(geo, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 2.5, weight: 1, color: "#5f6b7a", fillOpacity: 0.6 });
        },
        onEachFeature: function (f, l) {
          if (f.properties && f.properties.name) { l.bindTooltip(data.texts.checkpoint + " · " + f.properties.name); }
        }
      }).addTo(map);
    }

    var q = "purpose=" + encodeURIComponent(data.purpose) + "&case_no=" + encodeURIComponent(data.case_no);
    var cities = lianfang.api("/api/v1/geo/cities").then(drawCities, function () {
      if (status) { status.textContent = data.texts.no_cities; }
    });
    var devices = lianfang.api("/api/v1/geo/devices?" + q).then(drawDevices, function () { return null; });
    data.tracks.forEach(drawTrack);
    Promise.all([cities, devices]).then(function () {
      if (status && status.parentNode && status.textContent !== data.texts.no_cities) {
        status.parentNode.removeChild(status);
      }
      if (bounds) { map.fitBounds(bounds.pad(0.1)); }
      el.setAttribute("data-ready", "true");
    });
  });
})();
