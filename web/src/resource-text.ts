import { h } from './dom.js';
import { referencePath } from './format.js';

/**
 * A resource's JSON, indented, with every `reference` a link to the resource it
 * names. Built from nodes, never from HTML strings.
 */
export function jsonView(value: unknown, base: string): HTMLElement {
  const code = h('code', { class: 'ccri-json' });
  write(code, value, '', base, undefined);
  return h('pre', { class: 'ccri-code ccri-resource-text', tabindex: '0', 'aria-label': 'Resource as JSON' }, code);
}

function write(out: HTMLElement, value: unknown, indent: string, base: string, key: string | undefined): void {
  if (Array.isArray(value)) {
    if (!value.length) return void out.append('[]');
    out.append('[\n');
    value.forEach((v, i) => {
      out.append(`${indent}  `);
      write(out, v, `${indent}  `, base, key);
      out.append(i < value.length - 1 ? ',\n' : '\n');
    });
    out.append(`${indent}]`);
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return void out.append('{}');
    out.append('{\n');
    entries.forEach(([k, v], i) => {
      out.append(`${indent}  `, h('span', { class: 'ccri-json__key' }, JSON.stringify(k)), ': ');
      write(out, v, `${indent}  `, base, k);
      out.append(i < entries.length - 1 ? ',\n' : '\n');
    });
    out.append(`${indent}}`);
  } else if (typeof value === 'string') {
    const path = key === 'reference' ? referencePath(value, base) : undefined;
    const text = JSON.stringify(value);
    out.append(path ? h('a', { href: path, class: 'ccri-json__ref', 'data-reference': value }, text) : h('span', { class: 'ccri-json__string' }, text));
  } else {
    out.append(h('span', { class: 'ccri-json__literal' }, JSON.stringify(value)));
  }
}

const XML_REFERENCE = /(<reference\s+value=")([^"]*)(")/g;

/** A resource's XML as the server formats it, with each `<reference value="…">` a link. */
export function xmlView(xml: string, base: string): HTMLElement {
  const code = h('code', { class: 'ccri-xml' });
  let last = 0;
  for (const m of xml.matchAll(XML_REFERENCE)) {
    const start = m.index;
    const value = decodeXml(m[2]!);
    const path = referencePath(value, base);
    if (!path) continue;
    code.append(xml.slice(last, start + m[1]!.length), h('a', { href: path, class: 'ccri-json__ref', 'data-reference': value }, m[2]!));
    last = start + m[1]!.length + m[2]!.length;
  }
  code.append(xml.slice(last));
  return h('pre', { class: 'ccri-code ccri-resource-text', tabindex: '0', 'aria-label': 'Resource as XML' }, code);
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}
