// The dashboard's and the wall display's charts, drawn with the bundled ECharts. The data
// comes from a JSON block in the page; every bar, slice and day opens the cases behind it.
"use strict";
(function () {
  const block = document.getElementById("dashboard-data");
  if (!block || typeof echarts === "undefined") return;
  const data = JSON.parse(block.textContent);
  const dark = document.body.classList.contains("wall");
  const theme = dark ? "dark" : null;
  const charts = [];

  function chart(id, option, onClick) {
    const el = document.getElementById(id);
    if (!el) return;
    const c = echarts.init(el, theme, { renderer: "svg" });
    c.setOption(Object.assign({ backgroundColor: "transparent", animation: !dark }, option));
    if (onClick) c.on("click", onClick);
    charts.push(c);
    el.dataset.ready = "1";
  }
  const open = (link) => { if (link) window.location.href = link; };

  chart("chart-days", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [data.labels.received, data.labels.closed] },
    grid: { left: 40, right: 16, top: 40, bottom: 28 },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: data.labels.received, type: "bar", data: data.received, itemStyle: { color: "#206bc4" } },
      { name: data.labels.closed, type: "line", data: data.closed, itemStyle: { color: "#2fb344" } },
    ],
  }, (p) => {
    const day = data.days[p.dataIndex];
    open(`${data.day_link}&start=${day}&end=${day}`);
  });

  chart("chart-offices", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `${v}%` },
    grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: data.offices.map((o) => o.name) },
    series: [{
      type: "bar",
      data: data.offices.map((o) => ({
        value: o.rate,
        itemStyle: { color: o.rate >= 90 ? "#2fb344" : o.rate >= 70 ? "#f59f00" : "#d63939" },
      })),
      label: { show: true, position: "right", formatter: "{c}%" },
    }],
  }, (p) => open(data.offices[p.dataIndex].link));

  chart("chart-categories", {
    tooltip: { trigger: "item" },
    legend: { type: "scroll", bottom: 0 },
    series: [{
      type: "pie",
      radius: ["35%", "62%"],
      center: ["50%", "44%"],
      data: data.categories.map((c) => ({ name: c.name, value: c.value })),
      label: { show: false },
    }],
  }, (p) => open(data.categories[p.dataIndex].link));

  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();

// The wall display reloads itself, so the command centre's screen never needs a hand.
(function () {
  const seconds = Number(document.body.dataset.refresh || 0);
  if (seconds > 0) setTimeout(() => window.location.reload(), seconds * 1000);
})();
