/* Maps for forms and pages (portal.maps, templates/macros/map.html). Leaflet comes from our own origin; tiles
   only from MAP_TILE_URL, and without one the city's street list is drawn as a plain base map.
   The text inputs beside each map (street and house number, coordinates) are the alternative for keyboards,
   screen readers and browsers without JavaScript; this script keeps them and the map in step and announces
   every change in the map's status line. Without this script the form works on the text inputs alone. */
(function () {
  "use strict";
  if (!window.L || !document.querySelector) { return; }
  var EARTH_RADIUS = 6371008.8;

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : match;
    });
  }

  function round(value) { return Math.round(value * 1e7) / 1e7; }

  function number(value, digits) {
    return value.toLocaleString(document.documentElement.lang || "de", { maximumFractionDigits: digits });
  }

  function inside(settings, lat, lon) {
    var b = settings.bounds;
    return lat >= b[0] && lat <= b[2] && lon >= b[1] && lon <= b[3];
  }

  // Same approximation as portal/maps/geo.py: a local plane around the ring, shoelace formula.
  function areaM2(latlngs) {
    if (latlngs.length < 3) { return 0; }
    var lat0 = 0;
    latlngs.forEach(function (p) { lat0 += p.lat / latlngs.length; });
    var kx = Math.PI / 180 * EARTH_RADIUS * Math.cos(lat0 * Math.PI / 180);
    var ky = Math.PI / 180 * EARTH_RADIUS;
    var sum = 0;
    for (var i = 0; i < latlngs.length; i++) {
      var a = latlngs[i], b = latlngs[(i + 1) % latlngs.length];
      sum += (a.lng * kx) * (b.lat * ky) - (b.lng * kx) * (a.lat * ky);
    }
    return Math.abs(sum / 2);
  }

  // "51.0504, 13.7373", "51,0504 13,7373": latitude first; swapped when only the swapped pair is in the city.
  function parseCoordinates(text, settings) {
    var found = String(text || "").replace(/\u2212/g, "-").match(/[-+]?\d{1,3}(?:[.,]\d+)?/g);
    if (!found || found.length !== 2) { return null; }
    var lat = parseFloat(found[0].replace(",", ".")), lon = parseFloat(found[1].replace(",", "."));
    if (!inside(settings, lat, lon) && inside(settings, lon, lat)) { var t = lat; lat = lon; lon = t; }
    return inside(settings, lat, lon) ? L.latLng(lat, lon) : null;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  function baseMap(element, settings, options) {
    var b = settings.bounds;
    var map = L.map(element, Object.assign({
      center: settings.center,
      zoom: settings.zoom,
      maxZoom: settings.maxZoom,
      maxBounds: L.latLngBounds([b[0], b[1]], [b[2], b[3]]).pad(0.2)
    }, options || {}));
    if (settings.tileUrl) {
      L.tileLayer(settings.tileUrl, { maxZoom: settings.maxZoom, attribution: settings.attribution }).addTo(map);
    } else {
      element.classList.add("map--no-tiles");
      getJSON(settings.streetsUrl).then(function (data) {
        L.geoJSON(data, {
          interactive: false,
          style: function () { return { className: "map-street", weight: 4 }; },
          pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 3, className: "map-street" }); }
        }).addTo(map);
      }).catch(function () { /* the map still works without the street lines */ });
    }
    return map;
  }

  function Status(element) {
    return function (message) { if (element) { element.textContent = message; } };
  }

  function setUpInput(box) {
    var config = JSON.parse(box.getAttribute("data-map-input"));
    var texts = JSON.parse(box.getAttribute("data-map-texts"));
    var settings = config.settings;
    var hidden = document.getElementById(config.target);
    var address = config.address ? document.getElementById(config.address) : null;
    var suggestions = document.getElementById(config.suggestions);
    var coordinates = config.coordinates ? document.getElementById(config.coordinates) : null;
    var say = Status(document.getElementById(config.status));
    box.hidden = false;
    var map = baseMap(document.getElementById(config.canvas), settings);
    var initial = hidden.value;
    var draw = config.mode === "polygon" ? polygonTool(map, box, hidden, texts, settings, say, initial)
                                          : pointTool(map, box, hidden, coordinates, texts, settings, say);
    showInitial(map, initial, draw);

    if (coordinates) {
      coordinates.addEventListener("change", function () {
        if (!coordinates.value.trim()) { return; }
        var latlng = parseCoordinates(coordinates.value, settings);
        if (!latlng) { say(texts.coordinatesInvalid); return; }
        draw.place(latlng, "coordinates");
      });
    }
    if (address) {
      if (suggestions && !address.getAttribute("list")) { address.setAttribute("list", suggestions.id); }
      var timer = null;
      address.addEventListener("input", function () {
        clearTimeout(timer);
        var query = address.value.trim();
        if (query.length < 3) { return; }
        timer = setTimeout(function () {
          getJSON(settings.geocodeUrl + "?q=" + encodeURIComponent(query)).then(function (data) {
            if (!suggestions) { return; }
            suggestions.textContent = "";
            data.results.forEach(function (result) {
              var option = document.createElement("option");
              option.value = result.label;
              suggestions.appendChild(option);
            });
          }).catch(function () { /* suggestions are a convenience */ });
        }, 250);
      });
      address.addEventListener("change", function () {
        var query = address.value.trim();
        if (!query) { return; }
        say(texts.searching);
        getJSON(settings.geocodeUrl + "?q=" + encodeURIComponent(query)).then(function (data) {
          if (data.status === "found") {
            draw.place(L.latLng(data.results[0].lat, data.results[0].lon), "address", data.results[0].label);
          } else {
            draw.unplace();
            say(data.message);
          }
        }).catch(function () { say(texts.unavailable); });
      });
    }
  }

  function showInitial(map, value, draw) {
    if (!value) { return; }
    try {
      var geometry = JSON.parse(value);
      if (geometry.type === "Point") {
        draw.restorePoint(L.latLng(geometry.coordinates[1], geometry.coordinates[0]));
      } else if (geometry.type === "Polygon") {
        draw.restorePolygon(geometry.coordinates[0].slice(0, -1).map(function (p) { return L.latLng(p[1], p[0]); }));
      }
    } catch (error) { /* the server reports what is wrong with it */ }
  }

  function pointTool(map, box, hidden, coordinates, texts, settings, say) {
    var marker = null;
    function write(latlng) {
      hidden.value = JSON.stringify({ type: "Point", coordinates: [round(latlng.lng), round(latlng.lat)] });
    }
    function nearest(latlng, message) {
      getJSON(settings.reverseUrl + "?lat=" + latlng.lat + "&lon=" + latlng.lng).then(function (data) {
        if (data.result && marker && marker.getLatLng().equals(latlng)) {
          say(message + " " + format(texts.nearest, { label: data.result.label }));
        }
      }).catch(function () { /* the position itself is set */ });
    }
    function show(latlng) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: false }).addTo(map);
        marker.on("dragend", function () { tool.place(marker.getLatLng(), "map"); });
      } else {
        marker.setLatLng(latlng);
      }
    }
    var tool = {
      place: function (latlng, how, label) {
        show(latlng);
        write(latlng);
        if (coordinates && how !== "coordinates") {
          coordinates.value = latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6);
        }
        if (how !== "map") { map.setView(latlng, Math.max(map.getZoom(), 17)); }
        var message = format(texts.pointSet, { position: label || (number(latlng.lat, 5) + ", " + number(latlng.lng, 5)) });
        say(message);
        if (how !== "address") { nearest(latlng, message); }
      },
      unplace: function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        hidden.value = "";
      },
      restorePoint: function (latlng) { show(latlng); map.setView(latlng, Math.max(map.getZoom(), 17)); },
      restorePolygon: function () {}
    };
    map.on("click", function (event) { tool.place(event.latlng, "map"); });
    box.querySelector("[data-map-clear]").addEventListener("click", function () {
      tool.unplace();
      if (coordinates) { coordinates.value = ""; }
      say(texts.pointRemoved);
    });
    return tool;
  }

  function polygonTool(map, box, hidden, texts, settings, say, initial) {
    var vertices = [];
    var shape = null;
    var corners = L.layerGroup().addTo(map);
    var reference = null; // a point from the text alternative, shown until an area is drawn
    function redraw() {
      if (shape) { map.removeLayer(shape); shape = null; }
      corners.clearLayers();
      vertices.forEach(function (latlng) { L.circleMarker(latlng, { radius: 5, className: "map-corner", interactive: false }).addTo(corners); });
      if (vertices.length >= 3) {
        shape = L.polygon(vertices, { className: "map-area", interactive: false }).addTo(map);
      } else if (vertices.length === 2) {
        shape = L.polyline(vertices, { className: "map-area", interactive: false }).addTo(map);
      }
    }
    function write() {
      if (vertices.length >= 3) {
        var ring = vertices.map(function (p) { return [round(p.lng), round(p.lat)]; });
        ring.push(ring[0]);
        hidden.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
        say(format(texts.vertices, { n: vertices.length, area: number(areaM2(vertices), 0) }));
      } else {
        hidden.value = vertices.length === 0 && reference ? initial : "";
        say(format(texts.needMore, { n: vertices.length }));
      }
    }
    var tool = {
      place: function (latlng, how, label) {
        map.setView(latlng, Math.max(map.getZoom(), 18));
        say(format(texts.centred, { label: label || (number(latlng.lat, 5) + ", " + number(latlng.lng, 5)) }));
      },
      unplace: function () {},
      restorePoint: function (latlng) {
        reference = L.marker(latlng, { keyboard: false, interactive: false }).addTo(map);
        map.setView(latlng, Math.max(map.getZoom(), 18));
      },
      restorePolygon: function (latlngs) {
        vertices = latlngs;
        redraw();
        if (shape) { map.fitBounds(shape.getBounds(), { maxZoom: 19, padding: [20, 20] }); }
      }
    };
    map.on("click", function (event) {
      if (vertices.length >= settings.maxVertices) { say(format(texts.tooMany, { max: settings.maxVertices })); return; }
      vertices.push(event.latlng);
      redraw();
      write();
    });
    box.querySelector("[data-map-undo]").addEventListener("click", function () {
      vertices.pop();
      redraw();
      write();
    });
    box.querySelector("[data-map-clear]").addEventListener("click", function () {
      vertices = [];
      redraw();
      hidden.value = "";
      if (reference) { map.removeLayer(reference); reference = null; }
      say(texts.cleared);
    });
    return tool;
  }

  function setUpView(element) {
    var config = JSON.parse(element.getAttribute("data-map-view"));
    element.hidden = false;
    var map = baseMap(element, config.settings, { keyboard: false, scrollWheelZoom: false });
    var layer = L.geoJSON(config.geojson, { style: function () { return { className: "map-area" }; } }).addTo(map);
    if (config.geojson.type === "Point") {
      map.setView([config.geojson.coordinates[1], config.geojson.coordinates[0]], 17);
    } else {
      map.fitBounds(layer.getBounds(), { maxZoom: 19, padding: [20, 20] });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-map-input]"), setUpInput);
  Array.prototype.forEach.call(document.querySelectorAll("[data-map-view]"), setUpView);
}());
