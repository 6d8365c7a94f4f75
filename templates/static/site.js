// Small, dependency-free behaviour that works from file:// (nothing is fetched).
(function () {
  "use strict";

  function typing(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  // ---- the large view: click a picture to see it large, pixels sharp; Escape, a click or × closes it.
  var lastFocus = null, current = null;

  function lightbox() {
    var box = document.querySelector(".lightbox");
    if (box) return box;
    box = document.createElement("div");
    box.className = "lightbox";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Large view");
    box.innerHTML = '<button class="close" type="button" aria-label="Close large view (Escape)">×</button>' +
      '<img alt=""><p class="caption"></p>';
    document.body.appendChild(box);
    box.querySelector("img").addEventListener("load", fit);
    return box;
  }

  function zoomable() {
    return Array.prototype.filter.call(document.querySelectorAll("img[data-zoom]"), function (img) {
      return !img.closest("a") && !img.closest(".lightbox");
    });
  }

  // As large as the window allows; a whole multiple of the picture's pixels when it is upscaled.
  function fit() {
    var box = document.querySelector(".lightbox");
    if (!box || box.hidden) return;
    var big = box.querySelector("img");
    var w = big.naturalWidth, h = big.naturalHeight;
    if (!w || !h) return;
    var room = Math.min((window.innerWidth * 0.94) / w, (window.innerHeight * 0.82) / h);
    var scale = room >= 1 ? Math.floor(room) : room;
    big.style.width = Math.round(w * scale) + "px";
    big.style.height = Math.round(h * scale) + "px";
  }

  function show(img) {
    var box = lightbox();
    var big = box.querySelector("img");
    current = img;
    big.style.width = big.style.height = "";
    big.style.imageRendering = getComputedStyle(img).imageRendering === "pixelated" ? "pixelated" : "auto";
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    var all = zoomable(), at = all.indexOf(img);
    box.querySelector(".caption").textContent = img.alt + (all.length > 1 ? "  (" + (at + 1) + " of " + all.length + "; ← → for the others)" : "");
    if (big.complete) fit();
  }

  function openBox(img) {
    var box = lightbox();
    lastFocus = document.activeElement;
    box.hidden = false;
    document.documentElement.classList.add("boxed");
    show(img);
    box.querySelector(".close").focus();
  }

  function closeBox() {
    var box = document.querySelector(".lightbox");
    if (!box || box.hidden) return;
    box.hidden = true;
    document.documentElement.classList.remove("boxed");
    if (lastFocus && lastFocus.focus) lastFocus.focus();
  }

  function step(delta) {
    var all = zoomable(), at = all.indexOf(current);
    if (at < 0 || !all.length) return;
    show(all[(at + delta + all.length) % all.length]);
  }

  document.addEventListener("click", function (e) {
    if (!e.target.closest) return;
    var img = e.target.closest("img[data-zoom]");
    if (img && !img.closest("a") && !img.closest(".lightbox")) { e.preventDefault(); openBox(img); return; }
    if (e.target.closest(".lightbox")) closeBox();
  });

  document.addEventListener("keydown", function (e) {
    var box = document.querySelector(".lightbox");
    if (box && !box.hidden) {
      if (e.key === "Escape") { e.preventDefault(); closeBox(); }
      else if (e.key === "ArrowLeft" || e.key === "ArrowRight") { e.preventDefault(); step(e.key === "ArrowLeft" ? -1 : 1); }
      else if (e.key === "Tab") { e.preventDefault(); box.querySelector(".close").focus(); }
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || typing(e.target)) return;
    var img = e.target.closest && e.target.closest("img[data-zoom]");
    if (img && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openBox(img); return; }
    // ← and → follow the page's previous/next links.
    var rel = e.key === "ArrowLeft" ? "prev" : e.key === "ArrowRight" ? "next" : null;
    if (!rel) return;
    var link = document.querySelector('link[rel="' + rel + '"]');
    if (link) { e.preventDefault(); window.location.href = link.href; }
  });

  window.addEventListener("resize", fit);

  zoomable().forEach(function (img) {
    img.tabIndex = 0;
    img.setAttribute("role", "button");
    img.setAttribute("aria-haspopup", "dialog");
    if (!img.title) img.title = "Click to enlarge";
  });

  // ---- filters. A query is words that must all match: a number is a map number ("17", "#017"),
  // "live", "rare", "silent", "dead" and "failed" are statuses ("fires": live or rare), "ratio<1" / "<1" and "ratio>=1" / ">=1"
  // compare the ratio, and any other word is the start of a layer name or of a word of the item.
  var RATIO_LOW = ["ratio<1", "<1"], RATIO_HIGH = ["ratio>=1", ">=1", "ratio≥1", "≥1", "super"];

  function words(text) {
    return (text || "").toLowerCase().split(/[\s,/:]+/).filter(Boolean);
  }

  // item: {map: number|null, status: "live", low: ratio < 1, tokens: [lowercase words]}
  function matchWord(w, item) {
    var bare = w.replace(/^#/, "");
    if (/^\d+$/.test(bare)) return item.map !== null && parseInt(bare, 10) === item.map;
    if (w === "fires") return item.tokens.indexOf("live") >= 0 || item.tokens.indexOf("rare") >= 0;
    if (RATIO_LOW.indexOf(w) >= 0) return item.low;
    if (RATIO_HIGH.indexOf(w) >= 0) return item.high;
    return item.tokens.some(function (t) { return t.indexOf(w) === 0; });
  }

  function matches(query, status, item) {
    return words(query).every(function (w) { return matchWord(w, item); }) && (!status || matchWord(status, item));
  }

  // Layer pages: items carry data-search text ("conv2d_1 map 5 #005 live ratio<1") and data-status.
  document.querySelectorAll("[data-filter-for]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-filter-for"));
    if (!target) return;
    var input = box.querySelector("input[type=search]");
    var status = box.querySelector("select");
    var count = box.querySelector(".count");
    var items = Array.prototype.map.call(target.querySelectorAll("[data-search]"), function (el) {
      var tokens = words(el.getAttribute("data-search")).concat(words(el.getAttribute("data-status")));
      var num = null;
      tokens.forEach(function (t) { if (/^#\d+$/.test(t)) num = parseInt(t.slice(1), 10); });
      var low = tokens.indexOf("ratio<1") >= 0;
      return {el: el, map: num, status: tokens.indexOf("dead") >= 0 ? "dead" : "", low: low,
              high: !low && tokens.indexOf("dead") < 0, tokens: tokens};
    });
    function apply() {
      var shown = 0;
      items.forEach(function (item) {
        var ok = matches(input ? input.value : "", status ? status.value : "", item);
        item.el.hidden = !ok;
        if (ok) shown++;
      });
      if (count) count.textContent = shown + " of " + items.length + " shown";
    }
    if (input) input.addEventListener("input", apply);
    if (status) status.addEventListener("change", apply);
    apply();
  });

  // The index: one filter over every map of every layer, from window.GALLERY_INDEX
  // (static/search-index.js, loaded with a script tag so it works from file://).
  var LIMIT = 120;
  document.querySelectorAll("[data-gallery-filter]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-gallery-filter"));
    var index = window.GALLERY_INDEX || [];
    if (!target) return;
    var input = box.querySelector("input[type=search]");
    var layer = box.querySelector("select[name=layer]");
    var status = box.querySelector("select[name=status]");
    var count = box.querySelector(".count");
    var layers = [];
    var items = index.map(function (e) {
      if (layers.indexOf(e.l) < 0) layers.push(e.l);
      var pad = ("00" + e.m).slice(-3);
      var kind = e.k || "map";  // a dense node has no ratio: the ratio filters leave it out
      var low = kind === "map" && e.r !== null && e.r < 1;
      return {e: e, map: e.m, status: e.s, low: low, high: kind === "map" && !low && e.s !== "dead",
              tokens: [e.l.toLowerCase(), kind, "#" + pad, e.s]};
    });
    function card(e) {
      var a = document.createElement("a");
      a.className = "mapcard " + e.s;
      a.href = e.u;
      var img = document.createElement("img");
      img.src = e.t;
      img.width = e.w;
      img.height = e.h;
      img.loading = "lazy";
      img.decoding = "async";
      img.alt = e.l + " " + (e.k || "map") + " " + e.m + ": input pattern, " + e.s;
      a.appendChild(img);
      var lay = document.createElement("span");
      lay.className = "lay";
      lay.textContent = e.l;
      a.appendChild(lay);
      var num = document.createElement("span");
      num.className = "num";
      num.textContent = "#" + e.m;
      a.appendChild(num);
      var ratio = document.createElement("span");
      ratio.className = "ratio";
      ratio.title = "OIP activation / best test image";
      ratio.textContent = e.rt;
      a.appendChild(ratio);
      if (e.s !== "ok") {
        var badge = document.createElement("span");
        badge.className = "badge " + e.s;
        badge.textContent = e.s;
        a.appendChild(badge);
      }
      return a;
    }
    function apply() {
      var q = input ? input.value : "", want = status ? status.value : "", only = layer ? layer.value : "";
      var active = words(q).length > 0 || want || only;
      target.textContent = "";
      if (!active) {
        target.hidden = true;
        if (count) count.textContent = index.length + " maps and nodes in " + layers.length + " layers: type a number, a layer or a status, or pick one";
        return;
      }
      var found = items.filter(function (item) {
        return (!only || item.e.l === only) && matches(q, want, item);
      });
      var frag = document.createDocumentFragment();
      found.slice(0, LIMIT).forEach(function (item) { frag.appendChild(card(item.e)); });
      target.appendChild(frag);
      target.hidden = found.length === 0;
      if (count) {
        count.textContent = found.length === 0 ? "no map matches" :
          found.length > LIMIT ? "showing " + LIMIT + " of " + found.length + " matching maps; narrow the filter" :
          found.length + " of " + index.length + " maps match";
      }
    }
    if (input) input.addEventListener("input", apply);
    if (layer) layer.addEventListener("change", apply);
    if (status) status.addEventListener("change", apply);
    apply();
  });
})();

