import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The example requests of the Care Connect API documentation (the Markdown pages in
 * ../shared/careconnect-api-docs), read at test time so that nothing of the pages is
 * copied here. Three forms carry a request:
 * - a line `GET <url>` (a literal request; `[baseUrl]`, the original server's address or
 *   a bare `/` stand for the base);
 * - a cURL command in an `embedcurl` include (`command="curl -X GET … '<url>'"`);
 * - a search include with a value (`{% include custom/search.<kind>.html … example="…" %}`
 *   or `selected="…"`): the resource type, the parameter (`content`/`name`, or the
 *   include's own name for `search.status`) and that value make `Type?param=value`.
 * Requests still holding a placeholder (`[id]`, `[code]`, `{Id}`, `????`) are templates,
 * not examples, and are left out; so are writes (POST and PUT carry bodies the pages
 * elide).
 * Returns each request relative to the base (`Patient?family=kanfeld`), with the pages
 * that show it.
 */
export function apiDocRequests(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of markdownFiles(root)) {
    const page = relative(root, file);
    for (const raw of requestsIn(readFileSync(file, 'utf8'))) {
      const request = relativeRequest(raw);
      if (request === undefined) continue;
      const pages = out.get(request) ?? [];
      if (!pages.includes(page)) pages.push(page);
      out.set(request, pages);
    }
  }
  return out;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? markdownFiles(path) : e.name.endsWith('.md') ? [path] : [];
  });
}

function requestsIn(text: string): string[] {
  // A request may be broken after the base: `GET [baseUrl]` then `/Type?…` on the next line.
  const joined = text.replace(/(GET\s+\[base\w*\])\s*\n\s*\//g, '$1/');
  const found: string[] = [];
  for (const m of joined.matchAll(/\bGET\s+((?:\[base\w*\]|https?:\/\/|\/)[^\s<'"]*)/g)) found.push(m[1]!);
  for (const m of joined.matchAll(/command="(curl [^"]*)"/g)) {
    if (!/-X\s+GET\b/.test(m[1]!) && /-X\s+\w+/.test(m[1]!)) continue;
    const url = /'((?:https?:\/\/|\[base\w*\])[^']*)'/.exec(m[1]!);
    if (url) found.push(url[1]!);
  }
  for (const m of joined.matchAll(/\{%\s*include\s+custom\/search\.([\w.]+)\.html([\s\S]*?)%\}/g)) {
    const attrs = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    const value = attrs.example ?? attrs.selected;
    if (value === undefined) continue;
    const type = attrs.resource ?? attrs.content;
    const param = attrs.resource ? attrs.content : (attrs.name ?? (m[1]!.startsWith('status') ? 'status' : undefined));
    if (type && param) found.push(`/${type}?${param}=${value}`);
  }
  return found;
}

/** A request relative to the base, or undefined for a template or a request without a path. */
function relativeRequest(url: string): string | undefined {
  let r = url
    .replace(/&#95;/g, '_')
    .replace(/&amp;/g, '&')
    .replace(/\\/g, '/')
    .replace(/^\[base\w*\]/, '')
    .replace(/^https?:\/\/[^/]+(\/[^/]*)*?\/STU3(?=\/|$)/, '')
    .replace(/^\/+/, '')
    .replace(/^STU3\//, '')
    .replace(/[.?]$/, '');
  if (!r || /[[\]{}]|\?\?/.test(r)) return undefined;
  r = r.replace(/ /g, '%20');
  return r;
}
