/**
 * The STU3 profile validator: base definitions and profiles, bindings, invariants,
 * slicing, extensions, references, NHS numbers. See docs/validation.md.
 */
export { validateResource, validateResourceWith, type ValidateOptions, type ValidationMode } from './validate.js';
export { packageSource, PackageSource } from '../../fhir/definitions/package-source.js';
export { skippedConstraints } from './invariants.js';
export { nhsNumberProblem, NHS_NUMBER_SYSTEM } from './nhs-number.js';
