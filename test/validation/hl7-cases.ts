import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson } from '../../src/fhir/json.js';
import { FhirError } from '../../src/fhir/outcome.js';
import { parseXml } from '../../src/fhir/xml.js';
import { ConformanceIndex } from '../../src/fhir/conformance.js';
import { validateResource } from '../../src/validation/profile/index.js';

/**
 * Runs the HL7 validator test cases (fhir-test-cases, the STU3 ones) with our
 * validator: each case's input, validated with its supporting resources, and
 * again against its profile when it has one. Compared with the reference (Java)
 * validator's outcome on error versus no error.
 */

export interface CaseResult {
  name: string;
  /** Which outcome: base (no profile asked for) or profile. */
  run: 'base' | 'profile';
  expectedErrors: number;
  actualErrors: number;
  agrees: boolean;
  /** The input file is missing from the test-case folder: not run, counted as a disagreement. */
  missing?: true;
  messages: string[];
}

interface ManifestCase {
  name: string;
  file: string;
  supporting?: string[];
  profile?: { source: string; supporting?: string[]; java: string | { errorCount: number } };
  java: string | { errorCount: number };
}

export function loadResource(path: string, lenient = false): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.xml')) return parseXml(text);
  try {
    return parseJson(text) as Record<string, unknown>;
  } catch (err) {
    // Some supporting definitions hold raw control characters in strings (the Java parser accepts them).
    // eslint-disable-next-line no-control-regex
    if (lenient) return parseJson(text.replace(/[\u0000-\u001f]/g, ' ')) as Record<string, unknown>;
    throw err;
  }
}

function expectedErrors(dir: string, java: string | { errorCount: number }): number {
  if (typeof java !== 'string') return java.errorCount;
  const oo = JSON.parse(readFileSync(join(dir, 'outcomes', java), 'utf8')) as { issue?: Array<{ severity: string }> };
  return (oo.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
}

function sourceOf(dir: string, files: string[]): ConformanceIndex {
  const source = new ConformanceIndex();
  for (const f of files) {
    try {
      source.add(loadResource(join(dir, f), true));
    } catch {
      // A supporting resource we cannot read is simply not known.
    }
  }
  return source;
}

export function runCases(dir: string, unknownExtensions: 'warning' | 'error' = 'warning'): CaseResult[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { 'test-cases': ManifestCase[] };
  const out: CaseResult[] = [];
  for (const c of manifest['test-cases']) {
    // The base run knows the supporting resources; the profile run the profile and its own supporting ones too.
    const base = sourceOf(dir, c.supporting ?? []);
    const withProfile = sourceOf(dir, [...(c.supporting ?? []), ...(c.profile?.supporting ?? []), ...(c.profile ? [c.profile.source] : [])]);
    const resources = new Map<string, Record<string, unknown>>();
    for (const f of c.supporting ?? []) {
      try {
        const r = loadResource(join(dir, f), true);
        if (typeof r.url === 'string') resources.set(r.url, r);
      } catch {
        // unreadable: unknown
      }
    }
    let resource: unknown;
    let parseError: string | undefined;
    const missing = !existsSync(join(dir, c.file));
    try {
      resource = loadResource(join(dir, c.file));
    } catch (err) {
      parseError = err instanceof FhirError ? err.message : String(err);
    }
    const runs: Array<['base' | 'profile', ConformanceIndex, string[], string | { errorCount: number }]> = [['base', base, [], c.java]];
    if (c.profile) {
      const url = (loadResource(join(dir, c.profile.source), true).url as string | undefined) ?? '';
      runs.push(['profile', withProfile, [url], c.profile.java]);
    }
    for (const [run, source, profiles, java] of runs) {
      const issues = parseError ? [{ severity: 'error', diagnostics: parseError }] : validateResource(resource, { source, profiles, unknownExtensions, resolve: (ref) => resources.get(ref) });
      const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
      const expected = expectedErrors(dir, java);
      out.push({
        name: c.name,
        run,
        expectedErrors: expected,
        actualErrors: errors.length,
        agrees: !missing && expected > 0 === errors.length > 0,
        ...(missing ? { missing: true as const } : {}),
        messages: issues.map((i) => `${i.severity}: ${i.diagnostics}`),
      });
    }
  }
  return out;
}
