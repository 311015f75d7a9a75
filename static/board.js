// The deal board: drag cards between and within columns (SortableJS), or move one with
// its keyboard-friendly picker; either is saved through an htmx request that re-renders
// the board from the server's state, so a refused move puts the card back. Moving to a
// lost stage asks for the reason in a dialog. Also the drag of stages on Settings →
// Pipelines, and focus kept on what the keyboard was on when a swap replaces it.
(function () {
  "use strict";
  function refresh(board) {
    htmx.ajax("GET", board.dataset.refresh, { target: "#board", swap: "outerHTML" });
  }
  // Asks why a deal was lost; `done(reason)` when given, `cancelled()` otherwise (Cancel,
  // Escape).
  function askReason(done, cancelled) {
    var dialog = document.getElementById("lost-dialog");
    if (!dialog) { cancelled(); return; }
    var input = dialog.querySelector("input[name=reason]");
    input.value = "";
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      var reason = input.value.trim();
      if (dialog.returnValue === "lost" && reason) done(reason); else cancelled();
    });
    dialog.showModal();
    input.focus();
  }
  // The card picker's move to a lost stage waits for the reason.
  document.addEventListener("htmx:confirm", function (evt) {
    var form = evt.detail.elt;
    if (!form.matches || !form.matches("form.card-move")) return;
    var select = form.elements.stage_id;
    var option = select.options[select.selectedIndex];
    if (!option || option.dataset.kind !== "lost" || form.elements.lost_reason.value) return;
    evt.preventDefault();
    askReason(function (reason) {
      form.elements.lost_reason.value = reason;
      evt.detail.issueRequest(true);
    }, function () {
      select.focus();
    });
  });
  // "Move…" on a card opens the board's one picker inside that card (without script the
  // link leads to the deal's own picker); Escape closes it.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest(".card .move-link");
    var template = document.getElementById("move-picker");
    if (!link || !template) return;
    evt.preventDefault();
    var card = link.closest(".card");
    var open = card.querySelector("form.card-move");
    if (open) { open.remove(); return; }
    var form = template.content.firstElementChild.cloneNode(true);
    var url = "/deals/" + card.dataset.id + "/move";
    form.setAttribute("action", url);
    form.setAttribute("hx-post", url);
    form.elements.version.value = card.dataset.version;
    form.elements.stage_id.value = card.dataset.stage;
    form.elements.stage_id.setAttribute("aria-label", "Stage for " + card.querySelector("a.title").textContent);
    card.appendChild(form);
    htmx.process(form);
    form.elements.stage_id.focus();
  });
  document.addEventListener("keydown", function (evt) {
    var form = evt.key === "Escape" && evt.target.closest && evt.target.closest("form.card-move");
    if (!form) return;
    var link = form.closest(".card").querySelector(".move-link");
    form.remove();
    if (link) link.focus();
  });
  // After a keyboard move the board is new: the focus goes back to the moved card.
  var refocus = null;
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt;
    if (form.matches && form.matches("form.card-move")) refocus = form.closest(".card").dataset.id;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!refocus) return;
    var card = document.querySelector('.card[data-id="' + refocus + '"]');
    refocus = null;
    var target = card && (card.querySelector(".move-link") || card.querySelector("a.title"));
    if (target) { target.focus(); target.scrollIntoView({ block: "nearest", inline: "nearest" }); }
  });
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
        // The move picker is for clicks and keys, not a drag handle.
        filter: "form.card-move",
        preventOnFilter: false,
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
          var token = board.querySelector("input[name=_csrf]");
          function save() {
            htmx.ajax("POST", "/deals/" + card.dataset.id + "/move", {
              target: "#board", swap: "outerHTML", values: values,
              headers: { "X-CSRF-Token": token ? token.value : "" }
            }).then(function () {}, function () { refresh(board); });
          }
          if (target.dataset.kind !== "lost") { save(); return; }
          askReason(function (reason) {
            values.lost_reason = reason;
            save();
          }, function () { refresh(board); });
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
  // ↑/↓ reload the page with the new order; the focus stays on the button pressed (or
  // its twin once the stage reaches an end), so a keyboard can press it again.
  var reordered = null;
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[name=direction]");
    if (button && button.form) reordered = { action: button.form.getAttribute("action"), value: button.value };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!reordered) return;
    var form = document.querySelector('form[action="' + reordered.action + '"]');
    var value = reordered.value;
    reordered = null;
    if (!form) return;
    var button = form.querySelector('button[value="' + value + '"]:not([disabled])') ||
      form.querySelector("button[name=direction]:not([disabled])");
    if (button) button.focus();
  });
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
