// The assessment page's trend charts: each level's unit scores over the last twelve months,
// from /console/assessment/trend.json, drawn with the bundled ECharts. A point opens that
// month's ranking. Levels with many units show the best few at first (the legend adds more).
"use strict";
(function () {
  const page = document.getElementById("assessment");
  if (!page || !page.dataset.trend || typeof echarts === "undefined") return;
  const SHOWN = 8;
  const charts = [];

  function draw(data, level) {
    const el = document.getElementById(`trend-${level.level}`);
    if (!el) return;
    const c = echarts.init(el, null, { renderer: "svg" });
    const selected = {};
    level.lines.forEach((line, i) => { selected[line.name] = i < SHOWN; });
    c.setOption({
      tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : v.toFixed(2)) },
      legend: { type: "scroll", top: 0, selected },
      grid: { left: 40, right: 16, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", min: 0, max: 100 },
      series: level.lines.map((line) => ({
        name: line.name, type: "line", data: line.scores, connectNulls: false, symbolSize: 6,
      })),
    });
    c.on("click", (p) => { window.location.href = data.link + data.months[p.dataIndex]; });
    charts.push(c);
    el.dataset.ready = "1";
  }

  fetch(page.dataset.trend, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((data) => data.levels.forEach((level) => draw(data, level)))
    .catch(() => {});
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
