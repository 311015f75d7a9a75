// Cairn's browser behaviour. Loaded after htmx and before DOMContentLoaded, so the
// configuration below is in place before htmx starts. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  var cfg = htmx.config;
  // The CSP forbids inline styles and eval; htmx must not need either.
  cfg.includeIndicatorStyles = false;
  cfg.allowEval = false;
  cfg.allowScriptTags = false;
  // A history miss reloads the whole page instead of asking for a fragment.
  cfg.historyRestoreAsHxRequest = false;
  cfg.refreshOnHistoryMiss = true;
  // Forms answer 4xx with the form and its messages (or a full error page when boosted):
  // swap them. Fragment requests that fail get `HX-Reswap: none` and a toast instead.
  // A 4xx is an ordinary answer (a refusal the page shows), not a script error, so htmx
  // must not log it to the console; a 5xx is.
  cfg.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "5..", swap: true, error: true }
  ];

  // Filters left empty stay out of the query string, so the pushed URL reads cleanly.
  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.verb !== "get") return;
    var params = evt.detail.parameters;
    var empty = [];
    for (var key in params) {
      if (params[key] === "") empty.push(key);
    }
    empty.forEach(function (key) { delete params[key]; });
  });

  // A filter form asks again only when what it asks has changed: leaving the search box
  // fires `change` after typing already loaded those results, and loading them again
  // would drop the rows ticked meanwhile. Enter (submit) still reloads.
  function filterQuery(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "" && key !== "_csrf") params.append(key, value);
    });
    return params.toString();
  }
  function rememberFilters(root) {
    var forms = (root || document).querySelectorAll("form.filters[hx-get]");
    for (var i = 0; i < forms.length; i++) forms[i].dataset.asked = filterQuery(forms[i]);
  }
  document.addEventListener("DOMContentLoaded", function () { rememberFilters(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { rememberFilters(evt.detail.elt); });
  document.addEventListener("htmx:configRequest", function (evt) {
    var form = evt.detail.elt;
    if (evt.detail.verb !== "get" || !form.matches || !form.matches("form.filters[hx-get]")) return;
    var asked = filterQuery(form);
    var trigger = evt.detail.triggeringEvent;
    if (asked === form.dataset.asked && !(trigger && trigger.type === "submit")) {
      evt.preventDefault();
      return;
    }
    form.dataset.asked = asked;
  });

  // A list sorted from a column header (a swap of the results only) leaves the filter
  // form's own sort picker behind: set it to the sort shown, and remember the form's
  // query as asked, so the next filter change keeps the sort and an idle `change` asks
  // nothing.
  document.addEventListener("htmx:afterSettle", function () {
    var table = document.querySelector("#results table[data-sort]");
    var form = document.querySelector("form.filters[hx-get]");
    var picker = form && form.elements.sort;
    if (!table || !picker || picker.value === table.dataset.sort) return;
    picker.value = table.dataset.sort;
    rememberFilters(document);
  });

  // The list's selection. The header's box ticks every row on the page; once it is
  // ticked, "Select all N matching" hands the action to every record the filters match.
  // The count beside Apply, and Apply's own words, are always what is ticked.
  function selection() {
    var form = document.getElementById("bulk");
    if (!form) return null;
    return {
      form: form,
      rows: document.querySelectorAll("input[name=ids][form=bulk]"),
      page: document.querySelector("input[data-select-page]"),
      all: document.querySelector("input[data-all-matching]")
    };
  }
  function showSelection() {
    var s = selection();
    if (!s) return;
    var ticked = 0;
    for (var i = 0; i < s.rows.length; i++) if (s.rows[i].checked) ticked += 1;
    if (s.page) {
      s.page.checked = ticked > 0 && ticked === s.rows.length;
      s.page.indeterminate = ticked > 0 && ticked < s.rows.length;
    }
    var all = !!(s.all && s.all.checked);
    var total = s.form.dataset.total;
    var count = s.form.querySelector("[data-tick-count]");
    var apply = s.form.querySelector("[data-apply]");
    if (count) count.textContent = all ? "All " + total + " selected" : ticked ? ticked + " selected" : "";
    if (apply) apply.textContent = all ? "Apply to all " + total : ticked ? "Apply to " + ticked + " selected" : "Apply to selected";
    var message = document.getElementById("bulk-message");
    if (message && (all || ticked)) message.textContent = "";
  }
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    var s = selection();
    if (!s || !t || !t.matches) return;
    var i;
    if (t.matches("input[data-select-page]")) {
      for (i = 0; i < s.rows.length; i++) s.rows[i].checked = t.checked;
      if (!t.checked && s.all) s.all.checked = false;
    } else if (t.matches("input[data-all-matching]")) {
      if (t.checked) for (i = 0; i < s.rows.length; i++) s.rows[i].checked = true;
    } else if (t.matches("input[name=ids][form=bulk]")) {
      // One row unticked: no longer "all", but the rows still ticked.
      if (!t.checked && s.all) s.all.checked = false;
    } else {
      return;
    }
    showSelection();
  });
  document.addEventListener("DOMContentLoaded", showSelection);
  document.addEventListener("htmx:afterSettle", showSelection);

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast " + (kind || "error");
    el.setAttribute("role", "alert");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  // Any refused fragment request (422 included, which is not an htmx "error") answers in
  // plain text: say it.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/plain") === 0 && xhr.responseText) {
      toast(xhr.responseText.slice(0, 300));
    }
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server cannot be reached. Check your connection and try again.");
  });

  // Dates are stored and sent in UTC; show them in the viewer's own time zone.
  function localiseTimes(root) {
    var els = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var value = el.getAttribute("datetime");
      // A date without a time (an expected close) is a day in the reader's calendar, not
      // midnight UTC, which would show as the day before west of Greenwich.
      var day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      var d = day ? new Date(+day[1], +day[2] - 1, +day[3]) : new Date(value);
      if (isNaN(d)) continue;
      el.title = d.toString();
      el.textContent = el.dataset.format === "datetime"
        ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })
        : el.dataset.format === "time"
          ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
          : d.toLocaleDateString(undefined, { dateStyle: "medium" });
    }
  }
  document.addEventListener("DOMContentLoaded", function () { localiseTimes(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { localiseTimes(evt.detail.elt); });

  // A local date-time input (the browser's zone) fills its UTC twin, which the server reads.
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (!t || !t.dataset || !t.dataset.utcFor || !t.form) return;
    var twin = t.form.elements[t.dataset.utcFor];
    if (!twin) return;
    var d = new Date(t.value);
    twin.value = t.value && !isNaN(d) ? d.toISOString() : "";
  });

  // An answer whose target the page no longer has (company suggestions asked for on
  // leaving the field to click Save, answered after the saved form's page replaced it) has
  // nowhere to go: it is dropped, not swapped, so its note finds no missing target.
  // htmx fires beforeSwap on the target itself, which no longer bubbles to the document
  // once detached: the guard listens on each target.
  var guarded = new WeakSet();
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var target = evt.detail.target;
    if (!target || guarded.has(target)) return;
    guarded.add(target);
    target.addEventListener("htmx:beforeSwap", function (e) {
      if (!target.isConnected) e.detail.shouldSwap = false;
    });
  });

  // A table's ↑/↓ (custom field choices): the row moves, every row's order number is
  // renumbered to match, and the focus stays on the button pressed. Without script the
  // numbers still reorder.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[data-move-row]");
    if (!button) return;
    var row = button.closest("tr");
    var other = button.dataset.moveRow === "up" ? row.previousElementSibling : row.nextElementSibling;
    if (!other) return;
    if (button.dataset.moveRow === "up") other.before(row); else other.after(row);
    row.parentElement.querySelectorAll("input.order").forEach(function (input, i) {
      input.value = String(i + 1);
    });
    button.focus();
  });

  // A link to a form on another page (the board's "Move…" to the deal's #move) lands on
  // its first field, ready for the keyboard.
  var focusedFor = null;
  function focusTarget() {
    // Once per arrival, not on every swap that happens while the page is open.
    if (!location.hash || focusedFor === location.href) return;
    focusedFor = location.href;
    var el = document.getElementById(location.hash.slice(1));
    if (!el || el.tagName !== "FORM") return;
    var field = el.querySelector("select, input:not([type=hidden]), textarea, button");
    if (field) field.focus();
  }
  document.addEventListener("DOMContentLoaded", focusTarget);
  document.addEventListener("htmx:afterSettle", focusTarget);

  // Keyboard: "/" focuses search, other keys follow elements marked data-hotkey.
  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey) return;
    var t = evt.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) {
      if (evt.key === "Escape") t.blur();
      return;
    }
    var el = document.querySelector('[data-hotkey="' + CSS.escape(evt.key) + '"]');
    if (!el) return;
    evt.preventDefault();
    if (el.tagName === "INPUT") { el.focus(); el.select(); } else { el.click(); }
  });
})();
