import { definitionOfType, type BaseDefinition, type ElementDefinition } from './base.js';

/**
 * A snapshot under construction: the base definition's snapshot, to which a profile's
 * constraints are applied element by element. Elements the base does not list (the
 * children of a data type, e.g. `Patient.identifier.system`) are added from the data
 * type's definition when a constraint reaches them, and slices are added after the
 * sliced element's children and earlier slices, as FHIR orders them.
 * https://hl7.org/fhir/STU3/profiling.html#snapshot
 */
export class SnapshotBuilder {
  readonly elements: ElementDefinition[];
  /** Each element as first added, before any constraint: the template of a new slice. */
  private readonly origins = new Map<string, ElementDefinition>();

  constructor(base: BaseDefinition) {
    this.elements = base.snapshot.element.map(clone);
    for (const e of this.elements) this.origins.set(e.id, clone(e));
  }

  get root(): ElementDefinition {
    return this.elements[0]!;
  }

  /** The element with this id (`Patient.identifier:nhsNumber.system`), added (with what leads to it) when missing. */
  ensure(id: string): ElementDefinition {
    const [rootName, ...segments] = id.split('.');
    if (rootName !== this.root.id) throw new Error(`${id} is not an element of ${this.root.id}`);
    let current = this.root.id;
    for (const segment of segments) {
      const colon = segment.indexOf(':');
      const name = colon < 0 ? segment : segment.slice(0, colon);
      const slice = colon < 0 ? undefined : segment.slice(colon + 1);
      const childId = `${current}.${name}`;
      if (this.indexOf(childId) < 0) {
        this.expand(current);
        if (this.indexOf(childId) < 0) throw new Error(`${childId} is not an element`);
      }
      current = slice === undefined ? childId : this.ensureSlice(childId, slice);
    }
    return this.elements[this.indexOf(current)]!;
  }

  has(id: string): boolean {
    return this.indexOf(id) >= 0;
  }

  private indexOf(id: string): number {
    return this.elements.findIndex((e) => e.id === id);
  }

  /** Adds the children of an element from the definition of its (single) type. */
  private expand(id: string): void {
    const index = this.indexOf(id);
    const element = this.elements[index]!;
    if (this.elements[index + 1]?.id.startsWith(`${id}.`)) return;
    if (element.contentReference) throw new Error(`${id} refers to ${element.contentReference}: constraining inside it is not supported`);
    const codes = new Set((element.type ?? []).map((t) => t.code));
    if (codes.size !== 1) throw new Error(`${id} has ${codes.size} types: restrict it to one before constraining its children`);
    const definition = definitionOfType(element.type![0]!);
    const [typeRoot, ...children] = definition.snapshot.element;
    const added = children.map((c) => {
      const rest = c.path.slice(typeRoot!.path.length);
      const e = clone(c);
      e.id = `${id}${rest}`;
      e.path = `${element.path}${rest}`;
      return e;
    });
    this.elements.splice(index + 1, 0, ...added);
    for (const e of added) this.origins.set(e.id, clone(e));
  }

  /** The slice `name` of the sliced element, added after the element's children and its earlier slices. */
  private ensureSlice(slicedId: string, name: string): string {
    const id = `${slicedId}:${name}`;
    if (this.indexOf(id) >= 0) return id;
    const sliced = this.elements[this.indexOf(slicedId)]!;
    if (!sliced.slicing) throw new Error(`${slicedId} is not sliced, so it cannot have the slice ${name}`);
    let end = this.indexOf(slicedId) + 1;
    while (end < this.elements.length && (this.elements[end]!.id.startsWith(`${slicedId}.`) || this.elements[end]!.id.startsWith(`${slicedId}:`))) end++;
    const slice = clone(this.origins.get(slicedId)!);
    delete slice.slicing;
    slice.id = id;
    slice.sliceName = name;
    this.elements.splice(end, 0, slice);
    this.origins.set(id, clone(slice));
    return id;
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}
