import { fhirModel, type FhirModel } from '../../fhir/definitions/model.js';
import type { Issue } from '../../fhir/outcome.js';
import { layered, type ConformanceSource } from '../../fhir/conformance.js';
import { validateStructure } from '../structure.js';
import { baseHook, enterResource, requiredBindingHook } from './base-checks.js';
import { checkBusinessRules } from './business-rules.js';
import { engineFor } from './engine.js';
import { packageSource } from '../../fhir/definitions/package-source.js';
import { checkQuestionnaireResponse } from './questionnaire.js';
import { answerQuestions, MAX_QUESTIONS, type Question, unanswered } from './questions.js';
import type { RemoteTerminology } from '../../terminology/remote.js';
import { Session, type PendingProfile } from './session.js';
import { isRecord } from './values.js';
import { validateAgainst } from './walk-profile.js';

/** The modes of the STU3 Resource-validate operation (https://hl7.org/fhir/STU3/resource-operations.html#validate). */
export type ValidationMode = 'create' | 'update' | 'delete';

export interface ValidateOptions {
  /** Profiles to validate against besides those the resource claims in meta.profile. */
  profiles?: string[];
  /** Where StructureDefinitions, ValueSets and CodeSystems are found (the STU3 package is always consulted last). */
  source: ConformanceSource;
  mode?: ValidationMode;
  /** The FHIRPath location of the resource (default: its type). */
  path?: string;
  model?: FhirModel;
  /**
   * Severity of an extension whose definition is unknown (default warning; a
   * modifierExtension is always an error). 'error' is how the HL7 reference
   * validator is configured by default.
   */
  unknownExtensions?: 'warning' | 'error';
  /** Looks up resources a resource refers to by canonical URL or reference (e.g. a QuestionnaireResponse's Questionnaire). */
  resolve?: (reference: string) => Record<string, unknown> | undefined;
}

/**
 * Validates a resource (in its FHIR JSON form) against the STU3 base definitions
 * and against every profile it claims in `meta.profile` or that is asked for, and
 * returns the issues (none when it conforms). It never throws.
 *
 * Base: the structural checks of {@link validateStructure} (shape, cardinality,
 * primitives), then on the same walk the bindings, invariants, reference targets,
 * extensions, codes and NHS numbers (base-checks.ts). Profiles: compiled once into
 * plans (compile.ts) and followed over the resource (walk-profile.ts).
 * https://hl7.org/fhir/STU3/validation.html
 */
export function validateResource(resource: unknown, options: ValidateOptions): Issue[] {
  const { structural, other } = validateResourceParts(resource, options);
  return dedupe([...structural, ...other]);
}

/**
 * As {@link validateResource}, asking a remote terminology server (when one is given) about
 * the codes this server cannot judge: SNOMED CT and the other code systems it does not hold,
 * value sets defined by their filters, value sets it does not know (questions.ts).
 */
export async function validateResourceWith(resource: unknown, options: ValidateOptions, remote: RemoteTerminology | undefined): Promise<Issue[]> {
  const { structural, other } = await validateResourcePartsWith(resource, options, remote);
  return dedupe([...structural, ...other]);
}

/** The issues of one validation, sorted by what they mean for a write. */
export interface ValidationParts {
  /**
   * What breaks the STU3 base definitions for certain: shape, cardinality, primitives, and
   * codes outside a required binding whose value set the server can expand completely
   * (a 400 on write, whatever the validation setting).
   */
  structural: Issue[];
  /** Everything else (other bindings, invariants, codes, extensions, profiles): a 422 or a warning, as configured. */
  other: Issue[];
  /** Those of `other` that the profiles asked for in `options.profiles` found (not those the resource claims). */
  asked: ReadonlySet<Issue>;
  /** The profiles the resource claims in meta.profile that the server holds. */
  heldClaims: string[];
}

/**
 * As {@link validateResource}, with the issues sorted by what they mean for a write
 * (see {@link ValidationParts}). One walk.
 */
export function validateResourceParts(resource: unknown, options: ValidateOptions): ValidationParts {
  const { parts, questions } = run(resource, options);
  for (const q of questions) {
    for (const i of unanswered([q])) {
      parts.other.push(i);
      if (q.asked) (parts.asked as Set<Issue>).add(i);
    }
  }
  return parts;
}

/** As {@link validateResourceParts}, with the answers of a remote terminology server (when one is given). */
export async function validateResourcePartsWith(resource: unknown, options: ValidateOptions, remote: RemoteTerminology | undefined): Promise<ValidationParts> {
  if (!remote) return validateResourceParts(resource, options);
  const { parts, questions } = run(resource, options);
  for (const { question, issue } of await answerQuestions(questions, remote)) {
    parts.other.push(issue);
    if (question.asked) (parts.asked as Set<Issue>).add(issue);
  }
  return parts;
}

/**
 * Asks a remote terminology server, ahead of time, what validating these resources will ask
 * it, so that the answers are in its cache when they are validated (inside a store
 * transaction, which should not wait on the network). Failures are left for the validation.
 */
export async function askAhead(resources: readonly unknown[], options: (resource: Record<string, unknown>) => ValidateOptions, remote: RemoteTerminology): Promise<void> {
  const questions: Question[] = [];
  for (const r of resources) {
    if (!isRecord(r)) continue;
    questions.push(...run(r, options(r)).questions);
    if (questions.length >= 4 * MAX_QUESTIONS) break;
  }
  if (!questions.length) return;
  try {
    await answerQuestions(questions.slice(0, 4 * MAX_QUESTIONS), remote, 4 * MAX_QUESTIONS);
  } catch {
    // The validation itself will say what went wrong.
  }
}

