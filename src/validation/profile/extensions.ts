import type { ElementDef, FhirModel } from '../../fhir/definitions/model.js';
import { quote } from '../context.js';
import type { Scope, Session } from './session.js';
import { isRecord } from './values.js';
import { validateAgainst } from './walk-profile.js';

/**
 * Extensions (https://hl7.org/fhir/STU3/extensibility.html): the URL must name an
 * extension definition the server knows (otherwise a warning, or an error for a
 * modifierExtension), the extension must be used where its context allows
 * (StructureDefinition.contextType + context), and it must conform to its
 * definition (value types, bindings, the sub-extension slices of a complex
 * extension), which is checked as a profile.
 */

/**
 * Checks one extension; false when its definition is unknown (its content is then
 * checked against the STU3 data types only: see Session.opaqueDepth).
 */
export function checkExtension(s: Session, ext: Record<string, unknown>, element: ElementDef, location: string, scope: Scope): boolean {
  const url = ext.url;
  if (typeof url !== 'string') return true; // reported by the structural walk
  const inExtension = element.path === 'Extension.extension';
  if (Array.isArray(ext.extension)) for (const child of ext.extension) if (isRecord(child)) s.parentExtension.set(child, url);
  const modifier = element.name === 'modifierExtension';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) {
    // Relative URLs name the sub-extensions of a complex extension, checked by its definition.
    if (!inExtension) s.report('error', 'extension', location, `the extension url '${quote(url)}' must be absolute`);
    return true;
  }
  const sd = s.engine.source.structureDefinition(url);
  if (!sd) {
    const severity = modifier ? 'error' : s.unknownExtension;
    const why = modifier ? ': a modifier extension that is not understood must be rejected' : '; its content was checked against the STU3 data types only, not against its definition or the code systems of its codes';
    s.report(severity, 'extension', location, `unknown extension ${url}${why}`);
    return false;
  }
  if (sd.type !== 'Extension') {
    s.report('error', 'extension', location, `${url} is a StructureDefinition of ${String(sd.type)}, not an extension definition`);
    return true;
  }
  const isModifier = extensionIsModifier(sd);
  if (isModifier !== undefined && isModifier !== modifier) {
    s.report('error', 'extension', location, isModifier ? `${url} is a modifier extension and must be in modifierExtension` : `${url} is not a modifier extension and must not be in modifierExtension`);
  }
  checkContext(s, sd, url, element, location, scope, ext);
  const plan = s.engine.plan(url);
  if (plan) validateAgainst(s, plan, ext, 'Extension', location, scope);
  return true;
}

function extensionIsModifier(sd: Record<string, unknown>): boolean | undefined {
  const first = (sd.snapshot as { element?: Array<{ path?: string; isModifier?: boolean }> } | undefined)?.element?.[0];
  if (!first || first.path !== 'Extension') return undefined;
  return first.isModifier === true;
}

/** Where an extension is: the resource path of the element holding it, the model element, and the type. */
interface Place {
  resourcePath: string;
  elementPath: string | undefined;
  typeNames: string[];
  root: boolean;
  /** The resource is a canonical (conformance) resource: it has a url (the R4+ contexts CanonicalResource, MetadataResource). */
  canonical: boolean;
}

const CANONICAL = new Set(['CanonicalResource', 'MetadataResource']);

function checkContext(s: Session, sd: Record<string, unknown>, url: string, element: ElementDef, location: string, scope: Scope, ext: object): void {
  // Some definitions write several contexts in one string ("Element,Resource").
  const contexts = (Array.isArray(sd.context) ? (sd.context as unknown[]) : [])
    .filter((c): c is string => typeof c === 'string')
    .flatMap((c) => c.split(','))
    .map((c) => c.trim())
    .filter(Boolean);
  if (!contexts.length) return;
  const contextType = sd.contextType;
  const place = placeOf(s.engine.model, element, location, scope);
  // A value inside an ElementDefinition (fixed[x], pattern[x], example ...) stands for the element it defines.
  if (/^ElementDefinition\.(?:fixed|pattern|defaultValue|minValue|maxValue|example\.value)/.test(place.elementPath ?? '')) return;
  const parentUrl = s.parentExtension.get(ext);
  const ok = contexts.some((c) => {
    if (c === '*' || c === 'Any' || c === 'Element' || c === place.resourcePath || c === place.elementPath) return true;
    // The type holding the extension: a data type (Identifier, Quantity for an Age ...) or a backbone element's path
    // (Questionnaire.item for an item nested at any depth).
    if (place.typeNames.includes(c)) return true;
    if (contextType === 'extension') return c === parentUrl;
    if (place.root && (c === 'Resource' || c === 'DomainResource' || (CANONICAL.has(c) && place.canonical))) return true;
    return c === 'BackboneElement' && place.elementPath?.includes('.') === true;
  });
  if (!ok) {
    s.report('error', 'extension', location, `the extension ${url} is not allowed here (on ${place.resourcePath}); its definition allows it on ${contextType === 'extension' ? 'extension ' : ''}${contexts.join(', ')}`);
  }
}

const places = new Map<string, Omit<Place, 'root' | 'canonical'>>();

const placesByLocation = new Map<string, Place>();

function placeOf(model: FhirModel, element: ElementDef, location: string, scope: Scope): Place {
  const type = String(scope.resource.resourceType);
  const raw = `${type}${location.slice(scope.location.length)}`;
  let place = placesByLocation.get(raw);
  if (!place) {
    place = computePlace(model, element, location, scope, type);
    if (placesByLocation.size < 10_000) placesByLocation.set(raw, place);
  }
  return place;
}

function computePlace(model: FhirModel, element: ElementDef, location: string, scope: Scope, type: string): Place {
  const relative = location.slice(scope.location.length).replace(/\[\d+\]/g, '').replace(/`/g, '');
  const segments = relative.split('.').filter(Boolean).map((seg) => (seg.startsWith('_') ? seg.slice(1) : seg));
  segments.pop(); // extension / modifierExtension
  const resourcePath = [type, ...segments].join('.');
  let known = places.get(resourcePath);
  if (!known) {
    const holderType = element.path.slice(0, element.path.lastIndexOf('.'));
    const def = resolve(model, type, segments);
    const typeNames: string[] = [];
    for (let t = model.type(holderType); t; t = t.base ? model.type(t.base) : undefined) typeNames.push(t.name);
    known = { resourcePath, elementPath: def?.path, typeNames };
    if (places.size < 10_000) places.set(resourcePath, known);
  }
  return { ...known, root: segments.length === 0, canonical: model.property(type, 'url') !== undefined };
}

/** The model element at a path of names below a type (choice names resolved), or undefined. */
function resolve(model: FhirModel, type: string, names: string[]): ElementDef | undefined {
  let types = [type];
  let def: ElementDef | undefined;
  for (const name of names) {
    def = undefined;
    for (const t of types) {
      const prop = model.property(t, name);
      if (prop) {
        def = prop.element;
        types = [prop.type];
        break;
      }
    }
    if (!def) return undefined;
  }
  return def;
}
