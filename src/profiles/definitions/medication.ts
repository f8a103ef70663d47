import { refs, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { atLeast, required, slot, uri } from '../dsl.js';
import { ccValueSet, SCT_DESCRIPTION_ID, SNOMED } from '../urls.js';

const descriptionId = { snomedCTDescriptionID: slot(SCT_DESCRIPTION_ID) };

/** CareConnect-Medication-1: dm+d coded medicines and dose forms. */
export const medication = careConnectProfile('Medication', {
  title: 'Care Connect Medication',
  description: 'A medicine, coded from the NHS dictionary of medicines and devices (dm+d) in SNOMED CT.',
  rules: {
    code: { binding: required(ccValueSet('MedicationCode')) },
    'code.coding': { extensions: descriptionId },
    manufacturer: reference('Organization'),
    form: { binding: required(ccValueSet('MedicationForm')) },
    'form.coding': { extensions: descriptionId },
    'form.coding.system': { min: 1, fixed: uri(SNOMED) },
    'form.coding.code': atLeast(1),
    'form.coding.display': atLeast(1),
    'ingredient.item[x]': { type: [{ code: 'CodeableConcept' }, ...refs('core:Substance', 'Medication')] },
    'package.content.item[x]': { type: [{ code: 'CodeableConcept' }, ...refs('Medication')] },
  },
});
