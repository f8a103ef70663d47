/**
 * The element tree of a StructureDefinition: the flat `snapshot.element` (or
 * `differential.element`) list turned into nodes with children by name and
 * slices in order, re-slices (`a/b`) inside their parent slice. A differential
 * is merged onto the tree of its base profile, which is all the snapshot
 * generation this validator needs: it only checks what a profile says, and the
 * base definitions are checked separately.
 * https://hl7.org/fhir/STU3/elementdefinition.html#slicing,
 * https://hl7.org/fhir/STU3/profiling.html#snapshot
 */

export type ElementJson = Record<string, unknown> & { path?: string; id?: string; sliceName?: string };

export interface RawNode {
  /** The last path segment: `identifier`, `value[x]`, `valueQuantity`. */
  name: string;
  path: string;
  sliceName?: string;
  /** The element's attributes, later definitions overriding earlier ones. */
  el: ElementJson;
  children: Map<string, RawNode>;
  slices: RawNode[];
}

export function newNode(name: string, path: string, sliceName?: string): RawNode {
  const n: RawNode = { name, path, el: {}, children: new Map(), slices: [] };
  if (sliceName !== undefined) n.sliceName = sliceName;
  return n;
}

export function cloneTree(node: RawNode): RawNode {
  const copy: RawNode = { ...node, el: { ...node.el }, children: new Map(), slices: node.slices.map(cloneTree) };
  for (const [k, c] of node.children) copy.children.set(k, cloneTree(c));
  return copy;
}

/** Builds (or, given a base tree, extends) the tree of an element list. */
export function buildTree(elements: ElementJson[], rootType: string, base?: RawNode): RawNode {
  const root = base ? cloneTree(base) : newNode(rootType, rootType);
  /** path -> the slice name in force for elements below it (set by the last slice element met). */
  const context = new Map<string, string>();
  for (const e of elements) {
    if (typeof e.path !== 'string') continue;
    const segments = e.path.split('.');
    if (segments.length === 0) continue;
    const slices = sliceNamesFromId(e, segments) ?? sliceNamesFromContext(segments, e.sliceName, context);
    let node = root;
    for (let i = 1; i < segments.length; i++) {
      let name = segments[i]!;
      let slice = slices[i];
      // Type "slices" of a choice are the choice renamed to one type: value[x]:valueQuantity is valueQuantity.
      if (slice !== undefined && isTypeSlice(name, slice)) {
        name = slice;
        slice = undefined;
      }
      let child = node.children.get(name);
      if (!child) {
        child = newNode(name, segments.slice(0, i + 1).join('.'));
        node.children.set(name, child);
      }
      node = child;
      if (slice !== undefined) node = sliceOf(node, slice);
    }
    // The root is never sliced (SimpleQuantity's snapshot names its root a slice all the same).
    merge(node, e);
    // Elements that follow belong to this slice until another element at this path or above.
    const path = e.path;
    for (const key of [...context.keys()]) if (key === path || key.startsWith(`${path}.`)) context.delete(key);
    if (e.sliceName !== undefined && !isTypeSlice(segments[segments.length - 1]!, e.sliceName)) context.set(path, e.sliceName);
  }
  return root;
}

/** `valueQuantity` as a slice of `value[x]` (or of `valueQuantity` itself) names a type, not a slice. */
function isTypeSlice(name: string, slice: string): boolean {
  if (slice === name) return true;
  if (!name.endsWith('[x]')) return false;
  const base = name.slice(0, -3);
  return slice.length > base.length && slice.startsWith(base) && /^[A-Z]/.test(slice.slice(base.length));
}

/** Slice names per segment from an element id (`Patient.identifier:nhsNumber.system`), when the id agrees with the path. */
function sliceNamesFromId(e: ElementJson, segments: string[]): Array<string | undefined> | undefined {
  if (typeof e.id !== 'string') return undefined;
  const parts = e.id.split('.');
  if (parts.length !== segments.length) return undefined;
  const out: Array<string | undefined> = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const colon = part.indexOf(':');
    const name = colon < 0 ? part : part.slice(0, colon);
    if (name !== segments[i]) return undefined;
    out.push(colon < 0 ? undefined : part.slice(colon + 1));
  }
  // The element's own slice name wins over its id (ids of re-slices vary between tools).
  if (e.sliceName !== undefined) out[segments.length - 1] = e.sliceName;
  return out;
}

function sliceNamesFromContext(segments: string[], sliceName: string | undefined, context: Map<string, string>): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  for (let i = 0; i < segments.length; i++) {
    if (i === segments.length - 1) out.push(sliceName);
    else out.push(context.get(segments.slice(0, i + 1).join('.')));
  }
  return out;
}

/** The slice (or re-slice `a/b`, held inside slice `a`) of an element, created when new. */
function sliceOf(node: RawNode, name: string): RawNode {
  const slash = name.lastIndexOf('/');
  const holder = slash > 0 ? sliceOf(node, name.slice(0, slash)) : node;
  let slice = holder.slices.find((s) => s.sliceName === name);
  if (!slice) {
    slice = newNode(node.name, node.path, name);
    holder.slices.push(slice);
  }
  return slice;
}

function merge(node: RawNode, e: ElementJson): void {
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined) continue;
    if (k === 'constraint' && Array.isArray(v)) {
      const prior = (node.el.constraint as Array<{ key?: string }> | undefined) ?? [];
      const keys = new Set((v as Array<{ key?: string }>).map((c) => c.key));
      node.el.constraint = [...prior.filter((c) => !keys.has(c.key)), ...v];
    } else if (k === 'slicing' && typeof v === 'object' && v !== null) {
      node.el.slicing = { ...((node.el.slicing as object | undefined) ?? {}), ...v };
    } else if (k.startsWith('fixed') || k.startsWith('pattern')) {
      for (const old of Object.keys(node.el)) if (old.startsWith(k.startsWith('fixed') ? 'fixed' : 'pattern')) delete node.el[old];
      node.el[k] = v;
    } else {
      node.el[k] = v;
    }
  }
}
