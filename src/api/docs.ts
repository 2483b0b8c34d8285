function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

interface SpecLike {
  info: { title: string; version: string; description?: string };
  paths?: object;
}

interface OperationLike {
  summary?: string;
  tags?: string[];
}

/** A self-contained HTML page listing every route of the OpenAPI spec (no external assets). */
export function docsPage(spec: SpecLike): string {
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(spec.paths ?? {}) as Array<
    [string, Record<string, OperationLike>]
  >) {
    for (const [method, op] of Object.entries(ops)) {
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op?.tags?.join(", ") ?? "")}</td><td>${escapeHtml(op?.summary ?? "")}</td></tr>`,
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(spec.info.title)} API</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
code{background:#f4f4f4;padding:0 .2rem}</style></head>
<body><h1>${escapeHtml(spec.info.title)} ${escapeHtml(spec.info.version)}</h1>
<p>${escapeHtml(spec.info.description ?? "")}</p>
<p>The full specification is at <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Family</th><th>Summary</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table></body></html>`;
}
