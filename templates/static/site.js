// Small, dependency-free behaviour that works from file:// (nothing is fetched).
(function () {
  "use strict";
  // ← and → follow the page's previous/next links, unless the user is typing.
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    var box = document.querySelector(".lightbox");
    if (box && !box.hidden) { if (e.key === "Escape") closeBox(); return; }
    var rel = e.key === "ArrowLeft" ? "prev" : e.key === "ArrowRight" ? "next" : null;
    if (!rel) return;
    var link = document.querySelector('link[rel="' + rel + '"]');
    if (link) { e.preventDefault(); window.location.href = link.href; }
  });

  // Click a picture to see it large, pixels sharp; Escape, a click or × closes it.
  var lastFocus = null;
  function lightbox() {
    var box = document.querySelector(".lightbox");
    if (box) return box;
    box = document.createElement("div");
    box.className = "lightbox";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Large view");
    box.innerHTML = '<button class="close" type="button" aria-label="Close large view">×</button>' +
      '<img alt=""><p class="caption"></p>';
    document.body.appendChild(box);
    return box;
  }
  function openBox(img) {
    var box = lightbox();
    var big = box.querySelector("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    box.querySelector(".caption").textContent = img.alt;
    lastFocus = document.activeElement;
    box.hidden = false;
    box.querySelector(".close").focus();
  }
  function closeBox() {
    var box = document.querySelector(".lightbox");
    if (!box || box.hidden) return;
    box.hidden = true;
    if (lastFocus) lastFocus.focus();
  }
  document.addEventListener("click", function (e) {
    var img = e.target.closest && e.target.closest("img[data-zoom]");
    if (img && !img.closest("a")) { e.preventDefault(); openBox(img); return; }
    if (e.target.closest && e.target.closest(".lightbox")) closeBox();
  });
  document.addEventListener("keydown", function (e) {
    var img = e.target.closest && e.target.closest("img[data-zoom]");
    if (img && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openBox(img); }
  });
  document.querySelectorAll("img[data-zoom]").forEach(function (img) {
    if (!img.closest("a")) { img.tabIndex = 0; img.setAttribute("role", "button"); }
  });

  // Filter boxes: items carry data-search text and data-status; the box hides what does not match.
  document.querySelectorAll("[data-filter-for]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-filter-for"));
    var input = box.querySelector("input[type=search]");
    var status = box.querySelector("select");
    var count = box.querySelector(".count");
    function apply() {
      var words = (input ? input.value : "").toLowerCase().split(/\s+/).filter(Boolean);
      var want = status ? status.value : "";
      var shown = 0, items = target.querySelectorAll("[data-search]");
      items.forEach(function (item) {
        var text = item.getAttribute("data-search");
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; }) &&
          (!want || (" " + item.getAttribute("data-status") + " ").indexOf(" " + want + " ") >= 0);
        item.hidden = !ok;
        if (ok) shown++;
      });
      if (count) count.textContent = shown + " of " + items.length + " shown";
    }
    if (input) input.addEventListener("input", apply);
    if (status) status.addEventListener("change", apply);
    apply();
  });
})();
