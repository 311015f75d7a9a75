// The deal board: drag cards between and within columns (SortableJS), saved through an
// htmx request that re-renders the board from the server's state, so a refused move puts
// the card back. Moving to a lost stage asks for the reason. Also the drag of stages on
// Settings → Pipelines.
(function () {
  "use strict";
  function refresh(board) {
    htmx.ajax("GET", board.dataset.refresh, { target: "#board", swap: "outerHTML" });
  }
  function setup(root) {
    var board = (root || document).querySelector ? document.getElementById("board") : null;
    // Viewers read the board; nothing of it moves for them.
    if (!board || board.dataset.sortable === "on" || board.dataset.canWrite !== "true") return;
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
          // Said by neighbour: the column may be filtered or not fully loaded.
          var prev = card.previousElementSibling;
          while (prev && !prev.classList.contains("card")) prev = prev.previousElementSibling;
          var values = { stage_id: target.dataset.stage, version: card.dataset.version };
          if (prev) values.after_id = prev.dataset.id; else values.position = "0";
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
  // Settings → Pipelines: stages are dragged by their handle; the server's order comes
  // back as the whole page (the ↑/↓ buttons stay for keyboards).
  function setupStages() {
    var lists = document.querySelectorAll(".stage-rows");
    for (var i = 0; i < lists.length; i++) {
      if (lists[i].dataset.sortable === "on") continue;
      lists[i].dataset.sortable = "on";
      Sortable.create(lists[i], {
        handle: ".handle",
        draggable: "tr",
        animation: 120,
        onEnd: function (evt) {
          if (evt.oldDraggableIndex === evt.newDraggableIndex) return;
          var token = document.querySelector("input[name=_csrf]");
          htmx.ajax("POST", "/settings/stages/" + evt.item.dataset.id + "/reorder", {
            target: "#app", select: "#app", swap: "outerHTML",
            values: { position: String(evt.newDraggableIndex) },
            headers: { "X-CSRF-Token": token ? token.value : "" }
          });
        }
      });
    }
  }
  // A refused reorder (its reason is toasted by app.js) shows the order the server has.
  function reloadStages() {
    htmx.ajax("GET", "/settings/pipelines", { target: "#app", select: "#app", swap: "outerHTML" });
  }
  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status >= 400 && evt.detail.requestConfig &&
        /\/settings\/stages\/\d+\/reorder$/.test(evt.detail.requestConfig.path)) {
      reloadStages();
    }
  });
  function setupAll() { setup(document); setupStages(); }
  document.addEventListener("DOMContentLoaded", setupAll);
  document.addEventListener("htmx:afterSettle", setupAll);
  // A refused move (409, 404, 422) shows its message as a toast; the board reloads so the
  // card goes back where the server has it.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var board = document.getElementById("board");
    var xhr = evt.detail.xhr;
    if (board && xhr && xhr.status >= 400 && evt.detail.requestConfig &&
        /\/deals\/\d+\/move$/.test(evt.detail.requestConfig.path)) {
      refresh(board);
    }
  });
})();
