"""The style and the script of a page (sim/views/page.py), inlined into it as they stand.

The script reads the grid from the page's JSON (``page_data``), builds a slider per varied
input over the index of its values, and on every move shows the run at those indices: its
figures, its error if it failed (and then no figure and no line), the chart (``Plotly.react``
on the figure the page was built with) and its ``roundtrip run`` command. ``#at=i,j,...`` in
the address opens a point; ``window.roundtripPage`` (``select``, ``csv``, ``point``) is what
the buttons call, and what a test drives. Plain JavaScript, no other library than plotly.js.
"""

PAGE_CSS = """
:root { --ink: #222; --muted: #666; --line: #e3e3e3; --accent: #b86e00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
h1 { font-size: 26px; margin: 22px 0 4px; }
h2 { font-size: 16px; margin: 18px 0 6px; }
.lede { color: var(--muted); margin: 0 0 12px; max-width: 70em; }
main { display: grid; grid-template-columns: minmax(260px, 340px) 1fr; gap: 28px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
#controls label { display: block; margin: 0 0 14px; font-weight: 600; }
#controls input[type=range] { width: 100%; margin: 4px 0 0; accent-color: var(--accent); }
#controls output { float: right; font-weight: 700; color: var(--accent);
                   font-variant-numeric: tabular-nums; }
#controls .ends { display: flex; justify-content: space-between; color: var(--muted);
                  font-weight: 400; font-size: 12px; }
#chart { width: 100%; min-height: 520px; }
#figures table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
#figures th { text-align: left; font-size: 13px; color: var(--muted); font-weight: 600;
              padding: 10px 0 4px; border-bottom: 1px solid var(--line); }
#figures td { padding: 3px 0; border-bottom: 1px solid var(--line); }
#figures td.v { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.failed #figures td.v, .failed #chart { opacity: 0.25; }
#error { color: #a40000; font-weight: 600; border-left: 4px solid #a40000; padding: 4px 10px; }
#export button { margin: 4px 8px 4px 0; padding: 5px 12px; font: inherit; cursor: pointer; }
pre#command { white-space: pre-wrap; word-break: break-all; background: #f5f5f5;
              padding: 10px 12px; border-radius: 4px; font-size: 13px; }
footer { color: var(--muted); font-size: 12px; margin-top: 18px; padding-bottom: 24px; }
"""

