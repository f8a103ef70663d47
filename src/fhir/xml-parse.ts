import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { fhirModel } from './definitions/model.js';
import type { FhirModel, TypeInfo, PropertyInfo } from './definitions/model.js';
import { flagExact, rememberExact } from './decimal.js';
import { badRequest } from './outcome.js';
import { escapeAttrText, FHIR_NS, XHTML_NS } from './xml-write.js';

/**
 * FHIR STU3 XML -> the JS form `parseJson` gives. https://hl7.org/fhir/STU3/xml.html
 *
 * fast-xml-parser checks well-formedness and builds an ordered node tree (entities
 * left undecoded, the narrative div kept as raw text); one walk guided by the model
 * then builds the JSON form.
 */

/** Deepest element nesting accepted (the narrative div's content is not counted). */
export const MAX_DEPTH = 100;

/** An ordered node: `{ [tag]: children, ':@'?: attributes }` or `{ '#text': text }`. */
type XNode = Record<string, unknown>;
type Attrs = Record<string, string>;

const ATTRS = ':@';
const TEXT = '#text';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  stopNodes: ['*.div'],
  maxNestedTags: MAX_DEPTH,
  jPath: false, // callbacks would get a matcher rather than a path string built for every tag
});

/** Namespace bindings in scope. */
interface Scope {
  dflt: string | undefined;
  prefixes: Record<string, string> | undefined;
}

interface Ctx {
  model: FhirModel;
  /** Count of decimals read so far; a change tells a caller its subtree holds one. */
  decimals: number;
}

function fail(message: string, path?: string): never {
  throw badRequest(path ? `${message} (at ${path})` : message, path, 'structure');
}

