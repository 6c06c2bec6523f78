// Table sorting for the codex-analyzer report: the only script in the page. Without it the
// tables are plain tables; with it every column header becomes a button that sorts the rows.
// `sortOrder` is a pure function (tests call it through window.codexReport).
(function () {
  "use strict";

  // A missing key sorts last whichever the direction: an empty cell, or text in a number column.
  function isMissing(key, numeric) {
    return key === "" || (numeric && !isFinite(parseFloat(key)));
  }

  // -1, 0 or 1. Numbers compare as numbers; text case-insensitively, then by code point,
  // so the order never depends on the browser's locale.
  function compareKeys(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a), y = parseFloat(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    var s = a.toLowerCase(), t = b.toLowerCase();
    if (s !== t) return s < t ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // The indices of `keys` in display order. Stable: equal keys keep their current order.
  function sortOrder(keys, numeric, descending) {
    var idx = keys.map(function (_, i) { return i; });
    idx.sort(function (i, j) {
      var mi = isMissing(keys[i], numeric), mj = isMissing(keys[j], numeric);
      if (mi !== mj) return mi ? 1 : -1;
      var c = mi ? 0 : compareKeys(keys[i], keys[j], numeric);
      if (descending) c = -c;
      return c !== 0 ? c : i - j;
    });
    return idx;
  }

  function keyOf(cell) {
    if (!cell) return "";
    var k = cell.getAttribute("data-sort");
    return (k !== null ? k : cell.textContent).trim();
  }

  // Sorts a table's body by column `col`; number columns are the headers with class "num".
  function sortTable(table, col, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var head = table.tHead.rows[0].cells;
    var numeric = head[col].classList.contains("num");
    var keys = rows.map(function (r) { return keyOf(r.cells[col]); });
    sortOrder(keys, numeric, descending).forEach(function (i) { body.appendChild(rows[i]); });
    Array.prototype.forEach.call(head, function (th, i) {
      if (i === col) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }

  // First click: numbers largest first, text A to Z; later clicks toggle.
  function enhance(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var current = th.getAttribute("aria-sort");
        var descending = current ? current === "ascending" : th.classList.contains("num");
        sortTable(table, col, descending);
      });
    });
    table.classList.add("js-sortable");
  }

  window.codexReport = { sortOrder: sortOrder, compareKeys: compareKeys, sortTable: sortTable };
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), enhance);
})();
