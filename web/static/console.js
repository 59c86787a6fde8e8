// Maps of the console, drawn with the bundled Leaflet (no tiles: the machines are offline),
// and the photo viewer of the case page.
"use strict";
// Bar widths are set from here: the Content-Security-Policy allows no inline styles.
document.querySelectorAll("[data-width]").forEach((bar) => {
  bar.style.width = `${Number(bar.dataset.width)}px`;
});
// …nor inline handlers: the print buttons of the case file and the monthly report.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
(function () {
  const colours = { red: "#d63939", yellow: "#f59f00", green: "#2fb344", none: "#667382" };
  const el = document.getElementById("map");
  if (el && typeof L !== "undefined") drawMap(el);

  function drawMap(el) {
    const map = L.map(el, { maxZoom: 19 });
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
    if (!el.dataset.src) {
      const c = { lat: +el.dataset.lat, lon: +el.dataset.lon, light: el.dataset.light };
      marker(c).addTo(map);
      map.setView([c.lat, c.lon], 16);
      el.dataset.ready = "1";
      return;
    }
    fetch(el.dataset.src, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((cases) => {
        const markers = cases.map((c) => {
          const link = document.createElement("a");
          link.href = "/console/cases/" + encodeURIComponent(c.number);
          link.textContent = c.number;
          return marker(c).bindPopup(link);
        });
        // Dense maps cluster their markers; a cluster's colour is its worst light.
        const clustered = el.dataset.cluster && L.markerClusterGroup;
        const layer = clustered
          ? L.markerClusterGroup({ maxClusterRadius: 40, iconCreateFunction: clusterIcon })
          : L.featureGroup();
        markers.forEach((m) => layer.addLayer(m));
        layer.addTo(map);
        const bounds = L.featureGroup(markers).getBounds();
        if (cases.length) map.fitBounds(bounds.pad(0.2));
        else map.setView([30.5, 120.0], 12);
        if (L.heatLayer) switchable(map, layer, cases);
        el.dataset.ready = String(cases.length);
      });
  }

  function clusterIcon(cluster) {
    const lights = cluster.getAllChildMarkers().map((m) => m.options.color);
    const worst = [colours.red, colours.yellow, colours.green].find((c) => lights.includes(c));
    const div = document.createElement("div");
    div.className = "cluster";
    div.style.background = worst || colours.none;
    div.textContent = String(cluster.getChildCount());
    return L.divIcon({ html: div, className: "cluster-icon", iconSize: [34, 34] });
  }

  function switchable(map, markers, cases) {
    const heat = L.heatLayer(cases.map((c) => [c.lat, c.lon, 1]), { radius: 22, blur: 18 });
    document.querySelectorAll("[data-map-view]").forEach((button) => {
      button.addEventListener("click", () => {
        const showHeat = button.dataset.mapView === "heat";
        if (showHeat) { map.removeLayer(markers); heat.addTo(map); }
        else { map.removeLayer(heat); markers.addTo(map); }
        document.querySelectorAll("[data-map-view]").forEach((b) => {
          b.classList.toggle("active", b === button);
          b.setAttribute("aria-pressed", String(b === button));
        });
      });
    });
  }

  // Photos open in a viewer on the page instead of leaving it.
  const viewer = document.getElementById("viewer");
  if (viewer) {
    document.querySelectorAll("a[data-viewer]").forEach((a) => {
      a.addEventListener("click", (event) => {
        event.preventDefault();
        viewer.querySelector("img").src = a.href;
        viewer.showModal();
      });
    });
  }
})();
