import { describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/shared.js';
import { runCases, type CaseResult } from './hl7-cases.js';

/**
 * The 46 STU3 cases of the HL7 validator test suite (../shared/fhir-test-cases-r3),
 * compared with the reference (Java) validator's outcomes on error versus no error.
 * A case with a profile is run twice, as the suite does: without the profile (the
 * "base" outcome) and against it (the "profile" outcome); 57 runs in all. A case
 * agrees when all its runs agree.
 *
 * The disagreements are listed here and in docs/validation.md ("HL7 test cases:
 * disagreements"), each with its reason: a new disagreement, or a listed one that
 * starts agreeing, fails the test.
 */

/** Disagreements with this server's settings (unknown extensions are warnings). */
const DISAGREEMENTS: Record<string, string> = {
  'discriminator-type-example-pattern-good [base]': 'SNOMED CT display check (no SNOMED CT here)',
  'discriminator-type-example-pattern-good [profile]': 'SNOMED CT display check',
  'discriminator-type-example-value-good [base]': 'SNOMED CT display check',
  'discriminator-type-example-value-good [profile]': 'SNOMED CT display check',
  'discriminator-type-example-value-bad [base]': 'SNOMED CT display check',
  'zib-slicing [base]': 'SNOMED CT code existence (the code is a well-formed SCTID)',
  'zib-slicing [profile]': 'SNOMED CT code existence',
  'sd-bundle-r3 [base]': 'the reference validator used R5 definitions of elementdefinition-maxValueSet',
  'r3-sd-sd [base]': 'the reference validator used R5 definitions of elementdefinition-maxValueSet',
  'extension-version-restriction-range-r3 [base]': 'unknown extension: a warning here (its R5 definition is not in the suite)',
  'extension-version-restriction-range-ctxt-r3 [base]': 'unknown extension: a warning here',
  'nl/nl-core-patient-01 [base]': 'unknown extension: a warning here',
  'vs-no-system [base]': 'the input file is missing from the suite',
};

/** Disagreements with unknown extensions made errors, as the reference validator is configured by default. */
const STRICT_DISAGREEMENTS: Record<string, string> = {
  'discriminator-type-example-pattern-good [base]': 'SNOMED CT display check',
  'discriminator-type-example-pattern-good [profile]': 'SNOMED CT display check',
  'discriminator-type-example-value-good [base]': 'SNOMED CT display check',
  'discriminator-type-example-value-good [profile]': 'SNOMED CT display check',
  'discriminator-type-example-value-bad [base]': 'SNOMED CT display check',
  'zib-slicing [base]': 'SNOMED CT code existence',
  'zib-slicing [profile]': 'SNOMED CT code existence',
  'sd-bundle-r3 [base]': 'R5 definitions of elementdefinition-maxValueSet',
  'standards-status-r3 [base]': 'an R4 core extension, which the reference validator knows and this server does not',
  'vs-no-system [base]': 'the input file is missing from the suite',
};

function summarise(results: CaseResult[]) {
  const disagreements = results.filter((r) => !r.agrees).map((r) => `${r.name} [${r.run}]`).sort();
  const cases = new Map<string, boolean>();
  for (const r of results) cases.set(r.name, (cases.get(r.name) ?? true) && r.agrees);
  const agreeingCases = [...cases.values()].filter(Boolean).length;
  return { disagreements, runs: results.length, agreeingRuns: results.length - disagreements.length, cases: cases.size, agreeingCases };
}

const dir = sharedPath('fhir-test-cases-r3');

describe.skipIf(!dir)('HL7 validator test cases (STU3)', () => {
  it.each([
    ['warning', DISAGREEMENTS],
    ['error', STRICT_DISAGREEMENTS],
  ] as const)('unknown extensions as %s: the disagreements are exactly the listed ones', (unknownExtensions, listed) => {
    const results = runCases(dir!, unknownExtensions);
    const s = summarise(results);
    const table = results.map((r) => `${r.agrees ? 'agree   ' : 'DISAGREE'} ${r.name} [${r.run}]: reference ${r.expectedErrors} error(s), ours ${r.actualErrors}`).join('\n');
    console.log(`HL7 cases, unknown extensions as ${unknownExtensions}: ${s.agreeingCases}/${s.cases} cases (${((100 * s.agreeingCases) / s.cases).toFixed(1)}%), ${s.agreeingRuns}/${s.runs} runs (${((100 * s.agreeingRuns) / s.runs).toFixed(1)}%)\n${table}`);
    expect(s.cases).toBe(46);
    expect(s.runs).toBe(57);
    expect(s.disagreements).toEqual(Object.keys(listed).sort());
  });

  it('errors found where the reference validator finds them are reported with locations', () => {
    const results = runCases(dir!);
    const bad = results.find((r) => r.name === 'valueset-slicing-meds-bad' && r.run === 'profile')!;
    expect(bad.messages.some((m) => /slice 'slice1' .* at most 1/.test(m))).toBe(true);
  });
});