/** One walk: the issues, and the questions for a terminology server. */
function run(resource: unknown, options: ValidateOptions): { parts: ValidationParts; questions: Question[] } {
  const model = options.model ?? fhirModel();
  const asked = new Set<Issue>();
  const heldClaims: string[] = [];
  if (!isRecord(resource) || typeof resource.resourceType !== 'string' || !model.isResourceType(resource.resourceType)) {
    return { parts: { structural: validateStructure(resource, { ...(options.path ? { path: options.path } : {}), model }), other: [], asked, heldClaims }, questions: [] };
  }
  const engine = engineFor(withPackage(options.source), model);
  const root = options.path ?? resource.resourceType;
  const s = new Session(engine, resource, root, options.unknownExtensions ?? 'warning');
  let structural: Issue[] = [];
  try {
    enterResource(s, resource, root, resource, 0, options.profiles ?? []);
    structural = validateStructure(resource, { path: root, onElement: baseHook(s), model });
    for (const p of s.pending) {
      const start = s.issues.length;
      const asking = s.questions.length;
      runPending(s, p, heldClaims);
      if (!p.claimed && !p.base) {
        for (const i of s.issues.slice(start)) asked.add(i);
        for (const q of s.questions.slice(asking)) q.asked = true;
      }
    }
    checkBusinessRules(s, resource, root, options.mode);
    if (resource.resourceType === 'QuestionnaireResponse') checkQuestionnaireResponse(s, resource, root, options.resolve);
    return { parts: { structural: [...structural, ...s.baseErrors], other: s.issues, asked, heldClaims }, questions: s.questions };
  } catch (err) {
    // Not expected: reported rather than thrown, like the structural validator. What was found
    // before stays, and the failure itself is a structural error: a resource the validator could
    // not finish is refused, never let through with a warning (issue 15, M3).
    const failed: Issue = { severity: 'error', code: 'exception', diagnostics: `The validator failed: ${err instanceof Error ? err.message : String(err)}`, expression: [root] };
    if (!structural.length) {
      try {
        structural = validateStructure(resource, { path: root, model });
      } catch {
        // Reported by `failed`.
      }
    }
    return { parts: { structural: [...structural, ...s.baseErrors, failed], other: s.issues, asked, heldClaims }, questions: [] };
  }
}

/**
 * What a write is refused for (400) whatever the validation setting, without the rest of
 * the validator: the structural checks of {@link validateStructure} and the required
 * bindings of the base definitions whose value sets the server can expand completely
 * (a `status` or `gender` code outside its value set). Errors only.
 * https://hl7.org/fhir/STU3/terminologies.html#strength
 */
export function validateBase(resource: unknown, options: { source?: ConformanceSource; path?: string; model?: FhirModel } = {}): Issue[] {
  const model = options.model ?? fhirModel();
  const path = options.path ? { path: options.path } : {};
  if (!isRecord(resource) || typeof resource.resourceType !== 'string' || !model.isResourceType(resource.resourceType)) {
    return validateStructure(resource, { ...path, model }).filter(isError);
  }
  const engine = engineFor(withPackage(options.source ?? packageSource()), model);
  const s = new Session(engine, resource, options.path ?? resource.resourceType);
  const structural = validateStructure(resource, { ...path, onElement: requiredBindingHook(s), model });
  return [...structural, ...s.baseErrors].filter(isError);
}

function isError(i: Issue): boolean {
  return i.severity === 'error' || i.severity === 'fatal';
}

function runPending(s: Session, p: PendingProfile, heldClaims: string[]): void {
  const type = String(p.scope.resource.resourceType);
  for (const url of p.urls) {
    const plan = s.engine.plan(url);
    if (!plan) {
      if (p.base) continue;
      if (p.claimed) s.report('warning', 'not-found', p.scope.location, `the resource claims conformance to the profile ${url} (meta.profile), which this server does not know, so it was not checked against it`);
      else s.report('error', 'not-found', p.scope.location, `the profile ${url} is not known to this server`);
      continue;
    }
    if (p.claimed && p.scope.depth === 0) heldClaims.push(url);
    if (plan.type !== type) {
      s.report('error', 'invalid', p.scope.location, `the profile ${url} constrains ${plan.type}, so a ${type} cannot conform to it`);
      continue;
    }
    for (const problem of plan.problems) s.report('warning', 'incomplete', p.scope.location, `the profile ${plan.name} was only partly checked: ${problem}`);
    validateAgainst(s, plan, p.scope.resource, type, p.scope.location, p.scope);
  }
}

/** The same issue found twice (e.g. by a profile and its base) is reported once. */
function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}\u0000${i.code}\u0000${i.expression?.[0] ?? ''}\u0000${i.diagnostics}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const withBase = new WeakMap<ConformanceSource, ConformanceSource>();

/** The caller's source with the official STU3 package beneath it (one wrapper per source, so engines are reused). */
function withPackage(source: ConformanceSource): ConformanceSource {
  const pkg = packageSource();
  if (source === pkg) return source;
  let s = withBase.get(source);
  if (!s) {
    s = layered(source, pkg);
    withBase.set(source, s);
  }
  return s;
}