/** Parses FHIR XML text into the JSON form of the resource; any problem is a 400 FhirError. */
export function parseXmlResource(text: string): Record<string, unknown> {
  if (typeof text !== 'string') fail('The XML body is not text');
  if (text.includes('<!DOCTYPE') || text.includes('<!ENTITY')) {
    fail('The XML has a DOCTYPE or entity declaration, which is not allowed');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) fail(`The body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let nodes: XNode[];
  try {
    nodes = parser.parse(text) as XNode[];
  } catch (err) {
    const msg = (err as Error).message;
    if (/nested tags/i.test(msg)) fail(`The XML is nested more than ${MAX_DEPTH} levels deep`);
    return fail(`The body is not well-formed XML: ${msg}`);
  }
  const ctx: Ctx = { model: fhirModel(), decimals: 0 };
  const root = singleElement(nodes, 'The XML document');
  return parseResource(root, { dflt: undefined, prefixes: undefined }, ctx, '', 1);
}

/** The one element among `nodes` (whitespace text aside). */
function singleElement(nodes: XNode[], where: string, path?: string): XNode {
  let found: XNode | undefined;
  for (const node of nodes) {
    const text = node[TEXT];
    if (text !== undefined) {
      if (/\S/.test(String(text))) fail(`${where} has unexpected text`, path);
      continue;
    }
    if (found) fail(`${where} must hold exactly one resource element`, path);
    found = node;
  }
  return found ?? fail(`${where} must hold a resource element`, path);
}

function tagOf(node: XNode): string {
  for (const key in node) if (key !== ATTRS) return key;
  return '';
}

/** The scope inside an element carrying `attrs`. */
function scopeOf(attrs: Attrs | undefined, parent: Scope): Scope {
  if (!attrs) return parent;
  let scope = parent;
  for (const key in attrs) {
    if (key === 'xmlns') {
      if (scope === parent) scope = { ...parent };
      scope.dflt = decodeAttr(attrs[key]!, key);
    } else if (key.startsWith('xmlns:')) {
      if (scope === parent) scope = { ...parent };
      scope.prefixes = { ...scope.prefixes, [key.slice(6)]: decodeAttr(attrs[key]!, key) };
    }
  }
  return scope;
}

/** Splits a tag into its namespace and local name. */
function resolve(tag: string, scope: Scope, path: string): { ns: string | undefined; local: string } {
  const colon = tag.indexOf(':');
  if (colon === -1) return { ns: scope.dflt, local: tag };
  const prefix = tag.slice(0, colon);
  const ns = scope.prefixes && Object.hasOwn(scope.prefixes, prefix) ? scope.prefixes[prefix] : undefined;
  if (ns === undefined) fail(`The namespace prefix '${prefix}' is not declared`, path);
  return { ns, local: tag.slice(colon + 1) };
}

function parseResource(node: XNode, parentScope: Scope, ctx: Ctx, parentPath: string, depth: number): Record<string, unknown> {
  const tag = tagOf(node);
  const attrs = node[ATTRS] as Attrs | undefined;
  const scope = scopeOf(attrs, parentScope);
  const { ns, local } = resolve(tag, scope, parentPath || tag);
  const path = parentPath ? `${parentPath}.${local}` : local;
  if (ns !== FHIR_NS) fail(`The element '${local}' is not in the FHIR namespace ${FHIR_NS} (found ${ns ? `'${ns}'` : 'no namespace'})`, path);
  if (!ctx.model.isResourceType(local)) fail(`'${local}' is not a FHIR resource type`, path);
  const obj: Record<string, unknown> = { resourceType: local };
  return parseComplex(node[tag] as XNode[], attrs, ctx.model.type(local)!, path, scope, ctx, depth, obj);
}

/** An element's values while its siblings are read. */
interface Entry {
  name: string;
  prop: PropertyInfo;
  primitive: boolean;
  /** Values (arrays: one per occurrence, null where only an extension was given). */
  values: unknown[];
  /** `_name` parts (id and extension of primitives), null where none. */
  exts: (Record<string, unknown> | null)[] | undefined;
  /** The decimal text of a single (non-array) value. */
  exact?: string;
  /** A decimal lies somewhere in this entry. */
  flagged: boolean;
}

interface ElementChild {
  child: XNode;
  tag: string;
  childAttrs: Attrs | undefined;
  childScope: Scope;
  ns: string | undefined;
  local: string;
}

/** The element children of a node, namespaces resolved; text other than whitespace is an error. */
function* elementChildren(children: XNode[], scope: Scope, path: string): Generator<ElementChild> {
  for (const child of children) {
    const tag = tagOf(child);
    if (tag === TEXT) {
      if (/\S/.test(String(child[TEXT]))) fail('Unexpected text content', path);
      continue;
    }
    const childAttrs = child[ATTRS] as Attrs | undefined;
    const childScope = scopeOf(childAttrs, scope);
    const { ns, local } = resolve(tag, childScope, path);
    yield { child, tag, childAttrs, childScope, ns, local };
  }
}

function parseComplex(
  children: XNode[],
  attrs: Attrs | undefined,
  type: TypeInfo,
  path: string,
  scope: Scope,
  ctx: Ctx,
  depth: number,
  obj: Record<string, unknown> = {},
): Record<string, unknown> {
  if (attrs) {
    for (const key in attrs) {
      if (key === 'xmlns' || key.includes(':')) continue; // namespace declarations and foreign attributes
      const prop = type.properties.get(key);
      if (!prop?.element.xmlAttr) fail(`Unknown attribute '${key}'`, `${path}.${key}`);
      obj[key] = decodeAttr(attrs[key]!, `${path}.${key}`);
    }
  }
  const entries = new Map<string, Entry>();
  let choices: Set<string> | undefined;
  const before = ctx.decimals;
  for (const { child, tag, childAttrs, childScope, ns, local } of elementChildren(children, scope, path)) {
    const prop = type.properties.get(local);
    if (!prop || prop.element.xmlAttr) fail(`Unknown element '${local}'`, `${path}.${local}`);
    const isXhtml = prop.type === 'xhtml';
    if (ns !== (isXhtml ? XHTML_NS : FHIR_NS)) {
      fail(`The element '${local}' is not in the ${isXhtml ? 'XHTML' : 'FHIR'} namespace (found ${ns ? `'${ns}'` : 'no namespace'})`, `${path}.${local}`);
    }
    let entry = entries.get(local);
    if (!entry) {
      if (prop.element.choice) {
        choices ??= new Set();
        if (choices.has(prop.element.name)) fail(`More than one type given for the choice element '${prop.element.name}[x]'`, `${path}.${local}`);
        choices.add(prop.element.name);
      }
      entry = { name: local, prop, primitive: ctx.model.isPrimitive(prop.type), values: [], exts: undefined, flagged: false };
      entries.set(local, entry);
    } else if (!prop.element.array) {
      fail(`The element '${local}' may only appear once`, `${path}.${local}`);
    }
    const array = prop.element.array;
    const index = entry.values.length;
    const childPath = array ? `${path}.${local}[${index}]` : `${path}.${local}`;
    const childNodes = child[tag] as XNode[];
    const mark = ctx.decimals;
    if (depth >= MAX_DEPTH) fail(`The XML is nested more than ${MAX_DEPTH} levels deep`, childPath);
    if (isXhtml) {
      entry.values.push(parseDiv(childNodes, childAttrs, childPath));
    } else if (entry.primitive) {
      parsePrimitive(entry, childNodes, childAttrs, childPath, childScope, ctx, depth + 1);
    } else if (prop.type === 'Resource') {
      for (const key in childAttrs) if (key !== 'xmlns' && !key.includes(':')) fail(`Unknown attribute '${key}'`, `${childPath}.${key}`);
      const inner = singleElement(childNodes, `The element '${local}'`, childPath);
      entry.values.push(parseResource(inner, childScope, ctx, childPath, depth + 1));
    } else {
      const childType = ctx.model.type(prop.type) ?? fail(`No definition for type '${prop.type}'`, childPath);
      entry.values.push(parseComplex(childNodes, childAttrs, childType, childPath, childScope, ctx, depth + 1));
    }
    if (ctx.decimals !== mark) entry.flagged = true;
  }
  for (const entry of entries.values()) {
    const name = entry.name;
    const array = entry.prop.element.array;
    if (!entry.primitive) {
      obj[name] = array ? entry.values : entry.values[0];
      if (entry.flagged && array) flagExact(entry.values);
      continue;
    }
    const values = entry.values;
    const exts = entry.exts;
    let hasValue = false;
    for (const v of values) if (v !== null) { hasValue = true; break; }
    if (array) {
      if (hasValue) {
        obj[name] = values;
        if (entry.flagged) flagExact(values);
      }
      if (exts) {
        while (exts.length < values.length) exts.push(null);
        obj[`_${name}`] = exts;
        if (entry.flagged) flagExact(exts);
      }
    } else {
      if (hasValue) {
        obj[name] = values[0];
        if (entry.exact !== undefined) rememberExact(obj, name, entry.exact);
      }
      if (exts) obj[`_${name}`] = exts[0];
    }
  }
  if (ctx.decimals !== before) flagExact(obj);
  return obj;
}

function parsePrimitive(entry: Entry, children: XNode[], attrs: Attrs | undefined, path: string, scope: Scope, ctx: Ctx, depth: number): void {
  let text: string | undefined;
  let id: string | undefined;
  if (attrs) {
    for (const key in attrs) {
      if (key === 'value') text = decodeAttr(attrs[key]!, path);
      else if (key === 'id') id = decodeAttr(attrs[key]!, `${path}.id`);
      else if (key !== 'xmlns' && !key.includes(':')) fail(`Unknown attribute '${key}'`, `${path}.${key}`);
    }
  }
  let extension: unknown[] | undefined;
  const before = ctx.decimals;
  for (const { child, tag, childAttrs, childScope, ns, local } of elementChildren(children, scope, path)) {
    if (local !== 'extension') fail(`Unknown element '${local}'`, `${path}.${local}`);
    if (ns !== FHIR_NS) fail(`The element '${local}' is not in the FHIR namespace`, `${path}.${local}`);
    extension ??= [];
    const extType = ctx.model.type('Extension')!;
    extension.push(parseComplex(child[tag] as XNode[], childAttrs, extType, `${path}.extension[${extension.length}]`, childScope, ctx, depth + 1));
  }
  if (text === undefined && !extension) fail(`The element '${entry.name}' has no value attribute and no extensions`, path);
  const index = entry.values.length;
  if (text === undefined) {
    entry.values.push(null);
  } else {
    const value = primitiveValue(text, entry.prop.type, path, ctx);
    entry.values.push(value);
    if (entry.prop.type === 'decimal') {
      ctx.decimals++;
      if (entry.prop.element.array) rememberExact(entry.values, index, text);
      else entry.exact = text;
    }
  }
  if (id !== undefined || extension) {
    const ext: Record<string, unknown> = {};
    if (id !== undefined) ext.id = id;
    if (extension) ext.extension = extension;
    if (ctx.decimals !== before) {
      flagExact(ext);
      if (extension) flagExact(extension);
    }
    entry.exts ??= [];
    while (entry.exts.length < index) entry.exts.push(null);
    entry.exts.push(ext);
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

function primitiveValue(text: string, type: string, path: string, ctx: Ctx): unknown {
  if (text === '') fail('A value attribute may not be empty', path);
  const jsonType = ctx.model.primitives.get(type)?.jsonType ?? 'string';
  if (jsonType === 'string') return text;
  if (jsonType === 'boolean') {
    if (text === 'true') return true;
    if (text === 'false') return false;
    return fail(`'${text}' is not a valid boolean`, path);
  }
  const n = Number(text);
  if (!JSON_NUMBER.test(text) || !Number.isFinite(n)) fail(`'${text}' is not a valid ${type}`, path);
  return n;
}

/** The narrative div, as JSON carries it: its outer XML with the XHTML namespace on it. */
function parseDiv(children: XNode[], attrs: Attrs | undefined, path: string): string {
  let start = '<div';
  let hasXmlns = false;
  if (attrs) {
    for (const key in attrs) {
      if (key === 'xmlns') hasXmlns = true;
      start += ` ${key}="${escapeAttrText(decodeAttr(attrs[key]!, path))}"`;
    }
  }
  if (!hasXmlns) start = `<div xmlns="${XHTML_NS}"` + start.slice(4);
  let inner = '';
  for (const child of children) {
    const text = child[TEXT];
    // The div is a stop node: its content arrives as one raw text node. A prefixed div is not.
    if (text === undefined) fail('The narrative div must be written as <div xmlns="http://www.w3.org/1999/xhtml">', path);
    inner += String(text);
  }
  checkEntities(inner, path);
  return inner === '' ? `${start}/>` : `${start}>${inner}</div>`;
}

const ENTITY_REF = /&([^;&\s<]*)(;?)/g;
const PREDEFINED = new Map([['lt', '<'], ['gt', '>'], ['amp', '&'], ['quot', '"'], ['apos', "'"]]);

/** Only the predefined entities, valid character references and XML characters may appear in the div's markup. */
function checkEntities(markup: string, path: string): void {
  if (CONTROL.test(markup)) fail('The narrative holds a character that XML does not allow', path);
  if (!markup.includes('&')) return;
  ENTITY_REF.lastIndex = 0;
  for (let m = ENTITY_REF.exec(markup); m; m = ENTITY_REF.exec(markup)) entityValue(m[1]!, m[2]!, path);
}

function entityValue(name: string, semicolon: string, path: string): string {
  if (!semicolon) fail(`An '&' that does not start an entity or character reference`, path);
  const predefined = PREDEFINED.get(name);
  if (predefined !== undefined) return predefined;
  if (name.charCodeAt(0) === 35 /* # */) {
    const code = name[1] === 'x' ? /^#x[0-9a-fA-F]+$/.test(name) ? parseInt(name.slice(2), 16) : NaN : /^#[0-9]+$/.test(name) ? parseInt(name.slice(1), 10) : NaN;
    if (isXmlChar(code)) return String.fromCodePoint(code);
    return fail(`'&${name};' is not a valid character reference`, path);
  }
  return fail(`The entity '&${name};' is not defined (only the five predefined XML entities and character references are allowed)`, path);
}

function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const ATTR_SPECIAL = /[&<\u0000-\u001f]/;
const ATTR_BAD = /[<\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** An attribute value as the XML spec reads it: whitespace normalised, references decoded. */
function decodeAttr(raw: string, path: string): string {
  if (!ATTR_SPECIAL.test(raw)) return raw;
  if (ATTR_BAD.test(raw)) fail(`An attribute value holds a character that XML does not allow there`, path);
  const normalised = raw.replace(/[\t\n\r]/g, ' ');
  if (!normalised.includes('&')) return normalised;
  ENTITY_REF.lastIndex = 0;
  return normalised.replace(ENTITY_REF, (_m, name: string, semicolon: string) => entityValue(name, semicolon, path));
}