// Activation grids. Every map carries its number (shown where nothing hovers: touch screens) and, when
// the build has the layer's map pages (data-map-page: map 0's), links to its page; hovering still
// shows the number (and the position in the map) or the node under the pointer.
(function () {
  var tip = document.createElement("div");
  tip.className = "grid-tip"; tip.hidden = true; document.body.appendChild(tip);

  // map 0's page → map k's: the digits before ".html", as wide as they are there
  function mapPage(first, k) {
    return first.replace(/(\d+)(\.html)$/, function (all, digits, ext) {
      var n = String(k);
      while (n.length < digits.length) n = "0" + n;
      return n + ext;
    });
  }

  function pct(part, whole) { return (100 * part / whole) + "%"; }

  // One absolutely placed cell per map, in percent of the picture, so it follows any displayed size.
  function cells(box, G, first) {
    var layer = document.createElement("span");
    layer.className = "grid-cells";
    for (var k = 0; k < G.n; k++) {
      var c = k % G.cols, row = Math.floor(k / G.cols);
      var cell = document.createElement(first ? "a" : "span");
      if (first) {
        cell.href = mapPage(first, k);
        cell.tabIndex = -1;  // the picture itself stays the one tab stop (Enter: the large view)
        cell.setAttribute("aria-label", G.unit + " " + k);
      }
      cell.style.left = pct(c * (G.w + G.sep), G.W);
      cell.style.top = pct(row * (G.h + G.sep), G.H);
      cell.style.width = pct(G.w, G.W);
      cell.style.height = pct(G.h, G.H);
      var label = document.createElement("b");
      label.textContent = k;
      cell.appendChild(label);
      layer.appendChild(cell);
    }
    box.appendChild(layer);
  }

  document.querySelectorAll("[data-grid]").forEach(function (box) {
    var g = box.getAttribute("data-grid").split(" "), img = box.querySelector("img");
    var G = {W: +g[0], H: +g[1], cols: +g[2], h: +g[3], w: +g[4], sep: +g[5], n: +g[6], unit: g[7], s: +g[8]};
    var first = box.getAttribute("data-map-page");
    if (G.unit === "map") cells(box, G, first);
    box.addEventListener("mousemove", function (e) {
      var r = img.getBoundingClientRect();
      var x = Math.floor((e.clientX - r.left) / r.width * G.W), y = Math.floor((e.clientY - r.top) / r.height * G.H);
      var c = Math.floor(x / (G.w + G.sep)), row = Math.floor(y / (G.h + G.sep));
      var i = x - c * (G.w + G.sep), j = y - row * (G.h + G.sep), k = row * G.cols + c;
      if (c >= G.cols || i >= G.w || j >= G.h || k >= G.n) { tip.hidden = true; return; }
      tip.textContent = G.unit + " " + k + (G.h > G.s ? " · row " + Math.floor(j / G.s) + ", column " + Math.floor(i / G.s) : "") +
        (first ? " · click for its page" : "");
      tip.style.left = e.pageX + 14 + "px"; tip.style.top = e.pageY + 14 + "px"; tip.hidden = false;
    });
    box.addEventListener("mouseleave", function () { tip.hidden = true; });
  });
  // Pixel pictures (grids, a map's evolution strip) too wide for their column: the largest whole-number
  // scale of their own pixels that fits, so the pixels stay even; narrower than their own pixels (a phone),
  // shown smaller and filtered smoothly (.shrunk), so the thin separators stay visible. The picture's own
  // width is known before it loads: a grid's data-grid, or the drawn width over the wrap's data-scale.
  function room(el) {  // the content width of the nearest box whose width does not follow its content
    for (; el && el !== document.body; el = el.parentElement) {
      var cs = getComputedStyle(el), outer = el.parentElement ? getComputedStyle(el.parentElement).display : "block";
      if (/^(block|flex|grid|list-item)$/.test(cs.display) && cs.cssFloat === "none" && /^(block|grid|list-item)$/.test(outer))
        return el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    }
    return document.documentElement.clientWidth;
  }
  function fitPixels() {
    document.querySelectorAll(".grid-wrap img, figure.grid .hover-grid img").forEach(function (img) {
      if (img.closest(".side")) return;  // shown smaller than drawn, smoothly, by the stylesheet
      var grid = img.closest("[data-grid]"), wrap = img.closest("[data-scale]"), drawn = +img.getAttribute("width");
      var own = grid ? +grid.getAttribute("data-grid").split(" ")[0] : wrap ? drawn / +wrap.getAttribute("data-scale") : drawn;
      img.style.width = "";
      var space = room(img.parentElement), k = Math.floor(space / own);
      if (drawn > space && k >= 1) img.style.width = k * own + "px";
      (grid || img.parentElement).classList.toggle("shrunk", drawn > space && k < 1);
    });
  }
  fitPixels();
  window.addEventListener("resize", fitPixels);

  // ---- sortable tables (table.sortable): click a heading to sort by that column, again to reverse.
  // Numbers are read from the cell's data-value or its text ("−0.15 points" → -0.15).
  function cellValue(td) {
    var t = (td.getAttribute("data-value") || td.textContent).replace("\u2212", "-");
    var v = parseFloat(t.replace(/[^0-9.+\-eE]/g, ""));
    return isNaN(v) ? t : v;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.style.cursor = "pointer"; th.tabIndex = 0; th.setAttribute("aria-sort", "none");
      function sort() {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var up = th.getAttribute("aria-sort") !== "ascending";
        rows.sort(function (a, b) {
          var x = cellValue(a.cells[col]), y = cellValue(b.cells[col]);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        table.querySelectorAll("thead th").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  });
})();

// ---- tables wider than their column (a phone, many classes): each row becomes a block of "heading value"
// pairs (table.stacked), every cell labelled with its column's heading. Sortable tables and matrices keep
// their columns and scroll in their box instead.
(function () {
  var tables = Array.prototype.filter.call(document.querySelectorAll(".table-wrap > table, table.dream-strip"),
    function (t) { return !t.classList.contains("matrix") && !t.classList.contains("sortable") && t.tHead; });
  tables.forEach(function (t) {
    var heads = Array.prototype.map.call(t.tHead.rows[0].cells, function (th) { return th; });
    Array.prototype.forEach.call(t.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        Array.prototype.forEach.call(row.cells, function (cell, i) {
          var th = heads[i];
          if (i === 0 || !th || !th.textContent.trim() && !th.querySelector(".swatch")) return;
          var label = document.createElement("span");
          label.className = "cell-label";
          Array.prototype.forEach.call(th.childNodes, function (n) {
            label.appendChild(n.nodeName === "BR" ? document.createTextNode(" ") : n.cloneNode(true));
          });
          cell.insertBefore(label, cell.firstChild);
        });
      });
    });
  });
  function room(box) {
    var cs = getComputedStyle(box);
    return box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  }
  function fit() {
    tables.forEach(function (t) { t.classList.remove("stacked"); });
    var wide = tables.filter(function (t) { return t.scrollWidth > room(t.parentElement) + 1; });
    wide.forEach(function (t) { t.classList.add("stacked"); });
  }
  fit();
  window.addEventListener("resize", fit);
})();
