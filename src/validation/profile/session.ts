import type { Issue, IssueCode, IssueSeverity } from '../../fhir/outcome.js';
import { MAX_ISSUES } from '../context.js';
import type { Engine } from './engine.js';
import type { Question } from './questions.js';
import { referenceType, isRecord } from './values.js';

/**
 * The state of one validation: where issues go, the resources being validated
 * (the root, and the nested ones met on the way: contained, Bundle entries,
 * Parameters resources), the fullUrls of a Bundle's entries for resolving
 * references, and the profile checks to run once the structural walk is done.
 */

/** A resource met during the walk, and what its elements are evaluated against. */
export interface Scope {
  resource: Record<string, unknown>;
  /** Its FHIRPath location (`Bundle.entry[2].resource`). */
  location: string;
  /** The resource whose `contained` list local references (`#id`) point into, and %resource for invariants. */
  container: Record<string, unknown>;
  /** The walk depth its properties are at (see WalkContext.depth). */
  depth: number;
}

export interface PendingProfile {
  scope: Scope;
  urls: string[];
  /** Profiles claimed in meta.profile (unknown ones are warned about) or asked for by the caller. */
  claimed: boolean;
  /** The base definition of the resource type (quietly skipped when the source lacks it). */
  base?: boolean;
}

export class Session {
  readonly issues: Issue[] = [];
  /**
   * Errors against the base definitions that are as certain as a structural one: a code
   * outside a required binding whose value set the server can expand completely (a 400
   * on write, whatever the validation setting).
   */
  readonly baseErrors: Issue[] = [];
  readonly pending: PendingProfile[] = [];
  /** Codes only a terminology server can judge (questions.ts), asked once the walk is done. */
  readonly questions: Question[] = [];
  /** Bundle entry fullUrl -> resource, for references between entries. */
  readonly entries = new Map<string, Record<string, unknown>>();
  /** A nested extension -> the url of the extension holding it (extension contexts). */
  readonly parentExtension = new WeakMap<object, string>();
  readonly scopes: Scope[] = [];
  /**
   * The walk depth of the unknown extension being walked, if any: its content is checked
   * against the STU3 data types only, not against terminology its (unknown) definition would name.
   */
  opaqueDepth: number | undefined;
  private stopped = false;

  constructor(
    readonly engine: Engine,
    root: Record<string, unknown>,
    rootLocation: string,
    /** Severity of an extension with an unknown definition (modifier extensions: always error). */
    readonly unknownExtension: 'warning' | 'error' = 'warning',
  ) {
    this.scopes.push({ resource: root, location: rootLocation, container: root, depth: 0 });
    this.indexBundle(root);
  }

  /** The innermost resource holding an element at walk depth `depth`. */
  scopeAt(depth: number): Scope {
    while (this.scopes.length > 1 && this.scopes[this.scopes.length - 1]!.depth > depth) this.scopes.pop();
    return this.scopes[this.scopes.length - 1]!;
  }

  /** Reports an issue; `base` puts it with {@link baseErrors}. */
  report(severity: IssueSeverity, code: IssueCode, at: string, message: string, base = false): void {
    if (this.stopped) return;
    const made = this.issue(severity, code, at, message);
    if (this.issues.length + this.baseErrors.length >= MAX_ISSUES) {
      this.stopped = true;
      this.issues.push({ severity: 'error', code: 'too-costly', diagnostics: `More than ${MAX_ISSUES} issues; validation stopped here`, expression: made.expression! });
      return;
    }
    (base ? this.baseErrors : this.issues).push(made);
  }

  /** An issue as {@link report} would report it (not reported). */
  issue(severity: IssueSeverity, code: IssueCode, at: string, message: string): Issue {
    // The walk names a primitive's extensions by their JSON key (`_birthDate`); FHIRPath says `birthDate`.
    const location = at.includes('._') ? at.replace(/\._(?=[A-Za-z])/g, '.') : at;
    return { severity, code, diagnostics: `${location}: ${message}`, expression: [location] };
  }

  /** Notes a question for a terminology server (see questions.ts). */
  ask(question: Question): void {
    if (!this.stopped) this.questions.push(question);
  }

  /** Whether an element at walk depth `depth` is inside an unknown extension (and leaves it when it is not). */
  inOpaque(depth: number): boolean {
    if (this.opaqueDepth !== undefined && depth <= this.opaqueDepth) this.opaqueDepth = undefined;
    return this.opaqueDepth !== undefined;
  }

  /** The fullUrls of a Bundle's entries (references between entries resolve through them). */
  indexBundle(resource: Record<string, unknown>): void {
    if (resource.resourceType !== 'Bundle' || !Array.isArray(resource.entry)) return;
    for (const e of resource.entry) {
      if (isRecord(e) && typeof e.fullUrl === 'string' && isRecord(e.resource)) this.entries.set(e.fullUrl, e.resource);
    }
  }

  /** What a reference points at: the resource when it is contained or in the Bundle, and its type when that can be told. */
  resolve(reference: unknown, container: Record<string, unknown>): { type?: string; resource?: Record<string, unknown> } {
    const ref = isRecord(reference) ? reference.reference : reference;
    if (typeof ref !== 'string') return {};
    let resource: Record<string, unknown> | undefined;
    if (ref.startsWith('#')) {
      const found = Array.isArray(container.contained) ? container.contained.find((c) => isRecord(c) && c.id === ref.slice(1)) : undefined;
      if (isRecord(found)) resource = found;
    } else {
      resource = this.entries.get(ref);
    }
    const type = this.referencedType(ref, container);
    return { ...(type ? { type } : {}), ...(resource ? { resource } : {}) };
  }

  /**
   * The resource type a reference points at, when it can be told without fetching:
   * `Type/id` (relative or absolute), `#id` (contained), a fullUrl in the Bundle.
   */
  referencedType(reference: unknown, container: Record<string, unknown>): string | undefined {
    const ref = isRecord(reference) ? reference.reference : reference;
    if (typeof ref !== 'string') return undefined;
    if (ref.startsWith('#')) {
      const id = ref.slice(1);
      const found = Array.isArray(container.contained) ? container.contained.find((c) => isRecord(c) && c.id === id) : undefined;
      return isRecord(found) && typeof found.resourceType === 'string' ? found.resourceType : undefined;
    }
    const entry = this.entries.get(ref);
    if (entry && typeof entry.resourceType === 'string') return entry.resourceType;
    if (ref.startsWith('urn:')) return undefined;
    return referenceType(ref);
  }
}
