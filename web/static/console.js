// Maps of the console, drawn with the bundled Leaflet (no tiles: the machines are offline).
"use strict";
// Bar widths are set from here: the Content-Security-Policy allows no inline styles.
document.querySelectorAll("[data-width]").forEach((bar) => {
  bar.style.width = `${Number(bar.dataset.width)}px`;
});
(function () {
  const colours = { red: "#d62728", yellow: "#f2b01e", green: "#2ca02c", none: "#888888" };
  const el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  const map = L.map(el);
  // The grids are the base map: outlines first, so that the cases sit on top of them.
  fetch("/console/grids.geojson", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((grids) => {
      if (!grids) return;
      L.geoJSON(grids, {
        style: {
          color: "#5a6f8c", weight: 1, fillColor: "#dde6f0", fillOpacity: 0.35,
          className: "grid-outline",
        },
        onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { sticky: true }),
      }).addTo(map).bringToBack();
    });
  function marker(c) {
    return L.circleMarker([c.lat, c.lon], {
      radius: 7, color: colours[c.light] || colours.none, fillOpacity: 0.8,
    });
  }
  if (el.dataset.src) {
    fetch(el.dataset.src, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((cases) => {
        const layer = L.featureGroup(cases.map((c) => {
          const m = marker(c);
          const link = document.createElement("a");
          link.href = "/console/cases/" + encodeURIComponent(c.number);
          link.textContent = c.number;
          return m.bindPopup(link);
        })).addTo(map);
        if (cases.length) map.fitBounds(layer.getBounds().pad(0.2));
        else map.setView([30.5, 120.0], 12);
        el.dataset.ready = String(cases.length);
      });
  } else {
    const c = { lat: +el.dataset.lat, lon: +el.dataset.lon, light: el.dataset.light };
    marker(c).addTo(map);
    map.setView([c.lat, c.lon], 16);
    el.dataset.ready = "1";
  }
})();
