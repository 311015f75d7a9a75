// The deal board: drag cards between and within columns (SortableJS), saved through an
// htmx request that re-renders the board from the server's state, so a refused move puts
// the card back. Moving to a lost stage asks for the reason.
(function () {
  "use strict";
  function refresh(board) {
    htmx.ajax("GET", board.dataset.refresh, { target: "#board", swap: "outerHTML" });
  }
  function setup(root) {
    var board = (root || document).querySelector ? document.getElementById("board") : null;
    if (!board || board.dataset.sortable === "on") return;
    board.dataset.sortable = "on";
    var lists = board.querySelectorAll(".cards");
    for (var i = 0; i < lists.length; i++) {
      Sortable.create(lists[i], {
        group: "deals",
        draggable: ".card",
        animation: 120,
        onEnd: function (evt) {
          var card = evt.item;
          var target = evt.to;
          if (evt.from === target && evt.oldDraggableIndex === evt.newDraggableIndex) return;
          var values = {
            stage_id: target.dataset.stage,
            position: String(evt.newDraggableIndex),
            version: card.dataset.version
          };
          if (target.dataset.kind === "lost") {
            var reason = window.prompt("Why was this deal lost?");
            if (!reason) { refresh(board); return; }
            values.lost_reason = reason;
          }
          var token = board.querySelector("input[name=_csrf]");
          htmx.ajax("POST", "/deals/" + card.dataset.id + "/move", {
            target: "#board", swap: "outerHTML", values: values,
            headers: { "X-CSRF-Token": token ? token.value : "" }
          }).then(function () {}, function () { refresh(board); });
        }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:afterSettle", function () { setup(document); });
  // A refused move (409, 404, 422) shows its message as a toast; the board reloads so the
  // card goes back where the server has it.
  document.addEventListener("htmx:responseError", function (evt) {
    var board = document.getElementById("board");
    if (board && evt.detail.requestConfig && /\/deals\/\d+\/move$/.test(evt.detail.requestConfig.path)) {
      refresh(board);
    }
  });
})();
