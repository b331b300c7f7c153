// Lines editor of the order form: "Add line" appends a copy of the row template, "×" removes a row.
// Without JavaScript the form still works: it always offers a few blank rows, and blank rows are ignored.
(function () {
  "use strict";
  var table = document.getElementById("order-lines");
  var template = document.getElementById("order-line-template");
  var addButton = document.getElementById("order-line-add");
  if (!table || !template || !addButton) {
    return;
  }
  var body = table.tBodies[0];
  var next = 0;
  Array.prototype.forEach.call(body.rows, function (row) {
    next = Math.max(next, parseInt(row.getAttribute("data-index"), 10) + 1 || 0);
  });

  function wire(row) {
    var remove = row.querySelector(".order-line-remove");
    if (!remove) {
      return;
    }
    remove.classList.remove("d-none");
    remove.addEventListener("click", function () {
      row.parentNode.removeChild(row);
      if (!body.rows.length) {
        add();
      }
    });
  }

  function add() {
    var html = template.innerHTML.split("__index__").join(String(next));
    next += 1;
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    var row = holder.querySelector("tr");
    body.appendChild(row);
    wire(row);
    var first = row.querySelector("select, input:not([type=hidden])");
    if (first) {
      first.focus();
    }
  }

  Array.prototype.forEach.call(body.rows, wire);
  addButton.classList.remove("d-none");
  addButton.addEventListener("click", add);
}());
