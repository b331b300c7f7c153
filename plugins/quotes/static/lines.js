/* Lines editor of the quote form: add and remove rows, prefill a line from the chosen product.
   Without JavaScript the form still works: it offers a few blank rows and ignores the ones left blank. */
(function () {
  "use strict";
  var table = document.getElementById("quote-lines");
  var template = document.getElementById("quote-line-template");
  var addButton = document.getElementById("quote-line-add");
  if (!table || !template || !addButton) { return; }
  var body = table.tBodies[0];
  var productUrl = table.getAttribute("data-product-url");

  function nextIndex() {
    var highest = -1;
    body.querySelectorAll("tr.quote-line").forEach(function (row) {
      var index = parseInt(row.getAttribute("data-index"), 10);
      if (!isNaN(index) && index > highest) { highest = index; }
    });
    return highest + 1;
  }

  function showRemoveButtons(scope) {
    scope.querySelectorAll(".quote-line-remove").forEach(function (button) { button.classList.remove("d-none"); });
  }

  function addRow() {
    var html = template.innerHTML.replace(/__index__/g, String(nextIndex()));
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    var row = holder.querySelector("tr");
    body.appendChild(row);
    showRemoveButtons(row);
    if (window.htmx) { window.htmx.process(row); }
    var first = row.querySelector("select, input");
    if (first) { first.focus(); }
  }

  function fill(row, name, value, always) {
    var input = row.querySelector("[name$='-" + name + "']");
    if (input && value !== undefined && value !== null && (always || !input.value.trim())) { input.value = value; }
  }

  function prefill(select) {
    var row = select.closest("tr.quote-line");
    if (!row || !select.value || !productUrl) { return; }
    fetch(productUrl + encodeURIComponent(select.value), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (product) {
        if (!product) { return; }
        fill(row, "description", product.name, false);
        fill(row, "unit", product.unit, false);
        var currency = document.getElementById("f-currency");
        if (!currency || !currency.value || currency.value === product.currency) {
          fill(row, "unit_price", product.price, false);
        }
      });
  }

  addButton.classList.remove("d-none");
  showRemoveButtons(body);
  addButton.addEventListener("click", addRow);
  body.addEventListener("click", function (event) {
    var button = event.target.closest(".quote-line-remove");
    if (!button) { return; }
    var row = button.closest("tr.quote-line");
    if (row) { row.remove(); }
    if (!body.querySelector("tr.quote-line")) { addRow(); }
  });
  body.addEventListener("change", function (event) {
    var target = event.target;
    if (target.tagName === "SELECT" && /-product_id$/.test(target.name)) { prefill(target); }
  });
}());
