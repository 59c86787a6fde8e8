// The public page's map: the grid layer as the base, cases as dots (rounded places, no links).
"use strict";
(function () {
  const colours = { open: "#f2b01e", closed: "#2ca02c" };
  const el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  const map = L.map(el);
  fetch("/public/grids.geojson")
    .then((r) => (r.ok ? r.json() : null))
    .then((grids) => {
      if (!grids) return;
      L.geoJSON(grids, {
        style: { color: "#5a6f8c", weight: 1, fillColor: "#dde6f0", fillOpacity: 0.35 },
      }).addTo(map).bringToBack();
    });
  fetch(el.dataset.src)
    .then((r) => r.json())
    .then((cases) => {
      const layer = L.featureGroup(cases.map((c) => {
        const text = document.createElement("span");
        text.textContent = c.category + " · " + c.month + (c.description ? " · " + c.description : "");
        return L.circleMarker([c.lat, c.lon], {
          radius: 6, color: colours[c.state] || "#888888", fillOpacity: 0.8,
        }).bindPopup(text);
      })).addTo(map);
      if (cases.length) map.fitBounds(layer.getBounds().pad(0.2));
      else map.setView([30.5, 120.0], 12);
      el.dataset.ready = String(cases.length);
    });
})();
