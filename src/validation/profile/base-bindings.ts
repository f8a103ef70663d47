import { fhirModel, type FhirModel } from '../../fhir/definitions/model.js';
import type { ConformanceSource } from '../../fhir/conformance.js';
import { isComplete } from './codes.js';
import { engineFor } from './engine.js';
import { packageSource } from '../../fhir/definitions/package-source.js';

/** A required binding of the STU3 base definitions, and whether writes are held to it. */
export interface BaseBinding {
  /** The element (`Patient.gender`). */
  path: string;
  valueSet: string;
  /** The server can expand the value set completely, so a code outside it is refused (400) on every write. */
  enforced: boolean;
}

/**
 * Every required binding of the STU3 base definitions (resources and data types), and
 * whether the server holds writes to it: only those whose value set it can expand
 * completely (not MIME types, not SNOMED CT filters). For docs/validation.md and its test.
 * https://hl7.org/fhir/STU3/terminologies.html#strength
 */
export function baseRequiredBindings(source: ConformanceSource = packageSource(), model: FhirModel = fhirModel()): BaseBinding[] {
  const terminology = engineFor(source, model).terminology;
  const out: BaseBinding[] = [];
  for (const type of model.types.values()) {
    for (const e of type.elements) {
      const b = e.binding;
      if (b?.strength !== 'required' || !b.valueSet) continue;
      const exp = terminology.expansion(b.valueSet);
      out.push({ path: e.path, valueSet: b.valueSet, enforced: exp !== undefined && isComplete(exp) });
    }
  }
  return out;
}
