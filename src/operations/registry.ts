import type { OperationDef, OperationRegistry } from '../interactions/types.js';
import { DEFINITION as EVERYTHING, everything } from './everything.js';
import { exportFile, exportStatus, GROUP_DEFINITION, kickOff, PATIENT_DEFINITION, SYSTEM_DEFINITION } from './export.js';
import { DEFINITION as DOCUMENT, document } from './document.js';
import { META_ADD_DEFINITION, META_DEFINITION, META_DELETE_DEFINITION, meta, metaAdd, metaDelete } from './meta.js';
import {
  codeSystemValidateCode,
  CS_VALIDATE_DEFINITION,
  expand,
  EXPAND_DEFINITION,
  lookup,
  LOOKUP_DEFINITION,
  TRANSLATE_DEFINITION,
  translateCode,
  valueSetValidateCode,
  VS_VALIDATE_DEFINITION,
} from './terminology.js';
import { DEFINITION as VALIDATE, validate } from './validate.js';

const OPERATIONS: OperationDef[] = [
  { name: '$validate', levels: ['type', 'instance'], methods: ['GET', 'POST'], affectsState: false, definition: VALIDATE, interaction: validate },
  { name: '$meta', levels: ['system', 'type', 'instance'], methods: ['GET', 'POST'], affectsState: false, definition: META_DEFINITION, interaction: meta },
  { name: '$meta-add', levels: ['instance'], methods: ['POST'], affectsState: true, definition: META_ADD_DEFINITION, interaction: metaAdd },
  { name: '$meta-delete', levels: ['instance'], methods: ['POST'], affectsState: true, definition: META_DELETE_DEFINITION, interaction: metaDelete },
  { name: '$document', levels: ['instance'], types: ['Composition'], methods: ['GET', 'POST'], affectsState: false, definition: DOCUMENT, interaction: document },
  { name: '$expand', levels: ['type', 'instance'], types: ['ValueSet'], methods: ['GET', 'POST'], affectsState: false, definition: EXPAND_DEFINITION, interaction: expand },
  { name: '$validate-code', levels: ['type', 'instance'], types: ['ValueSet'], methods: ['GET', 'POST'], affectsState: false, definition: VS_VALIDATE_DEFINITION, interaction: valueSetValidateCode },
  { name: '$validate-code', levels: ['type', 'instance'], types: ['CodeSystem'], methods: ['GET', 'POST'], affectsState: false, definition: CS_VALIDATE_DEFINITION, interaction: codeSystemValidateCode },
  { name: '$lookup', levels: ['type', 'instance'], types: ['CodeSystem'], methods: ['GET', 'POST'], affectsState: false, definition: LOOKUP_DEFINITION, interaction: lookup },
  { name: '$translate', levels: ['type', 'instance'], types: ['ConceptMap'], methods: ['GET', 'POST'], affectsState: false, definition: TRANSLATE_DEFINITION, interaction: translateCode },
  { name: '$export', levels: ['system'], methods: ['GET', 'POST'], affectsState: false, definition: SYSTEM_DEFINITION, interaction: kickOff },
  { name: '$export', levels: ['type'], types: ['Patient'], methods: ['GET', 'POST'], affectsState: false, definition: PATIENT_DEFINITION, interaction: kickOff },
  { name: '$export', levels: ['instance'], types: ['Group'], methods: ['GET', 'POST'], affectsState: false, definition: GROUP_DEFINITION, interaction: kickOff },
  // Handed out by $export, not declared: the status URL and the files.
  { name: '$export-poll-status', levels: ['system'], methods: ['GET', 'DELETE'], affectsState: false, interaction: exportStatus },
  { name: '$export-file', levels: ['system'], methods: ['GET'], affectsState: false, interaction: exportFile },
  { name: '$everything', levels: ['type', 'instance'], types: ['Patient'], methods: ['GET', 'POST'], affectsState: false, definition: EVERYTHING, interaction: everything },
];

/**
 * The operations the server supports, one file each. This is the one registry: the
 * router, bundle entries (which go through the same router), the CapabilityStatement
 * and the OperationDefinitions served all read it. https://hl7.org/fhir/STU3/operations.html
 */
export function operationRegistry(operations: readonly OperationDef[] = OPERATIONS): OperationRegistry {
  const byName = new Map<string, OperationDef[]>();
  for (const op of operations) {
    if (!byName.has(op.name)) byName.set(op.name, []);
    byName.get(op.name)!.push(op);
  }
  const ids = new Set<string>();
  for (const op of operations) {
    if (!op.definition) continue;
    if (ids.has(op.definition.id)) throw new Error(`Two operations share the OperationDefinition id ${op.definition.id}`);
    ids.add(op.definition.id);
  }
  return {
    find: (name, level, type) => byName.get(name)?.find((op) => op.levels.includes(level) && (level === 'system' || !op.types || (type !== undefined && op.types.includes(type)))),
    named: (name) => byName.get(name) ?? [],
    all: () => operations,
  };
}