PAGE_JS = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var fig = JSON.parse(document.getElementById("page-figure").textContent);
  var axes = data.axes, runs = data.runs, sliders = [], outputs = [];
  var chart = document.getElementById("chart");
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["select2d", "lasso2d"]};

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function indices() { return sliders.map(function (s) { return Number(s.value); }); }

  function pointOf(at) {  // the grid's order: the last input varies fastest
    var k = 0;
    axes.forEach(function (a, j) { k = k * a.shown.length + at[j]; });
    return k;
  }

  function cumulative(steps) {  // whole $M, each the step from the one before -> $B
    var total = 0;
    return steps.map(function (x) { total += x; return total / 1000; });
  }

  function title(k) {
    var w = data.words, s = runs.shown[k];
    if (s === null) { return "No run at this point: its inputs are refused"; }
    var f = {};
    data.figures.forEach(function (x, i) { f[x.key] = s[i]; });
    return w.investor + "'s " + f.invested + " caused " + f.incremental_revenue + " of " +
      w.sellers + " revenue from " + w.labs + "; traced, " + f.round_trip + " of it came back";
  }

  function command(k) {
    var words = [data.command];
    runs.sets[k].forEach(function (i) { words.push("--set " + data.sets[i]); });
    return words.join(" \\\\\\n    ");
  }

  function show() {
    var at = indices(), k = pointOf(at), failed = runs.error[k] !== null;
    at.forEach(function (i, j) { outputs[j].textContent = axes[j].shown[i]; });
    document.body.classList.toggle("failed", failed);
    var error = document.getElementById("error");
    error.hidden = !failed;
    error.textContent = failed ? "This run failed: " + runs.error[k] : "";
    data.figures.forEach(function (x, i) {
      document.getElementById("f-" + x.key).textContent = failed ? "\\u2014" : runs.shown[k][i];
    });
    document.getElementById("command").textContent = command(k);
    var traces = fig.data.map(function (t, i) {
      var steps = failed ? [] : runs[i === 0 ? "twin" : "run"][k];
      return Object.assign({}, t, {y: cumulative(steps), x: data.dates.slice(0, steps.length)});
    });
    var layout = Object.assign({}, fig.layout, {title: Object.assign({}, fig.layout.title,
      {text: title(k)})});
    Plotly.react(chart, traces, layout, config);
    history.replaceState(null, "", "#at=" + at.join(","));
    return k;
  }

  function select(at) {
    at.forEach(function (i, j) { sliders[j].value = String(i); });
    return show();
  }

  function csv() {
    var k = pointOf(indices()), at = indices();
    var rows = [["kind", "name", "key", "value", "shown"], ["scenario", data.title, "", "", ""]];
    var q = function (v) { v = v === null ? "" : String(v);
      return /[",\\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; };
    axes.forEach(function (a, j) {
      rows.push(["input", a.name, a.path, a.values[at[j]], a.shown[at[j]]]);
    });
    data.figures.forEach(function (x, i) {
      var v = runs.values[k] === null ? null : runs.values[k][i];
      rows.push([x.group, x.name, x.key, v, runs.shown[k] === null ? "" : runs.shown[k][i]]);
    });
    rows.push(["error", "", "", runs.error[k], ""]);
    rows.push(["command", "", "", command(k).replace(/ \\\\\\n    /g, " "), ""]);
    return rows.map(function (r) { return r.map(q).join(","); }).join("\\n") + "\\n";
  }

  function save(name, blob) {
    var a = el("a", {href: URL.createObjectURL(blob), download: name});
    document.body.appendChild(a); a.click(); a.remove();
  }

  function fileName() { return "roundtrip-" + indices().join("-"); }

  var controls = document.getElementById("controls");
  controls.appendChild(el("h2", {}, "Inputs"));
  axes.forEach(function (a, j) {
    var label = el("label", {"for": "s" + j}, a.name);
    var out = el("output", {id: "o" + j});
    var s = el("input", {type: "range", id: "s" + j, min: 0, max: a.shown.length - 1, step: 1,
                         value: data.start[j], "aria-label": a.name});
    var ends = el("span", {"class": "ends"});
    ends.appendChild(el("span", {}, a.shown[0]));
    ends.appendChild(el("span", {}, a.shown[a.shown.length - 1]));
    label.appendChild(out); label.appendChild(s); label.appendChild(ends);
    controls.appendChild(label);
    s.addEventListener("input", show);
    sliders.push(s); outputs.push(out);
  });
  var table = el("table"), group = null;
  data.figures.forEach(function (x) {
    if (x.group !== group) {
      group = x.group;
      var head = el("tr");
      head.appendChild(el("th", {colspan: 2}, data.groups[group]));
      table.appendChild(head);
    }
    var tr = el("tr");
    tr.appendChild(el("td", {}, x.name));
    tr.appendChild(el("td", {"class": "v", id: "f-" + x.key}));
    table.appendChild(tr);
  });
  document.getElementById("figures").appendChild(table);
  document.getElementById("reset").addEventListener("click", function () {
    select(data.start);
  });
  document.getElementById("png").addEventListener("click", function () {
    Plotly.downloadImage(chart, {format: "png", width: 1280, height: 640, filename: fileName()});
  });
  document.getElementById("svg").addEventListener("click", function () {
    Plotly.downloadImage(chart, {format: "svg", width: 1280, height: 640, filename: fileName()});
  });
  document.getElementById("csv").addEventListener("click", function () {
    save(fileName() + ".csv", new Blob([csv()], {type: "text/csv"}));
  });
  var asked = /#at=([0-9,]+)/.exec(location.hash);
  var start = asked ? asked[1].split(",").map(Number) : data.start;
  if (start.length !== axes.length || start.some(function (i, j) {
    return !(i >= 0 && i < axes[j].shown.length); })) { start = data.start; }
  window.roundtripPage = {select: select, csv: csv, point: function () {
    return pointOf(indices()); }};
  select(start);
})();
"""
