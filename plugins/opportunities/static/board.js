// Pipeline board: drag a card to another column to change its stage (HTML5 drag and drop).
// Without this script each card's own form does the same. The move posts the CSRF token (from the page's
// <meta name="csrf-token">) and the card's record version; a refused move (stale version: 409, out of
// scope: 404, missing reason: 422) puts the card back where it was and shows the server's message.
(function () {
  "use strict";
  var board = document.getElementById("opportunity-board");
  if (!board) { return; }
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var messageBox = document.getElementById("board-message");
  var modalElement = document.getElementById("close-reason-modal");
  var reasonForm = document.getElementById("close-reason-form");
  var dragged = null, origin = null, originNext = null, pending = null;

  function showMessage(text, kind) {
    if (!messageBox || !text) { return; }
    messageBox.textContent = text;
    messageBox.className = "alert alert-" + (kind || "info");
  }

  function snapBack(card, from, next) {
    if (next && next.parentNode === from) { from.insertBefore(card, next); } else { from.appendChild(card); }
    card.classList.remove("moving");
  }

  function updateTotals(columns) {
    Object.keys(columns || {}).forEach(function (stageId) {
      var column = document.getElementById("stage-column-" + stageId);
      if (!column) { return; }
      var info = columns[stageId];
      var count = column.querySelector("[data-column-count]");
      if (count) { count.textContent = String(info.count); }
      var totals = column.querySelector("[data-column-totals]");
      if (!totals) { return; }
      var labels = board.dataset;
      totals.textContent = "";
      (info.totals.length ? info.totals : [["", "0.00", "0.00"]]).forEach(function (row) {
        var line = document.createElement("div");
        line.textContent = labels.totalLabel + " " + row[1] + " " + row[0] + " · " + labels.weightedLabel + " " +
          row[2] + " " + row[0];
        totals.appendChild(line);
      });
    });
  }

  function send(card, column, from, next, extra) {
    var body = new FormData();
    body.append("csrf_token", token);
    body.append("stage_id", column.dataset.stageId);
    body.append("version", card.dataset.version);
    body.append("owner", board.dataset.owner || "");
    body.append("month", board.dataset.month || "");
    Object.keys(extra || {}).forEach(function (key) { body.append(key, extra[key]); });
    card.classList.add("moving");
    fetch(card.dataset.moveUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (result) {
      if (result.status === 200 && result.data.ok) {
        card.classList.remove("moving");
        card.dataset.version = String(result.data.version);
        card.dataset.stageId = String(result.data.stage_id);
        var versionInput = card.querySelector('input[name="version"]');
        if (versionInput) { versionInput.value = String(result.data.version); }
        var select = card.querySelector('select[name="stage_id"]');
        if (select) { select.value = String(result.data.stage_id); }
        updateTotals(result.data.columns);
        showMessage(result.data.message, "success");
      } else {
        snapBack(card, from, next);
        showMessage(result.data.message || board.dataset.failedLabel, "danger");
      }
    }).catch(function () {
      snapBack(card, from, next);
      showMessage(board.dataset.failedLabel, "danger");
    });
  }

  function askReason(card, column, from, next) {
    if (!modalElement || !window.bootstrap) { snapBack(card, from, next); return; }
    var kind = column.dataset.stageKind;
    modalElement.querySelectorAll("[data-reasons-for]").forEach(function (group) {
      var active = group.getAttribute("data-reasons-for") === kind;
      group.classList.toggle("d-none", !active);
      var select = group.querySelector("select");
      select.disabled = !active;
      select.value = "";
    });
    reasonForm.querySelector("textarea").value = "";
    pending = { card: card, column: column, from: from, next: next };
    window.bootstrap.Modal.getOrCreateInstance(modalElement).show();
  }

  if (reasonForm) {
    reasonForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!pending) { return; }
      var select = reasonForm.querySelector("select:not([disabled])");
      var move = pending;
      pending = null;
      window.bootstrap.Modal.getOrCreateInstance(modalElement).hide();
      send(move.card, move.column, move.from, move.next, {
        close_reason: select ? select.value : "", close_note: reasonForm.querySelector("textarea").value
      });
    });
    modalElement.addEventListener("hidden.bs.modal", function () {
      if (pending) { snapBack(pending.card, pending.from, pending.next); pending = null; }
    });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".opportunity-card[draggable='true']");
    if (!card) { return; }
    dragged = card;
    origin = card.parentNode;
    originNext = card.nextElementSibling;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.opportunityId);
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    board.querySelectorAll(".drop-target").forEach(function (zone) { zone.classList.remove("drop-target"); });
  });
  board.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest("[data-drop-zone]");
    if (!zone || !dragged) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    zone.classList.add("drop-target");
  });
  board.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-drop-zone]");
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("drop-target"); }
  });
  board.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-drop-zone]");
    if (!zone || !dragged) { return; }
    event.preventDefault();
    zone.classList.remove("drop-target");
    var card = dragged, from = origin, next = originNext;
    dragged = null;
    var column = zone.closest("[data-stage-id]");
    if (!column || column.dataset.stageId === card.dataset.stageId) { return; }
    zone.insertBefore(card, zone.firstChild);  // optimistic: put it back if the server refuses
    var kind = column.dataset.stageKind;
    if (kind === "won" || kind === "lost") { askReason(card, column, from, next); return; }
    send(card, column, from, next, {});
  });
})();
