import type { OperationDef, OperationRegistry } from '../interactions/types.js';
import { OPERATION_DEFINITION as VALIDATE, validate } from './validate.js';

const OPERATIONS: OperationDef[] = [
  { name: '$validate', levels: ['type', 'instance'], methods: ['GET', 'POST'], affectsState: false, definition: VALIDATE, interaction: validate },
];

/**
 * The operations the server supports, one file each. This is the one registry: the
 * router, bundle entries (which go through the same router) and the
 * CapabilityStatement all read it. https://hl7.org/fhir/STU3/operations.html
 */
export function operationRegistry(): OperationRegistry {
  return new Map(OPERATIONS.map((op) => [op.name, op]));
}
