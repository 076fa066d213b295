// The recipient's page's map: the streets from Doorstep's own tiles (/map/streets.pmtiles, read with
// the pmtiles protocol), the recipient's stop, and the van with the leg to the stop once the server
// shows it (only near: bot/usecases/tracking.py). Follows the page's data (live.js's doorstep:feed).
(() => {
  "use strict";
  const element = document.getElementById("map");
  if (!element || !window.maplibregl || !window.pmtiles) return;
  const origin = window.location.origin;
  maplibregl.setWorkerUrl(origin + "/track-assets/maplibre-gl-worker.js");
  const protocol = new pmtiles.Protocol();
  maplibregl.addProtocol("pmtiles", protocol.tile);

  const point = (where, kind) => ({
    type: "Feature",
    properties: { kind },
    geometry: { type: "Point", coordinates: [where.lon, where.lat] },
  });
  const shapes = (feed) => {
    const features = [];
    if (feed.home && feed.van) {
      features.push({
        type: "Feature",
        properties: { kind: "leg" },
        geometry: { type: "LineString", coordinates: [[feed.van.lon, feed.van.lat], [feed.home.lon, feed.home.lat]] },
      });
    }
    if (feed.home) features.push(point(feed.home, "home"));
    if (feed.van) features.push(point(feed.van, "van"));
    return { type: "FeatureCollection", features };
  };

  const road = (id, classes, color, widths, minzoom) => ({
    id,
    type: "line",
    source: "streets",
    "source-layer": "road",
    minzoom: minzoom || 0,
    filter: ["in", ["get", "class"], ["literal", classes]],
    layout: { "line-cap": "round", "line-join": "round" },
    paint: { "line-color": color, "line-width": ["interpolate", ["linear"], ["zoom"], 12, widths[0], 18, widths[1]] },
  });
  const first = JSON.parse(element.dataset.first);
  const layers = [
    { id: "land", type: "background", paint: { "background-color": "#f2efe9" } },
    { id: "green", type: "fill", source: "streets", "source-layer": "green", paint: { "fill-color": "#d6e9c6" } },
    { id: "water", type: "fill", source: "streets", "source-layer": "water", paint: { "fill-color": "#aad3df" } },
    { id: "coast", type: "line", source: "streets", "source-layer": "coastline", paint: { "line-color": "#7fb6c9", "line-width": 2 } },
    { id: "building", type: "fill", source: "streets", "source-layer": "building", paint: { "fill-color": "#ddd6cc", "fill-outline-color": "#c9bfb2" } },
    { id: "rail", type: "line", source: "streets", "source-layer": "rail", paint: { "line-color": "#a9a9a9", "line-width": 1.5 } },
    road("path", ["path"], "#c9c2b8", [0.5, 2], 14),
    road("minor", ["minor", "service"], "#ffffff", [1.5, 12]),
    road("medium", ["medium"], "#fbe8a6", [2, 14]),
    road("major", ["major"], "#f6c27a", [2.5, 16]),
  ];
  if (element.dataset.glyphs) {
    layers.push({
      id: "names",
      type: "symbol",
      source: "streets",
      "source-layer": "road",
      minzoom: 14,
      layout: { "symbol-placement": "line", "text-field": ["get", "name"], "text-font": [element.dataset.font], "text-size": 12 },
      paint: { "text-color": "#4a4a4a", "text-halo-color": "#ffffff", "text-halo-width": 1.5 },
    });
  }
  layers.push(
    { id: "leg", type: "line", source: "here", filter: ["==", ["get", "kind"], "leg"], paint: { "line-color": "#0b57d0", "line-width": 4, "line-dasharray": [2, 1.5] } },
    { id: "home", type: "circle", source: "here", filter: ["==", ["get", "kind"], "home"], paint: { "circle-radius": 9, "circle-color": "#116329", "circle-stroke-color": "#ffffff", "circle-stroke-width": 3 } },
    { id: "van", type: "circle", source: "here", filter: ["==", ["get", "kind"], "van"], paint: { "circle-radius": 9, "circle-color": "#0b57d0", "circle-stroke-color": "#ffffff", "circle-stroke-width": 3 } },
  );
  const style = {
    version: 8,
    sources: {
      streets: { type: "vector", url: "pmtiles://" + origin + element.dataset.tiles, attribution: "© OpenStreetMap contributors" },
      here: { type: "geojson", data: shapes(first) },
    },
    layers,
  };
  if (element.dataset.glyphs) style.glyphs = origin + element.dataset.glyphs;

  const frame = (feed, map) => {
    if (!feed.home) return;
    if (!feed.van) {
      map.jumpTo({ center: [feed.home.lon, feed.home.lat], zoom: 15 });
      return;
    }
    const bounds = new maplibregl.LngLatBounds([feed.home.lon, feed.home.lat], [feed.home.lon, feed.home.lat]);
    bounds.extend([feed.van.lon, feed.van.lat]);
    map.fitBounds(bounds, { padding: 48, maxZoom: 16, duration: 0 });
  };
  const map = new maplibregl.Map({ container: element, style, attributionControl: { compact: true } });
  frame(first, map);
  map.on("load", () => element.setAttribute("data-ready", ""));
  document.addEventListener("doorstep:feed", (event) => {
    const source = map.getSource("here");
    if (source) source.setData(shapes(event.detail));
    frame(event.detail, map);
    element.dataset.van = event.detail.van ? "shown" : "";
  });
})();
