// broadsheet explore: asks the local server for a page's panels and draws them (Vega-Lite, tables).
// Everything it loads comes from this server. Text from the warehouse is set as text, never as HTML.
"use strict";

const PAGES = ["search", "entity", "sources"];
let generation = 0;  // a newer request makes an older answer stale

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function safeUrl(url) {
  return /^https?:\/\//i.test(url || "") ? url : null;
}

function number(value) {
  return value === null || value === undefined ? "" : Number(value).toLocaleString("en");
}

function rate(value) {
  return value === null || value === undefined ? "" : `${Math.round(Number(value) * 100)}%`;
}

function spark(values, color = "#1f5fa8") {
  const width = 110, height = 22;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const list = (values || []).map(Number);
  if (list.length) {
    const top = Math.max(...list, 1e-9);
    const step = list.length > 1 ? (width - 2) / (list.length - 1) : 0;
    const points = list.map((v, i) => `${(1 + i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`);
    if (list.length === 1) points.push(`${width - 1},${points[0].split(",")[1]}`);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", color);
    line.setAttribute("stroke-width", "1.5");
    svg.append(line);
  }
  return svg;
}

function entityLink(id, name) {
  return el("a", { href: `#entity=${encodeURIComponent(id)}` }, name);
}

function table(columns, rows) {
  const head = el("tr", {}, ...columns.map(([title]) => el("th", {}, title)));
  const body = rows.map((row) => el("tr", { class: row.__class || null },
    ...columns.map(([, cell, numeric]) => el("td", { class: numeric ? "num" : null }, cell(row)))));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
}

function embed(target, spec) {
  const full = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: "container", ...spec };
  return vegaEmbed(target, full, { actions: false, renderer: "svg" });
}

function bars(target, rows, label, value, tooltip = []) {
  return embed(target, {
    data: { values: rows },
    height: { step: 18 },
    mark: { type: "bar", color: "#4c78a8" },
    encoding: {
      y: { field: label, type: "nominal", sort: "-x", title: null, axis: { labelLimit: 220 } },
      x: { field: value, type: "quantitative" },
      tooltip: [{ field: label }, { field: value }, ...tooltip.map((field) => ({ field }))],
    },
  });
}

function storyList(rows) {
  const clusters = new Map();
  for (const row of rows) {
    if (!clusters.has(row.cluster_id)) clusters.set(row.cluster_id, []);
    clusters.get(row.cluster_id).push(row);
  }
  return el("div", {}, ...[...clusters.values()].map((members) => {
    const [first, ...copies] = members;
    return el("div", { class: "story" },
      el("a", { href: safeUrl(first.canonical_url), target: "_blank", rel: "noopener" }, first.title || first.canonical_url),
      el("div", { class: "meta" }, `${first.role} · ${first.source_id} · ${first.article_date} · ${first.copies} in the cluster`),
      copies.length ? el("ul", { class: "copies" }, ...copies.map((copy) => el("li", {},
        el("a", { href: safeUrl(copy.canonical_url), target: "_blank", rel: "noopener" }, copy.title || copy.canonical_url),
        el("span", { class: "muted" }, ` ${copy.role} · ${copy.source_id} · ${copy.article_date}`)))) : null);
  }));
}

const WORLD = { url: "/static/vendor/countries-110m.json", format: { type: "topojson", feature: "countries" } };

