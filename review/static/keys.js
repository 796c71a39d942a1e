/* Keyboard shortcuts of the review page. Loaded from /static (the CSP allows no inline script); every
   page works without it. Keys act only when no input field has the focus (Esc leaves a field).
   Any element with data-key="x" is clicked (links) or focused (fields) when x is pressed; no key
   submits a decision by itself (Enter or Alt+Enter in a field does, as the clerk chooses).
   On the Klärungsliste: j / k move the row cursor, Enter or o opens the row, x ticks its box.
   In a form: Alt+Enter presses its "Speichern und weiter" button. */
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  var cursor = -1;

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function move(step) {
    if (!rows.length) { return; }
    if (cursor >= 0) { rows[cursor].classList.remove("cursor"); }
    cursor = Math.max(0, Math.min(rows.length - 1, cursor + step));
    rows[cursor].classList.add("cursor");
    rows[cursor].scrollIntoView({block: "nearest"});
  }

  function act(el) {
    if (typing(el)) { el.focus(); if (el.select) { el.select(); } } else { el.click(); }
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey) { return; }
    var active = document.activeElement;
    if (ev.altKey && ev.key === "Enter" && active && active.form) {
      var next = active.form.querySelector("button[name=then][value=next]");
      if (next) { ev.preventDefault(); next.click(); }
      return;
    }
    if (ev.altKey) { return; }
    if (typing(active)) {
      if (ev.key === "Escape") { active.blur(); }
      return;
    }
    if (ev.key === "j") { move(1); ev.preventDefault(); return; }
    if (ev.key === "k") { move(-1); ev.preventDefault(); return; }
    if ((ev.key === "Enter" || ev.key === "o") && cursor >= 0) {
      var link = rows[cursor].querySelector("a[href]");
      if (link) { ev.preventDefault(); link.click(); }
      return;
    }
    if (ev.key === "x" && cursor >= 0) {
      var box = rows[cursor].querySelector("input[type=checkbox]");
      if (box) { ev.preventDefault(); box.click(); }
      return;
    }
    var key = ev.key === "/" ? "/" : ev.key.toLowerCase();
    var target = /^[a-z\/]$/.test(key) ? document.querySelector('[data-key="' + key + '"]') : null;
    if (!target && key === "z") { target = document.querySelector("input.amount:not([disabled])"); }
    if (target) { ev.preventDefault(); act(target); }
  });

  document.documentElement.classList.add("js");
}());
