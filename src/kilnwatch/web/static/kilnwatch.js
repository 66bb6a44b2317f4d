/* kilnwatch pages: charts (Apache ECharts) from JSON blocks the server renders, and the meter
   chart that reads /api/v1/meters/{id}/readings. No inline scripts (the pages' CSP forbids them). */
(function () {
  "use strict";
  var fmt = new Intl.NumberFormat(document.documentElement.lang || "zh-CN", { maximumFractionDigits: 2 });
  var charts = {};

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function linesOption(spec) {
    var axes = [{ type: "value", axisLabel: { formatter: function (v) { return fmt.format(v); } } }];
    if (spec.series.some(function (s) { return s.axis === 1; })) {
      axes.push({ type: "value", position: "right", axisLabel: { formatter: function (v) { return fmt.format(v); } } });
    }
    return {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : fmt.format(v); } },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 60, right: axes.length > 1 ? 70 : 20, top: 20, bottom: 60 },
      xAxis: { type: "category", data: spec.x },
      yAxis: axes,
      dataZoom: spec.zoom ? [{ type: "inside" }, { type: "slider", bottom: 28, height: 18 }] : [],
      series: spec.series.map(function (s) {
        return { name: s.name, type: s.kind || "line", data: s.data, yAxisIndex: s.axis || 0,
                 showSymbol: false, connectNulls: false };
      })
    };
  }

  function mapOption(spec, key) {
    var fig = spec.figures[key];
    var values = fig.data.map(function (d) { return d.value || 0; });
    return {
      tooltip: { trigger: "item", formatter: function (p) {
        return p.name + "<br>" + fig.label + ": " + (p.value == null || isNaN(p.value) ? "—" : fmt.format(p.value));
      } },
      visualMap: { min: 0, max: Math.max.apply(null, values.concat([1])), left: 0, bottom: 0,
                   calculable: true, inRange: { color: ["#e8f1fb", "#17324d"] } },
      series: [{ type: "map", map: "shandong", roam: true, nameMap: spec.nameMap || undefined,
                 label: { show: true, fontSize: 10 }, data: fig.data }]
    };
  }

  function initMap(el, spec) {
    fetch(spec.geojson).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("shandong", geo);
      var chart = echarts.init(el);
      charts[el.id] = chart;
      chart.setOption(mapOption(spec, spec.selected));
      var select = document.querySelector('[data-map-select="' + el.id + '"]');
      if (select) {
        select.addEventListener("change", function () { chart.setOption(mapOption(spec, select.value)); });
      }
      chart.on("click", function (p) {
        var hit = spec.figures[spec.selected].data.filter(function (d) { return d.name === p.name; })[0];
        if (hit && hit.href) { window.location = hit.href; }
      });
      el.dataset.ready = "1";
    });
  }

  function meterUrl(el, resolution, start, end) {
    var u = "/api/v1/meters/" + el.dataset.meter + "/readings?resolution=" + resolution;
    if (start) { u += "&start=" + encodeURIComponent(start); }
    if (end) { u += "&end=" + encodeURIComponent(end); }
    return u + "&limit=" + (el.dataset.limit || "5000");
  }

  function loadMeter(el) {
    var form = document.getElementById(el.dataset.form);
    var resolution = form ? form.elements.resolution.value : "day";
    var start = form ? form.elements.start.value : "";
    var end = form ? form.elements.end.value : "";
    var chart = charts[el.id] || echarts.init(el);
    charts[el.id] = chart;
    el.dataset.ready = "";
    fetch(meterUrl(el, resolution, start, end), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (page) {
        var x = page.items.map(function (p) { return p.at_local; });
        var y = page.items.map(function (p) { return p.value; });
        chart.setOption(linesOption({ x: x, zoom: true, series: [{ name: el.dataset.label + " (" + page.unit + ")", data: y }] }), true);
        var note = document.getElementById(el.dataset.note);
        if (note) { note.textContent = page.summary; }
        el.dataset.ready = "1";
        el.dataset.points = String(page.items.length);
      })
      .catch(function (e) { el.textContent = "error " + e.message; el.dataset.ready = "error"; });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.inited) { return; }
      el.dataset.inited = "1";
      var spec = data(el.dataset.chart);
      if (!spec) { return; }
      if (spec.type === "map") { initMap(el, spec); return; }
      var chart = echarts.init(el);
      charts[el.id] = chart;
      chart.setOption(linesOption(spec));
      el.dataset.ready = "1";
    });
    (root || document).querySelectorAll("[data-meter]").forEach(function (el) {
      if (el.dataset.inited) { return; }
      el.dataset.inited = "1";
      loadMeter(el);
      var form = document.getElementById(el.dataset.form);
      if (form) {
        form.addEventListener("submit", function (ev) { ev.preventDefault(); loadMeter(el); });
        form.elements.resolution.addEventListener("change", function () { loadMeter(el); });
      }
    });
  }

  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { init(ev.target); });
})();