// One renderer per panel: (chart element, this panel's rows, every panel of the answer) → drawn.
const RENDER = {
  attention: (div, rows) => embed(div, {
    data: { values: rows },
    height: 180,
    transform: [{ fold: ["stories", "articles"], as: ["count", "value"] }],
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "day", type: "temporal", title: null },
      y: { field: "value", type: "quantitative", title: "per day" },
      color: { field: "count", type: "nominal", title: null },
      tooltip: [{ field: "day", type: "temporal" }, { field: "count" }, { field: "value" }],
    },
  }),
  entities: (div, rows) => {
    const types = [...new Set(rows.map((row) => row.entity_type))];
    div.append(el("div", { class: "types" }, ...types.map((type) => el("div", {}, el("h3", {}, type),
      table([["name", (r) => entityLink(r.entity_id, r.name)], ["stories", (r) => number(r.stories), true],
             ["articles", (r) => number(r.articles), true], ["trend", (r) => spark(r.trend)]],
            rows.filter((row) => row.entity_type === type))))));
  },
  topics: (div, rows) => bars(div, rows, "label", "stories", ["articles", "mean_score"]),
  subtopics: (div, rows) => bars(div, rows, "label", "stories", ["level2_label", "articles"]),
  sources: (div, rows) => bars(div, rows, "source_id", "stories", ["articles", "first_day"]),
  countries: (div, rows, panels) => embed(div, {
    height: 260,
    projection: { type: "equalEarth" },
    layer: [
      { data: WORLD, mark: { type: "geoshape", fill: "#e4e4e4", stroke: "#fff", strokeWidth: 0.4 } },
      {
        // lookup keeps only the countries in the news, drawn over the grey world
        data: WORLD,
        transform: [{ lookup: "id", from: { data: { values: rows }, key: "iso_numeric", fields: ["stories", "articles"] } }],
        mark: { type: "geoshape", stroke: "#fff", strokeWidth: 0.4 },
        encoding: {
          color: { field: "stories", type: "quantitative", scale: { scheme: "blues" } },
          tooltip: [{ field: "properties.name", title: "country" }, { field: "stories", type: "quantitative" },
                    { field: "articles", type: "quantitative" }],
        },
      },
      {
        data: { values: panels.cities ? panels.cities.rows : [] },
        mark: { type: "circle", color: "#c0392b", opacity: 0.8 },
        encoding: {
          longitude: { field: "longitude", type: "quantitative" },
          latitude: { field: "latitude", type: "quantitative" },
          size: { field: "stories", type: "quantitative", legend: null, scale: { range: [15, 160] } },
          tooltip: [{ field: "name" }, { field: "stories" }],
        },
      },
    ],
  }),
  cities: (div, rows) => div.append(table([["city", (r) => entityLink(r.entity_id, r.name)],
    ["country", (r) => r.country_code], ["stories", (r) => number(r.stories), true],
    ["articles", (r) => number(r.articles), true]], rows.slice(0, 15))),
  stories: (div, rows) => div.append(storyList(rows)),
  entity_mentions: (div, rows) => embed(div, {
    data: { values: rows },
    height: 180,
    transform: [{ fold: ["stories", "articles", "mentions"], as: ["count", "value"] }],
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "day", type: "temporal", title: null },
      y: { field: "value", type: "quantitative", title: "per day" },
      color: { field: "count", type: "nominal", title: null },
    },
  }),
  entity_cooccurring: (div, rows) => div.append(table([["name", (r) => entityLink(r.entity_id, r.name)],
    ["type", (r) => r.entity_type], ["stories", (r) => number(r.stories), true],
    ["articles", (r) => number(r.articles), true], ["last day", (r) => r.last_day]], rows)),
  entity_aliases: (div, rows) => div.append(table([["alias", (r) => r.alias],
    ["mentions", (r) => number(r.mentions), true], ["articles", (r) => number(r.articles), true],
    ["first seen", (r) => (r.first_seen_at || "").slice(0, 10)]], rows)),
  entity_stories: (div, rows) => div.append(table([
    ["story", (r) => el("a", { href: safeUrl(r.original_url), target: "_blank", rel: "noopener" }, r.original_title || r.original_url)],
    ["first source", (r) => r.original_source_id], ["first appeared", (r) => (r.first_appeared_at || "").slice(0, 10)],
    ["copies", (r) => number(r.copies), true], ["sources", (r) => number(r.sources), true]], rows)),
  source_health: (div, rows, panels) => {
    const warnings = new Map((panels.source_drift ? panels.source_drift.rows : [])
      .filter((row) => row.warning).map((row) => [row.source_id, row.warning]));
    for (const row of rows) row.__class = warnings.has(row.source_id) ? "drift" : null;
    div.append(table([["source", (r) => r.source_id], ["articles", (r) => number(r.articles), true],
      ["articles per run", (r) => spark(r.articles_per_run)],
      ["empty bodies per run", (r) => spark(r.empty_body_rate_per_run, "#c0392b")],
      ["fetch ok", (r) => rate(r.fetch_success_rate), true], ["extract ok", (r) => rate(r.extraction_success_rate), true],
      ["empty", (r) => rate(r.empty_body_rate), true], ["no date", (r) => rate(r.missing_date_rate), true],
      ["mean chars", (r) => number(r.mean_text_chars), true], ["last fetched", (r) => (r.last_fetched_at || "").slice(0, 16)],
      ["drift", (r) => el("span", { class: "warning" }, warnings.get(r.source_id) || "")]], rows));
  },
};

// The panels drawn inside another's chart, whose section still offers their CSV and SQL.
const SHOWN_WITH = { source_drift: "source_health" };

