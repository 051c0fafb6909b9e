// The topic map (/map) and the trend charts (/trends), drawn by Apache ECharts from the
// JSON API. Loaded only by those two pages; everything they say in text works without it.
"use strict";

const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
  "#9c755f", "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

const titles = new Map();

async function titleOf(id) {
  if (!titles.has(id)) {
    titles.set(
      id,
      fetch(`/api/papers/${id}`)
        .then((r) => (r.ok ? r.json() : { title: id }))
        .then((p) => p.title || id)
        .catch(() => id),
    );
  }
  return titles.get(id);
}

function escapeText(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

async function drawMap(box) {
  const status = document.getElementById("map-status");
  const response = await fetch(box.dataset.src);
  if (!response.ok) {
    status.textContent = "The map could not be loaded.";
    return;
  }
  const map = await response.json();
  const count = map.ids.length;
  box.dataset.points = String(count);
  if (!count) {
    status.textContent = "No papers on the map yet.";
    return;
  }
  const labels = new Map(map.clusters.map((c) => [c.id, c.label]));
  const latest = Math.max(...map.d);
  const points = map.ids.map((id, n) => [map.x[n], map.y[n], map.c[n], n]);
  const chart = echarts.init(box, null, { renderer: "canvas" });
  const highlight = { ids: new Set() };
  const base = {
    type: "scatter",
    symbolSize: count > 20000 ? 3 : count > 5000 ? 4 : 6,
    large: count > 20000,
    itemStyle: { opacity: 0.75, color: (p) => PALETTE[p.value[2] % PALETTE.length] },
    emphasis: { scale: 2 },
  };
  function render() {
    const marked = points.filter((p) => highlight.ids.has(map.ids[p[3]]));
    chart.setOption(
      {
        animation: false,
        grid: { left: 8, right: 8, top: 8, bottom: 8 },
        xAxis: { show: false, min: 0, max: map.grid },
        yAxis: { show: false, min: 0, max: map.grid },
        tooltip: {
          trigger: "item",
          confine: true,
          formatter: (p, ticket, callback) => {
            const id = map.ids[p.value[3]];
            const topic = labels.get(p.value[2]) || "";
            titleOf(id).then((title) =>
              callback(ticket, `<b>${escapeText(title)}</b><br>${escapeText(id)} · ${escapeText(topic)}`),
            );
            return escapeText(id);
          },
        },
        dataZoom: [
          { type: "inside", xAxisIndex: 0, filterMode: "none" },
          { type: "inside", yAxisIndex: 0, filterMode: "none" },
        ],
        series: [
          { ...base, name: "papers", data: points },
          {
            type: "scatter",
            name: "highlighted",
            data: marked,
            symbolSize: 10,
            itemStyle: { color: "rgba(0,0,0,0)", borderColor: "#000", borderWidth: 1.5 },
            z: 3,
          },
          {
            type: "scatter",
            name: "labels",
            silent: true,
            symbolSize: 0,
            data: map.clusters.filter((c) => c.n).map((c) => [c.x, c.y, c.label]),
            label: {
              show: true,
              formatter: (p) => p.value[2],
              fontSize: 11,
              backgroundColor: "rgba(255,255,255,0.75)",
              padding: [1, 3],
              borderRadius: 3,
            },
            z: 4,
          },
        ],
      },
      { replaceMerge: ["series"] },
    );
  }
  render();
  chart.on("click", (p) => {
    if (p.seriesName === "labels") return;
    window.location.href = `/papers/${map.ids[p.value[3]]}`;
  });
  window.addEventListener("resize", () => chart.resize());

  const layer = document.getElementById("map-layer");
  const query = document.getElementById("map-q");
  async function updateLayer() {
    if (layer.value === "latest") {
      highlight.ids = new Set(map.ids.filter((id, n) => map.d[n] === latest));
      status.textContent = `${highlight.ids.size} papers of the latest day ringed.`;
    } else if (layer.value === "search" && query.value.trim()) {
      const r = await fetch(`/api/papers/search?limit=120&q=${encodeURIComponent(query.value)}`);
      const hits = r.ok ? await r.json() : [];
      highlight.ids = new Set(hits.map((h) => (h.paper ? h.paper.id : h.id)));
      status.textContent = `${highlight.ids.size} search results ringed.`;
    } else if (layer.value === "saved") {
      const r = await fetch("/api/saved", { headers: { Accept: "application/json" } });
      if (r.ok) {
        highlight.ids = new Set((await r.json()).ids.filter((id) => map.ids.includes(id)));
        status.textContent = `${highlight.ids.size} of your saved papers ringed.`;
      } else {
        highlight.ids = new Set();
        status.textContent = "Log in to see your saved papers on the map.";
      }
    } else {
      highlight.ids = new Set();
      status.textContent = `${count} papers.`;
    }
    render();
  }
  layer.addEventListener("change", updateLayer);
  query.addEventListener("change", () => {
    layer.value = "search";
    updateLayer();
  });
  status.textContent = `${count} papers.`;
  box.dataset.ready = "true";
}

async function drawTrends() {
  const boxes = document.querySelectorAll(".trend-chart");
  if (!boxes.length) return;
  const response = await fetch(boxes[0].dataset.src);
  if (!response.ok) return;
  const trends = await response.json();
  boxes.forEach((box) => {
    const rows = trends[box.dataset.series] || [];
    const chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      color: PALETTE,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 30 },
      xAxis: { type: "category", data: trends.weeks },
      yAxis: { type: "value", name: "papers" },
      series: rows.map((row) => ({
        name: row.label || row.category,
        type: "line",
        stack: "papers",
        areaStyle: {},
        symbol: "none",
        data: row.counts,
      })),
    });
    window.addEventListener("resize", () => chart.resize());
    box.dataset.ready = "true";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("topic-map");
  if (box) drawMap(box);
  drawTrends();
});
