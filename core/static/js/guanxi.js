// Guanxi progressive enhancement: confirmation of destructive buttons; htmx sends the CSRF token.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.getAttribute("content"); }
});
// "Select all" check box of list pages: <input data-check-all="ids"> ticks every name="ids" box of its form.
document.addEventListener("change", function (event) {
  var all = event.target.closest("[data-check-all]");
  if (!all || !all.form) { return; }
  var boxes = all.form.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-check-all") + '"]');
  boxes.forEach(function (box) { box.checked = all.checked; });
});
