/* The trail page's own script (emdesk/ui/maps/trail_page.py inlines it): one wearer's
   trail drawn from a JSON blob on canvas, live fixes appended, and replay.

   window.emdesk.trail:
     init(map, data)        draw everything (called once by the page)
     addFixes([[t, lat, lon, accuracy_m, doubtful], ...])   append live fixes, no reload
     replay.start(speed) / replay.pause() / replay.seek(t_ms)
     follow(bool)           keep the marker in view as it moves
     state()                {fixes, kept, marker: [lat, lon], t, playing, speed, follow, drawn, ...}
   When drawn, the page title becomes "emdesk:trail:drawn#<n>" (the Qt side listens). */
(function () {
  'use strict';
  window.emdesk = window.emdesk || {markers: {}, lines: [], map: null, clicks: 0};
  var T = {drawn: false, drawnMs: null, following: false, layers: {}};
  emdesk.trail = T;

  var clockFormat = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short',
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short'});
  function when(t) { return clockFormat.format(new Date(t)); }
  T.when = when;
  T.dwell = dwell;
  function dwell(ms) {
    var m = Math.round(ms / 60000);
    if (m < 60) { return m + ' min'; }
    var h = Math.floor(m / 60), r = m % 60;
    if (h >= 48) { return Math.floor(h / 24) + ' d ' + (h % 24) + ' h'; }
    return h + ' h ' + (r < 10 ? '0' : '') + r;
  }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  // Every fix (replay walks them all); what is drawn is the kept subset.
  var t = [], lat = [], lon = [];
  var map, renderer, line, dots, rings, marker, stopsLayer;
  var kept = 0, doubtfulCount = 0, stretchLines = [], stopsCount = 0;

  function dotFor(i, acc, doubtful) {
    var dot = L.circleMarker([lat[i], lon[i]], {
      renderer: renderer, radius: doubtful ? 4 : 3, weight: 1, color: doubtful ? '#b54708' : '#1d5fa8',
      fillColor: doubtful ? '#fdb022' : '#ffffff', fillOpacity: 1, className: 'emdesk-fix'});
    dot.fix = {t: t[i], acc: acc, doubtful: doubtful};
    dots.addLayer(dot);
    kept += 1;
    if (doubtful) {
      rings.addLayer(L.circle([lat[i], lon[i]], {
        renderer: renderer, radius: acc, weight: 1, dashArray: '4 3', color: '#b54708',
        fillColor: '#fdb022', fillOpacity: 0.12, interactive: false}));
      doubtfulCount += 1;
    }
  }

  function tip(e) {
    // Tooltips are made on first hover: thousands bound up front would slow the draw.
    var dot = e.layer, f = dot.fix;
    if (!dot.getTooltip()) {
      var text = when(f.t) + (f.doubtful ? '<br>doubtful fix: accurate to ' + Math.round(f.acc) + ' m' : '');
      dot.bindTooltip(text, {direction: 'top', offset: [0, -4]});
    }
    dot.openTooltip();
  }

  function index(tms) {
    // The last fix at or before tms (binary search); -1 before the first.
    var lo = 0, hi = t.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (t[mid] <= tms) { lo = mid + 1; } else { hi = mid; } }
    return lo - 1;
  }

  function place(tms) {
    // The marker between the fixes either side, in proportion to time.
    if (!t.length) { return null; }
    var i = index(tms);
    if (i < 0) { return [lat[0], lon[0]]; }
    if (i >= t.length - 1) { return [lat[t.length - 1], lon[t.length - 1]]; }
    var f = (tms - t[i]) / Math.max(1, t[i + 1] - t[i]);
    return [lat[i] + (lat[i + 1] - lat[i]) * f, lon[i] + (lon[i + 1] - lon[i]) * f];
  }

  var replay = {t: null, speed: 1, playing: false, timer: null, last: 0};
  T.replay = replay;
  function moveTo(tms) {
    replay.t = tms;
    var p = place(tms);
    if (!p) { return; }
    marker.setLatLng(p);
    marker.setTooltipContent(when(tms));
    if (T.following && !map.getBounds().pad(-0.15).contains(p)) { map.panTo(p, {animate: false}); }
  }
  function tick() {
    var now = performance.now(), dt = now - replay.last;
    replay.last = now;
    var end = t.length ? t[t.length - 1] : replay.t;
    var next = Math.min(end, replay.t + dt * replay.speed);
    moveTo(next);
    if (next >= end) { replay.pause(); }
  }
  replay.start = function (speed) {
    if (speed) { replay.speed = speed; }
    if (!t.length) { return false; }
    if (replay.t === null || replay.t >= t[t.length - 1]) { moveTo(t[0]); }
    replay.pause();
    replay.playing = true;
    replay.last = performance.now();
    replay.timer = setInterval(tick, 50);
    return true;
  };
  replay.pause = function () {
    if (replay.timer !== null) { clearInterval(replay.timer); }
    replay.timer = null;
    replay.playing = false;
    return replay.t;
  };
  replay.seek = function (tms) { moveTo(tms); return replay.t; };
  replay.setSpeed = function (speed) { replay.speed = speed; return speed; };

  T.follow = function (on) {
    T.following = !!on;
    if (T.following && marker) { map.panTo(marker.getLatLng(), {animate: false}); }
    return T.following;
  };

  T.addFixes = function (rows) {
    // Live fixes, oldest first; ones not newer than the last held are ignored (resent).
    var added = 0;
    rows.forEach(function (r) {
      if (t.length && r[0] <= t[t.length - 1]) { return; }
      t.push(r[0]); lat.push(r[1]); lon.push(r[2]);
      line.addLatLng([r[1], r[2]]);
      dotFor(t.length - 1, r[3], !!r[4]);
      added += 1;
    });
    // Live, the marker is where the wearer is now; a replay under way keeps its place.
    if (added && !replay.playing) { moveTo(t[t.length - 1]); }
    return added;
  };

  T.state = function () {
    var p = marker ? marker.getLatLng() : null;
    return {fixes: t.length, kept: kept, doubtful: doubtfulCount, stops: stopsCount, places: T.places || 0,
            stretches: stretchLines.length, marker: p ? [p.lat, p.lng] : null, t: replay.t,
            playing: replay.playing, speed: replay.speed, follow: T.following, drawn: T.drawn,
            first: t.length ? t[0] : null, last: t.length ? t[t.length - 1] : null,
            line: line ? line.getLatLngs().length : 0, home: !!T.home, drawnMs: T.drawnMs};
  };

  T.init = function (theMap, data) {
    map = theMap;
    renderer = L.canvas({padding: 0.5});
    var f = data.fixes;
    t = f.t; lat = f.lat; lon = f.lon;
    var acc = f.acc, doubtful = new Set(f.doubtful);
    var path = data.kept.map(function (i) { return [lat[i], lon[i]]; });
    line = L.polyline(path, {renderer: renderer, color: data.colours.trail, weight: 3, opacity: 0.85,
                             className: 'emdesk-trail', interactive: false}).addTo(map);
    emdesk.lines.push(line);
    (data.stretches || []).forEach(function (s) {
      var from = Math.max(0, index(s.start)), to = s.end === null ? t.length - 1 : index(s.end);
      var pts = [];
      for (var i = from; i <= to; i++) { pts.push([lat[i], lon[i]]); }
      if (pts.length < 2 && pts.length) { pts.push(pts[0]); }
      var strong = !!s.highlight;
      var pl = L.polyline(pts, {renderer: renderer, color: data.colours.stretch, weight: strong ? 7 : 5,
                                opacity: strong ? 0.9 : 0.5, className: 'emdesk-stretch'}).addTo(map);
      pl.bindTooltip(esc(s.label) + '<br>' + when(s.start) + ' to ' + (s.end === null ? 'now' : when(s.end)),
                     {sticky: true});
      stretchLines.push(pl);
    });
    rings = L.layerGroup().addTo(map);
    dots = L.featureGroup().addTo(map);
    dots.on('mouseover', tip);
    data.kept.forEach(function (i) { dotFor(i, acc[i], doubtful.has(i)); });
    stopsLayer = L.layerGroup().addTo(map);
    // Stops at one place (home every night) share a label: how many, and the time there.
    var places = [];
    stopsCount = (data.stops || []).length;
    (data.stops || []).forEach(function (s) {
      var here = L.latLng(s.lat, s.lon);
      var place = places.find(function (p) { return p.at.distanceTo(here) <= data.stopRadius; });
      if (!place) { place = {at: here, stops: []}; places.push(place); }
      place.stops.push(s);
    });
    T.places = places.length;
    places.forEach(function (p) {
      var total = p.stops.reduce(function (sum, s) { return sum + (s.end - s.start); }, 0);
      var text = p.stops.length === 1 ? dwell(total) : p.stops.length + ' stops, ' + dwell(total);
      var lines = p.stops.slice(0, 8).map(function (s) {
        return 'Stopped ' + when(s.start) + ' to ' + when(s.end) + ' (' + dwell(s.end - s.start) + ')';
      });
      if (p.stops.length > 8) { lines.push('and ' + (p.stops.length - 8) + ' more'); }
      var icon = L.divIcon({className: 'emdesk-stop-label', html: '<div>' + text + '</div>',
                            iconSize: null, iconAnchor: [-16, 10]});
      L.marker(p.at, {icon: icon, keyboard: false}).bindTooltip(lines.join('<br>')).addTo(stopsLayer);
      L.circleMarker(p.at, {renderer: renderer, radius: 7, weight: 2, color: '#1f2d3d',
                            fillColor: '#1f2d3d', fillOpacity: 0.35, interactive: false}).addTo(stopsLayer);
    });
    T.layers = {line: line, dots: dots, rings: rings, stops: stopsLayer, stretches: stretchLines};
    if (data.home) {
      T.home = L.marker(data.home, {icon: L.divIcon({className: 'emdesk-stop', iconSize: [26, 26], iconAnchor: [13, 13],
                                                    html: '<div class="emdesk-pin base">H</div>'})})
        .bindTooltip('Curfew address').addTo(map);
      emdesk.markers.home = T.home;
    }
    var start = t.length ? [lat[t.length - 1], lon[t.length - 1]] : (data.home || map.getCenter());
    // Its own pane, above the pins: the wearer at home is drawn over the home pin.
    map.createPane('emdeskReplay').style.zIndex = 650;
    marker = L.circleMarker(start, {radius: 8, weight: 3, color: '#ffffff', fillColor: '#b42318', fillOpacity: 1,
                                   className: 'emdesk-replay', pane: 'emdeskReplay'}).bindTooltip('', {direction: 'right'}).addTo(map);
    if (t.length) { moveTo(t[t.length - 1]); }
    T.drawn = true;
    T.drawnMs = performance.now();
    document.title = 'emdesk:trail:drawn#' + Math.round(T.drawnMs);
  };
})();
