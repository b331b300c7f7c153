// Navbar search suggestions (filled by htmx from /search/suggest): Escape or a click elsewhere closes them,
// the down arrow moves from the box into the list.
(function () {
  function box() { return document.getElementById("search-suggest"); }
  function close() { var el = box(); if (el) { el.innerHTML = ""; } }
  document.addEventListener("keydown", function (event) {
    var el = box();
    if (!el || !el.closest(".search-box") || !el.closest(".search-box").contains(event.target)) { return; }
    if (event.key === "Escape") { close(); return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var links = Array.prototype.slice.call(el.querySelectorAll("a"));
      if (!links.length) { return; }
      var index = links.indexOf(document.activeElement);
      index = event.key === "ArrowDown" ? Math.min(index + 1, links.length - 1) : index - 1;
      if (index < 0) { el.closest(".search-box").querySelector("input").focus(); } else { links[index].focus(); }
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var el = box();
    if (el && !event.target.closest(".search-box")) { close(); }
  });
})();