function route() {
  const hash = location.hash.replace(/^#/, "");
  if (hash === "sources") return { page: "sources", params: new URLSearchParams() };
  if (hash.startsWith("entity=")) return { page: "entity", params: new URLSearchParams({ id: decodeURIComponent(hash.slice(7)) }) };
  return { page: "search", params: new URLSearchParams(hash) };
}

function showOnly(page) {
  for (const name of PAGES) document.getElementById(`page-${name}`).hidden = name !== page;
  document.getElementById("search").hidden = page === "sources";
}

function tools(page, name, params, panel) {
  const csv = new URLSearchParams(params);
  csv.set("panel", name);
  const sql = el("pre", { hidden: "" }, `-- ${name}: parameters ${JSON.stringify(panel.parameters)}\n${panel.sql}`);
  const toggle = el("a", { class: "show-sql", role: "button" }, `SQL ${name}`);
  toggle.addEventListener("click", () => { sql.hidden = !sql.hidden; });
  return [el("a", { href: `/api/${page}.csv?${csv}`, download: `broadsheet-${name}.csv`, class: "csv" }, `CSV ${name}`), toggle, sql];
}

async function draw(page, params, answer) {
  const drawing = [];
  for (const [name, panel] of Object.entries(answer.panels)) {
    const host = SHOWN_WITH[name] || name;
    const section = document.querySelector(`#page-${page} section[data-panel="${host}"]`);
    if (!section) continue;
    const heading = section.querySelector("h2");
    let toolbar = heading.querySelector(".tools");
    if (host === name) {
      if (toolbar) toolbar.remove();
      toolbar = el("span", { class: "tools" });
      heading.append(toolbar);
      for (const old of section.querySelectorAll(":scope > pre")) old.remove();
      section.querySelector(".chart").replaceChildren();
    }
    const [csv, toggle, sql] = tools(page, name, params, panel);
    toolbar.append(csv, toggle);
    section.append(sql);
    section.dataset.rows = panel.rows.length;
    if (!RENDER[name]) continue;
    const chart = section.querySelector(".chart");
    if (!panel.rows.length) {
      chart.append(el("p", { class: "empty" }, "Nothing in this selection."));
      continue;
    }
    drawing.push(Promise.resolve(RENDER[name](chart, panel.rows, answer.panels)));
  }
  await Promise.all(drawing);
  for (const section of document.querySelectorAll(`#page-${page} section[data-panel]`)) section.dataset.state = "ready";
}

function describe(page, answer) {
  if (page === "search") {
    const selection = answer.selection;
    document.getElementById("summary").textContent = `${number(selection.articles)} article${selection.articles === 1 ? "" : "s"} selected.`;
    document.getElementById("selection-sql").textContent =
      `-- parameters ${JSON.stringify(selection.parameters)}\n${selection.sql}`;
  } else if (page === "entity") {
    const [entity] = answer.panels.entity.rows;
    document.getElementById("entity-title").textContent = entity
      ? `${entity.name} (${entity.entity_type}${entity.country_code ? `, ${entity.country_code}` : ""}): ${number(entity.articles)} article${entity.articles === 1 ? "" : "s"}`
      : "No such entity.";
  }
}

async function fetchAnswer(url, mine) {
  const busy = document.getElementById("busy");
  for (;;) {
    const response = await fetch(url);
    if (mine !== generation) return null;
    const answer = await response.json();
    if (response.status === 503 && answer.busy) {
      busy.textContent = `The warehouse is busy: ${answer.error}`;
      busy.hidden = false;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      continue;
    }
    busy.hidden = true;
    if (!response.ok) throw new Error(answer.error || response.statusText);
    return answer;
  }
}

async function load() {
  const mine = ++generation;
  const { page, params } = route();
  showOnly(page);
  const error = document.getElementById("error");
  error.hidden = true;
  document.body.dataset.state = "loading";
  for (const section of document.querySelectorAll("section[data-panel]")) section.dataset.state = "loading";
  if (page === "search") fillForm(params);
  try {
    const answer = await fetchAnswer(`/api/${page}?${params}`, mine);
    if (!answer) return;
    describe(page, answer);
    await draw(page, params, answer);
    document.body.dataset.state = "ready";
    document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
  } catch (failure) {
    error.textContent = String(failure.message || failure);
    error.hidden = false;
    document.body.dataset.state = "error";
  }
}

function fillForm(params) {
  const form = document.getElementById("search");
  for (const input of form.elements) {
    if (input.name && params.has(input.name)) input.value = params.get(input.name);
  }
}

document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(event.target)) {
    if (String(value).trim() && !(key === "mode" && value === "text") && !(key === "limit" && value === "1000")) {
      params.set(key, String(value).trim());
    }
  }
  const hash = `#${params}`;
  if (location.hash === hash || (hash === "#" && !location.hash)) load(); else location.hash = hash;
});
window.addEventListener("hashchange", load);
load();
