import { required, type Rule, type TypeRef } from '../../dsl.js';
import { ccValueSet } from '../../urls.js';

/** A CodeableConcept value bound (required) to a Care Connect value set; present unless `min` says otherwise. */
export function coded(valueSet: string, min = 1): Rule {
  return { min, type: [{ code: 'CodeableConcept' }], binding: required(ccValueSet(valueSet)) };
}

/** A code value bound (required) to a Care Connect value set. */
export function codeValue(valueSet: string, min = 1): Rule {
  return { min, type: [{ code: 'code' }], binding: required(ccValueSet(valueSet)) };
}

/** A value of one primitive or data type. */
export function typed(code: string, min?: number): Rule {
  const type: TypeRef[] = [{ code }];
  return min === undefined ? { type } : { min, type };
}
