// The table explorer: pick a published table, filter it, see the rows, download the filtered CSV.
// Everything happens in the browser, from the release's own CSV files on this site (fetched from the
// same origin, as the Content-Security-Policy requires); nothing is sent anywhere. The tables and their
// columns are described by the page's JSON block (#explorer-tables), written from datapackage.json.
(function () {
  "use strict";
  var config = document.getElementById("explorer-tables");
  var form = document.getElementById("explorer");
  if (!config || !form) { return; }
  var tables = JSON.parse(config.textContent);
  var FILTERS = ["park_id", "facility_id", "pillar", "component", "metric", "parameter"];
  var PERIODS = ["period", "year", "sample_date"];
  var SHOWN = 200;
  var state = { header: [], rows: [], matching: [], name: "" };
  var $ = function (selector) { return form.querySelector(selector); };

  // RFC 4180: fields separated by commas, quoted with double quotes, "" inside quotes for one quote.
  function parseCsv(text) {
    var rows = [], row = [], field = "", quoted = false, i, c;
    for (i = 0; i < text.length; i += 1) {
      c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; }
        else if (c === '"') { quoted = false; }
        else { field += c; }
      } else if (c === '"') { quoted = true; }
      else if (c === ",") { row.push(field); field = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") { i += 1; }
        row.push(field); rows.push(row); row = []; field = "";
      } else { field += c; }
    }
    if (field !== "" || row.length) { row.push(field); rows.push(row); }
    return rows;
  }
  function quote(value) {
    return /[",\r\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }
  function option(value, text) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    return element;
  }
  function fillSelect(select, values) {
    select.textContent = "";
    select.appendChild(option("", "All"));
    values.forEach(function (value) { select.appendChild(option(value, value)); });
  }
  function column(name) { return state.header.indexOf(name); }

  function setUpFilters() {
    FILTERS.forEach(function (name) {
      var wrap = form.querySelector('[data-explorer-filter="' + name + '"]');
      var index = column(name);
      wrap.hidden = index < 0;
      if (index < 0) { return; }
      var seen = {};
      state.rows.forEach(function (row) { seen[row[index]] = true; });
      fillSelect(wrap.querySelector("select"), Object.keys(seen).filter(Boolean).sort());
    });
    var period = PERIODS.filter(function (name) { return column(name) >= 0; })[0];
    $("[data-explorer-period]").hidden = !period;
    state.period = period;
    var columns = $("#explorer-columns");
    columns.textContent = "";
    var keys = tables[state.name].primaryKey;
    state.header.forEach(function (name) {
      if (keys.indexOf(name) < 0) { columns.appendChild(option(name, name)); }
    });
  }
  function selectedColumns() {
    var chosen = Array.prototype.filter.call($("#explorer-columns").options, function (o) {
      return o.selected;
    }).map(function (o) { return o.value; });
    if (!chosen.length) { return state.header.map(function (_, i) { return i; }); }
    var keys = tables[state.name].primaryKey;
    return state.header.map(function (name, i) {
      return keys.indexOf(name) >= 0 || chosen.indexOf(name) >= 0 ? i : -1;
    }).filter(function (i) { return i >= 0; });
  }
  function apply() {
    var tests = [];
    FILTERS.forEach(function (name) {
      var index = column(name);
      var value = index >= 0 ? form.querySelector('[data-explorer-filter="' + name + '"] select').value : "";
      if (value) { tests.push(function (row) { return row[index] === value; }); }
    });
    if (state.period) {
      var index = column(state.period), from = $("#explorer-from").value.trim(), to = $("#explorer-to").value.trim();
      // Periods compare as text: 2024-03 is after 2024, and a bound 2024-06 takes the whole month.
      if (from) { tests.push(function (row) { return row[index] >= from; }); }
      if (to) { tests.push(function (row) { return row[index].slice(0, to.length) <= to; }); }
    }
    state.matching = state.rows.filter(function (row) {
      return tests.every(function (test) { return test(row); });
    });
    render();
  }
  function render() {
    var columns = selectedColumns();
    var table = document.getElementById("explorer-rows");
    table.textContent = "";
    var head = table.createTHead().insertRow();
    columns.forEach(function (i) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = state.header[i];
      head.appendChild(th);
    });
    var body = table.createTBody();
    state.matching.slice(0, SHOWN).forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (i) { tr.insertCell().textContent = row[i]; });
    });
    document.getElementById("explorer-status").textContent = state.matching.length + " of " +
      state.rows.length + " rows match" + (state.matching.length > SHOWN ? "; the first " + SHOWN + " are shown." : ".");
    $("#explorer-download").disabled = false;
  }
  function download() {
    var columns = selectedColumns();
    var lines = [columns.map(function (i) { return quote(state.header[i]); }).join(",")];
    state.matching.forEach(function (row) {
      lines.push(columns.map(function (i) { return quote(row[i]); }).join(","));
    });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
    link.download = state.name + "-filtered.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  function load() {
    var name = $("#explorer-table").value;
    state.name = name;
    document.getElementById("explorer-status").textContent = "Loading " + name + " …";
    fetch(new URL(tables[name].path, location.href))
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status + " " + tables[name].path); }
        return response.text();
      })
      .then(function (text) {
        var rows = parseCsv(text.replace(/^\uFEFF/, ""));
        state.header = rows.shift() || [];
        state.rows = rows.filter(function (row) { return row.length === state.header.length; });
        setUpFilters();
        apply();
      })
      .catch(function (error) {
        document.getElementById("explorer-status").textContent = "The table could not be read: " + error.message;
      });
  }
  var select = $("#explorer-table");
  Object.keys(tables).forEach(function (name) { select.appendChild(option(name, tables[name].title + " (" + name + ")")); });
  form.hidden = false;
  select.addEventListener("change", load);
  form.addEventListener("change", function (event) { if (event.target !== select) { apply(); } });
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  $("#explorer-download").addEventListener("click", download);
  load();
})();
