// The API page, rendered from /openapi.json: no CDN, no framework.
"use strict";
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
};
const json = (value) => el("pre", {}, JSON.stringify(value, null, 2));

function resolve(doc, schema) {
  const ref = schema && schema.$ref;
  if (!ref) return schema;
  return ref.slice(2).split("/").reduce((node, key) => node[key], doc);
}

function parameters(doc, op) {
  if (!op.parameters || !op.parameters.length) return "";
  const rows = op.parameters.map((p) => el("tr", {},
    el("td", {}, el("code", {}, p.name)), el("td", {}, p.in + (p.required ? ", required" : "")),
    el("td", {}, el("code", {}, JSON.stringify(resolve(doc, p.schema) || {}))), el("td", {}, p.description || "")));
  return el("table", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"),
    el("th", {}, "Schema"), el("th", {}, "")), ...rows);
}

function operation(doc, path, method, op) {
  const scope = op["x-brickyard-scope"];
  const body = el("div", { class: "body" });
  for (const paragraph of (op.description || "").split("\n\n")) body.append(el("p", {}, paragraph));
  if (scope) body.append(el("p", {}, "Scope: ", el("span", { class: "scope" }, scope)));
  body.append(parameters(doc, op));
  const content = (op.requestBody && op.requestBody.content) || {};
  const [media, request] = Object.entries(content)[0] || [];
  if (request) {
    body.append(el("p", {}, media + " body" + (op.requestBody.required ? "" : " (optional)") + ":"),
      json(resolve(doc, request.schema)));
    const example = Object.values(request.examples || {})[0];
    if (example) body.append(el("p", {}, "Example:"), json(example.value));
  }
  const responses = el("table", {}, el("tr", {}, el("th", {}, "Status"), el("th", {}, "Meaning"),
    el("th", {}, "Body")));
  for (const [code, answer] of Object.entries(op.responses || {})) {
    const first = Object.values(answer.content || {})[0];
    const ref = first && first.schema && first.schema.$ref;
    responses.append(el("tr", {}, el("td", {}, code), el("td", {}, answer.description || ""),
      el("td", {}, el("code", {}, ref ? ref.split("/").pop() : first ? JSON.stringify(first.schema) : ""))));
  }
  body.append(responses);
  const item = el("details", {}, el("summary", {}, el("span", { class: "m " + method }, method.toUpperCase()),
    path, el("span", { class: "s" }, op.summary || "")), body);
  item.dataset.text = [path, op.summary, scope, method].join(" ").toLowerCase();
  return item;
}

function render(doc) {
  document.getElementById("version").textContent = doc.info.title + " " + doc.info.version;
  const groups = new Map((doc.tags || []).map((t) => [t.name, []]));
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags || ["Other"])[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(doc, path, method, op));
    }
  const api = document.getElementById("api");
  api.replaceChildren(el("p", {}, doc.info.description || ""));
  for (const [tag, items] of groups) if (items.length) api.append(el("section", {}, el("h2", {}, tag), ...items));
  document.getElementById("filter").addEventListener("input", (event) => {
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const item of api.querySelectorAll("details"))
      item.hidden = !words.every((w) => item.dataset.text.includes(w));
    for (const section of api.querySelectorAll("section"))
      section.hidden = ![...section.querySelectorAll("details")].some((d) => !d.hidden);
  });
}

fetch("/openapi.json").then((r) => r.json()).then(render).catch((error) => {
  document.getElementById("api").textContent = "Could not load /openapi.json: " + error;
});
