// Filterable and sortable tables (the facilities list): where scripts run, the filters above a
// `table[data-filterable]` are shown and each column header becomes a sort button. Without JavaScript the
// plain table lists every row. Each row names its filter values in data-* attributes.
(function () {
  "use strict";
  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }
  function compare(a, b) {
    var x = parseFloat(a.replace(/,/g, "")), y = parseFloat(b.replace(/,/g, ""));
    if (!isNaN(x) && !isNaN(y) && /^[-\d.,]+/.test(a) && /^[-\d.,]+/.test(b)) { return x - y; }
    return a.localeCompare(b);
  }
  function setUp(table) {
    var form = document.getElementById(table.getAttribute("data-filterable"));
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var status = form ? form.querySelector(".instep-filter-status") : null;
    function apply() {
      var selects = form ? form.querySelectorAll("[data-filter]") : [];
      var shown = 0;
      rows.forEach(function (row) {
        var visible = true;
        Array.prototype.forEach.call(selects, function (control) {
          var value = control.value.trim().toLowerCase();
          if (!value) { return; }
          var name = control.getAttribute("data-filter");
          var have = name === "text" ? row.textContent.toLowerCase() : (row.getAttribute("data-" + name) || "");
          if (name === "text" ? have.indexOf(value) < 0 : have.toLowerCase() !== value) { visible = false; }
        });
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      if (status) { status.textContent = shown + " of " + rows.length + " facilities shown"; }
    }
    if (form) {
      form.hidden = false;
      form.addEventListener("input", apply);
      form.addEventListener("change", apply);
      form.addEventListener("submit", function (event) { event.preventDefault(); });
      apply();
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "instep-sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
          other.setAttribute("aria-sort", "none");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var order = compare(cellText(a, index), cellText(b, index));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table[data-filterable]").forEach(setUp);
  });
})();
