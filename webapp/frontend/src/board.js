// The supervision board: the weekly trend (Apache ECharts, only the parts used) and the
// heatmap (the procedure's diagram, each user task coloured by a figure, with a label).
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

// the five colour steps of the legend, in board.css as pf-heat-0 … pf-heat-4
const COLOURS = ["#2e7d32", "#8bc34a", "#fbc02d", "#f57c00", "#c62828"];
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => values[key]);
const percent = (share) => `${Math.round(share * 100)}%`;

function showTrend(element, data) {
  const texts = data.texts;
  const chart = echarts.init(element, null, { renderer: "svg" });
  const weeks = data.weeks.map((w) => w.week.slice(5));
  chart.setOption({
    color: ["#5470c6", "#91cc75", "#ee6666"],
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 48, top: 36, bottom: 28 },
    xAxis: { type: "category", data: weeks },
    yAxis: [
      { type: "value", minInterval: 1 },
      { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    ],
    series: [
      { name: texts.received, type: "bar", data: data.weeks.map((w) => w.received) },
      { name: texts.completed, type: "bar", data: data.weeks.map((w) => w.completed) },
      {
        name: texts.on_time_rate,
        type: "line",
        yAxisIndex: 1,
        connectNulls: true,
        data: data.weeks.map((w) => (w.on_time_rate === null ? null : Math.round(w.on_time_rate * 100))),
      },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
  element.dataset.rendered = "true";
}

// the bucket 0…4 of each step's figure, and the legend's ranges
function buckets(steps, measure) {
  const values = Object.values(steps)
    .map((s) => (measure === "overdue" ? s.overdue_share : s.avg_working_days))
    .filter((v) => v !== null && v !== undefined);
  const top = measure === "overdue" ? 0.5 : Math.max(1, ...values);
  const edges = [0.2, 0.4, 0.6, 0.8].map((f) => f * top);
  const bucketOf = (v) => (v === null || v === undefined ? null : edges.filter((e) => v >= e).length);
  return { bucketOf, edges };
}

function labelOf(step, texts) {
  if (!step || (step.avg_working_days === null && step.overdue_share === null)) {
    return texts.no_figures;
  }
  const parts = [];
  if (step.avg_working_days !== null) parts.push(fill(texts.working_days, { days: step.avg_working_days }));
  if (step.overdue_share !== null) parts.push(fill(texts.overdue_share, { share: percent(step.overdue_share) }));
  return parts.join(" · ");
}

function paint(viewer, container, data, measure) {
  const canvas = viewer.get("canvas");
  const overlays = viewer.get("overlays");
  const registry = viewer.get("elementRegistry");
  const { bucketOf, edges } = buckets(data.steps, measure);
  overlays.remove({ type: "pf-heat" });
  for (const element of registry.filter((e) => e.type === "bpmn:UserTask")) {
    for (const marker of ["0", "1", "2", "3", "4", "none"]) canvas.removeMarker(element.id, `pf-heat-${marker}`);
    const step = data.steps[element.id];
    const value = step ? (measure === "overdue" ? step.overdue_share : step.avg_working_days) : null;
    const bucket = bucketOf(value);
    canvas.addMarker(element.id, `pf-heat-${bucket === null ? "none" : bucket}`);
    const label = document.createElement("div");
    label.className = "pf-heat-label";
    label.dataset.elementId = element.id;
    label.textContent = labelOf(step, data.texts);
    overlays.add(element.id, "pf-heat", { position: { bottom: 4, left: -10 }, scale: { min: 1 }, html: label });
  }
  const legend = document.querySelector("[data-heat-legend]");
  if (legend) {
    const number = (v) => (measure === "overdue" ? percent(v) : String(Math.round(v * 10) / 10));
    const unit = (range) => (measure === "overdue" ? range : fill(data.texts.working_days, { days: range }));
    const bounds = [0, ...edges];
    legend.replaceChildren(
      ...COLOURS.map((_colour, i) => {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = `swatch pf-swatch-${i}`;
        const range = i < 4 ? `${number(bounds[i])} – ${number(bounds[i + 1])}` : `≥ ${number(bounds[4])}`;
        item.append(swatch, unit(range));
        return item;
      }),
    );
  }
  container.dataset.measure = measure;
}

async function showHeatmap(container, data) {
  const viewer = new NavigatedViewer({ container });
  const response = await fetch(container.dataset.heatmapUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`diagram: ${response.status}`);
  await viewer.importXML(await response.text());
  viewer.get("canvas").zoom("fit-viewport", "auto");
  paint(viewer, container, data, data.measure);
  container.dataset.rendered = "true";
  document.querySelectorAll("[data-measure-choice]").forEach((button) => {
    button.addEventListener("click", () => {
      const measure = button.dataset.measureChoice;
      paint(viewer, container, data, measure);
      document.querySelectorAll("[data-measure-choice]").forEach((b) => {
        b.setAttribute("aria-pressed", String(b === button));
      });
      const address = new URL(window.location.href);
      address.searchParams.set("measure", measure);
      window.history.replaceState(null, "", address);
      document.querySelectorAll("input[name=measure]").forEach((input) => { input.value = measure; });
    });
  });
}

const source = document.getElementById("board-data");
if (source) {
  const data = JSON.parse(source.textContent);
  const trend = document.getElementById("trend-chart");
  if (trend && data.weeks.length) showTrend(trend, data);
  const heatmap = document.querySelector("[data-heatmap-url]");
  if (heatmap) {
    showHeatmap(heatmap, data).catch(() => {
      heatmap.textContent = heatmap.dataset.failedText || "diagram unavailable";
    });
  }
}
