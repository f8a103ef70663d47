import type { OperationTable } from '../interactions/route.js';
import { OPERATION_DEFINITION as VALIDATE, validate } from './validate.js';

/**
 * The operations the server supports, one file each, routed by name
 * (`route(method, segments, operations)`) and declared in the CapabilityStatement.
 * https://hl7.org/fhir/STU3/operations.html
 */
export function operationTable(): OperationTable {
  return new Map([['$validate', { interaction: validate, levels: ['type', 'instance'], methods: ['GET', 'POST'] }]]);
}

/** CapabilityStatement.rest.operation entries. */
export const DECLARED_OPERATIONS: Array<{ name: string; definition: string }> = [{ name: 'validate', definition: VALIDATE }];
