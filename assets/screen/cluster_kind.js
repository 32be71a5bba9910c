/* The wall screen's clustered layers (map.js): Leaflet.markercluster (assets/vendor/, a classic script
 * that extends window.L before the page's modules run) under one layer per kind. */

/* A kind's layer (patrols, sightings) over the shared cluster group: the layer toggles add and
   remove it like any layer; its markers go in and out of the shared group with it.

   Moves: the plugin files a moved marker again by taking it out of the map and putting it back
   (a DOM round trip per marker per move: tens of milliseconds of layout for hundreds of units).
   While zoomed in, where nothing is clustered, a move only moves the marker, and the plugin's
   index is brought up to date once, when the zoom next changes (map "zoomstart", before the
   plugin looks at it) or before the marker leaves. This leans on two internals of the vendored
   version (1.5.3): the group's _ignoreMove flag and the marker's _latlng while it is refiled. */
export const ClusterKind = L.Layer.extend({
  /* shared: the L.markerClusterGroup; belowZoom: the zoom from which nothing is clustered. */
  initialize: function (shared, belowZoom) {
    this._shared = shared;
    this._belowZoom = belowZoom;
    this._members = new Set();
    this._moved = new Map(); // marker -> the position the plugin has it at
  },
  onAdd: function (leafletMap) {
    leafletMap.on("zoomstart", this.fileMoves, this);
    this._shared.addLayers(Array.from(this._members));
  },
  onRemove: function (leafletMap) {
    leafletMap.off("zoomstart", this.fileMoves, this);
    this._out(Array.from(this._members));
  },
  addLayers: function (markers) {
    var members = this._members;
    markers.forEach(function (marker) { members.add(marker); });
    if (this._map) this._shared.addLayers(markers);
    return this;
  },
  addLayer: function (marker) { return this.addLayers([marker]); },
  removeLayer: function (marker) {
    if (this._members.delete(marker) && this._map) this._out([marker]);
    return this;
  },
  clearLayers: function () {
    if (this._map) this._out(Array.from(this._members));
    this._members.clear();
    return this;
  },
  move: function (marker, latlng) {
    var shared = this._shared;
    if (!this._map || !this._members.has(marker)) {
      marker.setLatLng(latlng);
      return;
    }
    var from = marker.getLatLng();
    shared._ignoreMove = true;
    try { marker.setLatLng(latlng); } finally { shared._ignoreMove = false; }
    if (!this._moved.has(marker)) this._moved.set(marker, from);
  },
  /* Refile the markers moved since the plugin last saw them, at their current position, in one batch:
     at a zoom change, and after every redraw while clusters are shown (map.js flush). */
  fileMoves: function () {
    if (!this._moved.size || !this._map) return;
    var markers = Array.from(this._moved.keys());
    this._out(markers);
    this._shared.addLayers(markers);
  },
  isClustered: function () { return !!this._map && this._map.getZoom() < this._belowZoom; },
  /* Out of the plugin's index, found where the plugin has them filed. */
  _out: function (markers) {
    var moved = this._moved;
    var now = [];
    markers.forEach(function (marker) {
      if (!moved.has(marker)) return;
      now.push([marker, marker._latlng]);
      marker._latlng = moved.get(marker);
      moved.delete(marker);
    });
    this._shared.removeLayers(markers);
    // The plugin's removeLayers (unlike removeLayer) leaves its move handler on the markers.
    markers.forEach(function (marker) { marker.off(this._shared._childMarkerEventHandlers, this._shared); }, this);
    now.forEach(function (pair) { pair[0]._latlng = pair[1]; });
  },
  hasLayer: function (marker) { return this._members.has(marker); },
  eachLayer: function (visit, context) {
    this._members.forEach(function (marker) { visit.call(context, marker); });
    return this;
  },
  refreshClusters: function (markers) {
    if (this._map) this._shared.refreshClusters(markers);
    return this;
  }
});
