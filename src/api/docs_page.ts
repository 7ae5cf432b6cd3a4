/** A readable API page rendered from the OpenAPI document: no scripts, no external assets. */

const esc = (s: unknown) =>
  String(s ?? "").replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );

// deno-lint-ignore no-explicit-any
type Doc = any;

function paramRows(params: Doc[]): string {
  if (params.length === 0) return "<p><em>No parameters.</em></p>";
  const rows = params.map((p) => {
    const schema = p.schema.type === "array" ? p.schema.items : p.schema;
    const allowed = schema.enum
      ? schema.enum.join(" | ")
      : schema.description ?? schema.pattern ?? "";
    const def = schema.default !== undefined ? `default <code>${esc(schema.default)}</code>` : "";
    return `<tr><td><code>${esc(p.name)}</code>${p.required ? " *" : ""}</td><td>${esc(p.in)}${
      p.schema.type === "array" ? ", repeatable" : ""
    }</td><td>${esc(p.description)}<br><small>${esc(allowed)} ${def}</small></td></tr>`;
  });
  return `<table><tr><th>name</th><th>in</th><th>meaning</th></tr>${rows.join("")}</table>`;
}

export function renderDocsPage(doc: Doc): string {
  const sections = Object.entries(doc.paths as Record<string, Doc>).map(([path, item]) => {
    const op = item.get;
    const codes = Object.entries(op.responses as Record<string, Doc>)
      .map(([code, r]) => `<li><code>${code}</code> ${esc(r.description)}</li>`).join("");
    const lock = op.security.length ? ' <span class="lock">token</span>' : "";
    return `<section id="${esc(op.operationId)}"><h2><span class="verb">GET</span> <code>${
      esc(path)
    }</code>${lock}</h2><p><strong>${esc(op.summary)}.</strong> ${esc(op.description)}</p>${
      paramRows(op.parameters)
    }<ul>${codes}</ul></section>`;
  }).join("\n");
  const toc = Object.entries(doc.paths as Record<string, Doc>).map(([path, item]) =>
    `<li><a href="#${esc(item.get.operationId)}"><code>${esc(path)}</code></a> ${
      esc(item.get.summary)
    }</li>`
  ).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sysmon API ${esc(doc.info.version)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{font:13px ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
.verb{color:#0a6}.lock{font-size:12px;background:#fd8;padding:0 .4em;border-radius:3px}
section{border-top:1px solid #ccc;margin-top:1.5rem}
</style></head><body>
<h1>sysmon API <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}</p>
<p>Routes marked <span class="lock">token</span> need <code>Authorization: Bearer TOKEN</code> when
tokens are configured. Machine-readable: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a>
(OpenAPI ${esc(doc.openapi)}).</p>
<ul>${toc}</ul>
${sections}
</body></html>
`;
}
