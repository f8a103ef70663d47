import { XMLValidator } from 'fast-xml-parser';
import { fhirModel } from './definitions/model.js';
import type { FhirModel, PropertyInfo, TypeInfo } from './definitions/model.js';
import { decimalText, plainNumber } from './decimal.js';
import { badRequest } from './outcome.js';

/**
 * The JSON form of a resource -> FHIR STU3 XML. https://hl7.org/fhir/STU3/xml.html
 *
 * Elements are written in definition order, primitives as `<x value="..."/>` with their
 * `_x` id and extensions, resources inside `contained` and the like wrapped in their
 * type's element, and the narrative div copied as it is (with the XHTML namespace).
 */

export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

type Json = Record<string, unknown>;

function fail(message: string, path: string): never {
  throw badRequest(`${message} (at ${path})`, path, 'structure');
}

const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;',
};
const ATTR_SPECIAL = /[&<>"\u0000-\u001f]/;
const ATTR_SPECIAL_ALL = /[&<>"\u0000-\u001f]/g;

/**
 * Escapes text for a double-quoted attribute value; tabs and line breaks become character
 * references so that they survive attribute-value normalisation. Throws a 400 FhirError for
 * characters XML cannot carry at all (controls other than tab, CR and LF).
 */
export function escapeAttrText(value: string, path = ''): string {
  if (!ATTR_SPECIAL.test(value)) return value;
  return value.replace(ATTR_SPECIAL_ALL, (c) => ATTR_ESCAPES[c] ?? fail(`The character U+${c.charCodeAt(0).toString(16).padStart(4, '0')} cannot be written in XML`, path));
}

const INDENTS: string[] = [];
function indent(depth: number): string {
  return (INDENTS[depth] ??= '\n' + '  '.repeat(depth));
}

/** The start tag of a narrative div (attributes quoted either way), and whether it is empty. */
const DIV_START = /^<div((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/;

interface Child {
  order: number;
  name: string;
  prop: PropertyInfo;
}

/** Serialises a resource (its JSON form) as XML; `pretty` indents it. */
export function serializeXmlResource(resource: Json, pretty = false): string {
  const w = new XmlWriter(fhirModel(), pretty);
  w.parts.push('<?xml version="1.0" encoding="UTF-8"?>');
  w.resource(resource, 0, '', true);
  if (pretty) w.parts.push('\n');
  return w.parts.join('');
}

/** The names of each type's XML attributes (id, url). */
const attrNames = new WeakMap<TypeInfo, string[]>();

class XmlWriter {
  readonly parts: string[] = [];
  private readonly extensionType: TypeInfo;

  constructor(
    private readonly model: FhirModel,
    private readonly pretty: boolean,
  ) {
    this.extensionType = model.type('Extension')!;
  }

  private nl(depth: number): string {
    return this.pretty ? indent(depth) : '';
  }

  resource(res: unknown, depth: number, parentPath: string, root: boolean): void {
    if (typeof res !== 'object' || res === null || Array.isArray(res)) return fail('A resource must be an object', parentPath || 'resource');
    const rt = (res as Json).resourceType;
    const path = parentPath ? `${parentPath}.${String(rt)}` : String(rt);
    if (typeof rt !== 'string' || !this.model.isResourceType(rt)) return fail(`'${String(rt)}' is not a FHIR resource type`, parentPath || 'resourceType');
    this.element(rt, res as Json, this.model.type(rt)!, depth, path, root ? ` xmlns="${FHIR_NS}"` : '', true);
  }

  /** Writes `<name attrs>children</name>` for an object of type `type`. */
  private element(name: string, obj: Json, type: TypeInfo, depth: number, path: string, extra: string, isResource: boolean): void {
    let start = this.nl(depth) + '<' + name + extra;
    for (const attr of this.attributesOf(type)) {
      const v = obj[attr];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') fail(`'${attr}' must be a string`, `${path}.${attr}`);
      start += ` ${attr}="${escapeAttrText(v as string, `${path}.${attr}`)}"`;
    }
    const at = this.parts.length;
    this.parts.push(start + '>');
    for (const child of this.childrenOf(obj, type, path, isResource)) this.property(obj, child.name, child.prop, depth + 1, path);
    if (this.parts.length === at + 1) this.parts[at] = start + '/>';
    else this.parts.push(this.nl(depth), '</', name, '>');
  }

  private attributesOf(type: TypeInfo): string[] {
    let names = attrNames.get(type);
    if (!names) {
      names = type.elements.filter((e) => e.xmlAttr).map((e) => e.name);
      attrNames.set(type, names);
    }
    return names;
  }

  /** The object's element properties in definition order (`_x` folded into `x`). */
  private childrenOf(obj: Json, type: TypeInfo, path: string, isResource: boolean): Child[] {
    const out: Child[] = [];
    let sorted = true;
    let last = -1;
    for (const key in obj) {
      if (obj[key] === undefined) continue;
      let name = key;
      if (key.charCodeAt(0) === 95 /* _ */) {
        name = key.slice(1);
        if (obj[name] !== undefined) continue; // written with `name`
      }
      const prop = type.properties.get(name);
      if (!prop) {
        if ((key === 'resourceType' && isResource) || key === 'fhir_comments') continue;
        return fail(`Unknown element '${key}'`, `${path}.${key}`);
      }
      if (name !== key && !this.model.isPrimitive(prop.type)) fail(`'${key}' is only allowed for primitive elements`, `${path}.${key}`);
      if (prop.element.xmlAttr) continue;
      const order = type.order.get(prop.element.name)!;
      if (order < last) sorted = false;
      last = order;
      out.push({ order, name, prop });
    }
    if (!sorted) out.sort((a, b) => a.order - b.order);
    for (let i = 1; i < out.length; i++) {
      if (out[i]!.order === out[i - 1]!.order) fail(`More than one type given for the choice element '${out[i]!.prop.element.name}[x]'`, `${path}.${out[i]!.name}`);
    }
    return out;
  }

  private property(obj: Json, name: string, prop: PropertyInfo, depth: number, parentPath: string): void {
    const path = `${parentPath}.${name}`;
    const array = prop.element.array;
    const type = prop.type;
    const value = obj[name];
    if (type === 'xhtml') return this.div(value, depth, path);
    if (this.model.isPrimitive(type)) {
      const ext = obj[`_${name}`];
      if (!array) {
        if (Array.isArray(value) || Array.isArray(ext)) fail(`'${name}' must not be an array`, path);
        this.primitive(name, type, obj, name, value, ext, depth, path);
        return;
      }
      const values = value ?? [];
      const exts = ext ?? [];
      if (!Array.isArray(values) || !Array.isArray(exts)) return fail(`'${name}' must be an array`, path);
      const n = Math.max(values.length, exts.length);
      for (let i = 0; i < n; i++) this.primitive(name, type, values, i, values[i], exts[i], depth, `${path}[${i}]`);
      return;
    }
    const items = array ? value : [value];
    if (!Array.isArray(items)) return fail(`'${name}' must be an array`, path);
    if (!array && Array.isArray(value)) fail(`'${name}' must not be an array`, path);
    const childType = type === 'Resource' ? undefined : this.model.type(type);
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      const itemPath = array ? `${path}[${i}]` : path;
      if (type === 'Resource') {
        this.parts.push(this.nl(depth), '<', name, '>');
        this.resource(item, depth + 1, itemPath, false);
        this.parts.push(this.nl(depth), '</', name, '>');
      } else {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) fail(`'${name}' must be an object`, itemPath);
        this.element(name, item as Json, childType!, depth, itemPath, '', false);
      }
    }
  }

  /** `<name id=".." value="..">extensions</name>` from a value and its `_name` part. */
  private primitive(name: string, type: string, holder: object, key: string | number, value: unknown, ext: unknown, depth: number, path: string): void {
    const hasValue = value !== undefined && value !== null;
    const hasExt = ext !== undefined && ext !== null;
    if (!hasValue && !hasExt) return;
    let start = this.nl(depth) + '<' + name;
    let extensions: unknown[] | undefined;
    if (hasExt) {
      if (typeof ext !== 'object' || Array.isArray(ext)) return fail(`'_${name}' must be an object`, path);
      for (const k in ext) {
        const v = (ext as Json)[k];
        if (k === 'id') {
          if (typeof v !== 'string') fail(`'id' must be a string`, `${path}.id`);
          start += ` id="${escapeAttrText(v as string, `${path}.id`)}"`;
        } else if (k === 'extension') {
          if (!Array.isArray(v)) fail(`'extension' must be an array`, `${path}.extension`);
          extensions = v as unknown[];
        } else if (k !== 'fhir_comments' && v !== undefined) {
          fail(`Unknown element '${k}'`, `${path}.${k}`);
        }
      }
    }
    if (hasValue) start += ` value="${this.valueText(type, holder, key, value, path)}"`;
    if (!extensions?.length) {
      this.parts.push(start + '/>');
      return;
    }
    this.parts.push(start + '>');
    for (let i = 0; i < extensions.length; i++) {
      const x: unknown = extensions[i];
      if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(`An extension must be an object`, `${path}.extension[${i}]`);
      this.element('extension', x as Json, this.extensionType, depth + 1, `${path}.extension[${i}]`, '', false);
    }
    this.parts.push(this.nl(depth), '</', name, '>');
  }

  private valueText(type: string, holder: object, key: string | number, value: unknown, path: string): string {
    switch (typeof value) {
      case 'string':
        return escapeAttrText(value, path);
      case 'number':
        if (!Number.isFinite(value)) return fail(`'${value}' is not a valid ${type}`, path);
        return type === 'decimal' ? decimalText(holder, key, value) : plainNumber(value);
      case 'boolean':
        return value ? 'true' : 'false';
      default:
        return fail(`A ${type} value must be a ${this.model.primitives.get(type)?.jsonType ?? 'string'}`, path);
    }
  }

  /** The narrative div: already XHTML text; it must carry the XHTML namespace. */
  private div(value: unknown, depth: number, path: string): void {
    if (typeof value !== 'string') return fail('The narrative div must be a string', path);
    const m = DIV_START.exec(value);
    if (!m) return fail('The narrative must be a single <div> element', path);
    checkDivMarkup(value, path);
    let div = value;
    if (!/\sxmlns\s*=/.test(m[1]!)) div = `<div xmlns="${XHTML_NS}"` + value.slice(4);
    this.parts.push(this.nl(depth), div);
  }
}

/**
 * The div text goes into the output as it is, so it must be exactly one well-formed element:
 * anything else (a second element, a DOCTYPE) would change the document around it.
 */
function checkDivMarkup(value: string, path: string): void {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) fail('The narrative div holds a character that XML does not allow', path);
  const valid = XMLValidator.validate(value);
  if (valid !== true) fail(`The narrative div is not well-formed XHTML: ${valid.err.msg}`, path);
  let depth = 0;
  let i = 0;
  const n = value.length;
  while (i < n) {
    const lt = value.indexOf('<', i);
    if (lt === -1) break;
    if (depth === 0 && lt > 0) fail('The narrative div must be a single element', path);
    let end: number;
    if (value.startsWith('<!--', lt)) end = value.indexOf('-->', lt + 4) + 2;
    else if (value.startsWith('<![CDATA[', lt)) end = value.indexOf(']]>', lt + 9) + 2;
    else if (value.charCodeAt(lt + 1) === 63 /* ? */) end = value.indexOf('?>', lt + 2) + 1;
    else if (value.charCodeAt(lt + 1) === 33 /* ! */) return fail('The narrative div may not hold declarations', path);
    else if (value.charCodeAt(lt + 1) === 47 /* / */) {
      end = value.indexOf('>', lt);
      depth--;
    } else {
      end = tagEnd(value, lt);
      if (value.charCodeAt(end - 1) !== 47) depth++;
    }
    if (end < lt) return fail('The narrative div is not well-formed XHTML', path);
    i = end + 1;
  }
  if (depth !== 0 || /\S/.test(value.slice(i))) fail('The narrative div must be a single element', path);
}

/** The index of the `>` closing the start tag at `lt`, skipping quoted attribute values. */
function tagEnd(s: string, lt: number): number {
  for (let i = lt + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 62) return i;
    if (c === 34 || c === 39) {
      i = s.indexOf(s[i]!, i + 1);
      if (i === -1) return -1;
    }
  }
  return -1;
}
