/**
 * Where our Care Connect definitions knowingly differ from the official release
 * (HL7 UK, STU3, release 1, December 2018). The same list, with the same reasons, is in
 * docs/profiles.md under "Known differences from the official definitions";
 * test/profiles/agreement.test.ts fails on any difference not listed here, and on any
 * entry here that no longer matches a difference.
 */

export type Aspect = 'missing' | 'extra' | 'min' | 'max' | 'fixed' | 'binding' | 'slicing' | 'slices' | 'type' | 'codes';

export interface KnownDifference {
  /** The resource's id (the last segment of its canonical URL). */
  resource: string;
  /** The official snapshot element id (absent for terminology). */
  element?: string;
  aspect: Aspect;
  reason: string;
}

const SLOT_MAX =
  "The release's snapshot gives this extension slot 0..*, although the extension's own definition allows at most one (its root is 0..1) and every other slot of the release takes its maximum from its extension. Ours does so here too: 0..1.";

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    resource: 'CareConnect-AllergyIntolerance-1',
    element: 'AllergyIntolerance.code.coding:snomedCT.system',
    aspect: 'fixed',
    reason:
      'The release slices `code.coding` by `system` but leaves the `snomedCT` slice\'s system unfixed (every other `snomedCT` slice fixes it), so no coding could ever be matched to the slice. We fix it to `http://snomed.info/sct`.',
  },
  { resource: 'CareConnect-MedicationStatement-1', element: 'MedicationStatement.extension:changeSummary', aspect: 'max', reason: SLOT_MAX },
  {
    resource: 'CareConnect-MedicationStatement-1',
    element: 'MedicationStatement.dosage.route.coding:snomedCT.extension:snomedCTDescriptionID',
    aspect: 'max',
    reason: SLOT_MAX,
  },
  {
    resource: 'CareConnect-AllergyManifestation-1',
    aspect: 'codes',
    reason:
      'The release includes the NullFlavor codes UNC, ASKU and NI as three `concept =` filters of one include, which FHIR combines with AND (no code equals all three), so its value set holds none of them although its description allows each. We list the three codes.',
  },
  {
    resource: 'CareConnect-VaccineCode-1',
    aspect: 'codes',
    reason:
      'The same fault twice: five `concept in <reference set>` filters in one include (a vaccine would have to be in all five dm+d vaccine reference sets) and three NullFlavor `concept =` filters (NAVU, UNC, UNK) in another. We include each reference set on its own (their union) and list the three codes, as the description intends.',
  },
];

const UNUSED = 'Used by none of the profiles we carry.';

/** Official StructureDefinitions this project does not carry, and why. */
export const NOT_CARRIED: Array<{ resource: string; reason: string }> = [
  {
    resource: 'CareConnect-Medication-Flag-1',
    reason:
      'Not among the profiles in scope. It also binds `CareConnect-MedicationFlag-1`, a value set the release does not contain, and fixes a code system URL (`https://fhir.hl7.org.uk/STU3/CareConnect-MedicationFlag-1`) that names no code system.',
  },
  {
    resource: 'CareConnect-ProblemHeader-Condition-1',
    reason: 'Not among the profiles in scope. Its extensions bind `CareConnect-ProblemSignificance-1` and `CareConnect-ConditionRelationship-1`, value sets the release does not contain.',
  },
  { resource: 'CareConnect-ProblemList-1', reason: 'Not among the profiles in scope (it lists ProblemHeader-Condition entries, which we do not carry either).' },
  {
    resource: 'Extension-CareConnect-RegistrationDetails-1',
    reason: `${UNUSED} It binds \`CareConnect-RegistrationType-1\`, which the release does not contain.`,
  },
  { resource: 'Extension-CareConnect-ActualProblem-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-AllergyCertainty-1', reason: `${UNUSED} It binds \`CareConnect-AllergyCertainty-1\`, which the release does not contain.` },
  { resource: 'Extension-CareConnect-AllergyIntoleranceEndDate-1', reason: `${UNUSED} An earlier form of Extension-CareConnect-AllergyIntoleranceEnd-1 (the end date alone).` },
  { resource: 'Extension-CareConnect-AllergySeverity-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-ConditionRelationship-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-MedicationFlagAssociation-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-PrescribedElsewhere-1', reason: `${UNUSED} It binds \`https://fhir.nhs.uk/STU3/ValueSet/CareConnect-PrescribedElsewhere-1\`, which the release does not contain.` },
  { resource: 'Extension-CareConnect-ProbabilityOfRecurrence-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-ProblemSignificance-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-RelatedClinicalContent-1', reason: UNUSED },
  { resource: 'Extension-CareConnect-RelatedProblemHeader-1', reason: UNUSED },
  {
    resource: 'Extension-CareSettingType-1',
    reason: `${UNUSED} An NHS Digital (\`https://fhir.nhs.uk\`) copy of Extension-CareConnect-CareSettingType-1, bound to a value set outside the release.`,
  },
];
