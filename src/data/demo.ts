import type { Logger } from '../interactions/types.js';
import type { Store } from '../store/store.js';
import { documentedResources } from './documented.js';
import { generatePopulation } from './generate/population.js';
import type { PatientFacts } from './generate/patient.js';
import { Ids, type Res } from './generate/types.js';
import { writeResources } from './write.js';

/** The demo population's seed: the demo data set is the same on every start. */
export const DEMO_SEED = 2017;

/**
 * Patient ids of the generated demo patients, by generation order: 2-4 and 1001-1096, the
 * ids the API documentation's examples use, and 1173, whose discharge letters its
 * DocumentReference page searches for. 1173 is the ninth patient generated, the first
 * with a hospital stay (and so a discharge letter); 1006 comes last instead.
 */
export const DEMO_PATIENT_IDS: readonly string[] = ['2', '3', '4', ...Array.from({ length: 96 }, (_, i) => String(1001 + i))].map((id) => (id === '1006' ? '1173' : id)).concat('1006');

/** Demo patients the documentation names: it finds patient 1010 as `Patient?family=Delgado&birthdate=1942-01-30`. */
export const DEMO_PATIENT_FACTS: Readonly<Record<string, PatientFacts>> = { '1010': { family: 'Delgado', birthDate: '1942-01-30' } };

/** The demo data set: the documented examples (Bernie Kanfeld, her practice and GP) and 100 generated patients. */
export function* demoResources(): Generator<Res> {
  yield* generatePopulation({ patients: DEMO_PATIENT_IDS.length, seed: DEMO_SEED, idPrefix: '', patientIds: DEMO_PATIENT_IDS, patientFacts: DEMO_PATIENT_FACTS });
  yield* documentedResources(new Ids(''));
}

/**
 * Loads the demo data set (about 100 patients with full records). `createServer`
 * calls this on the first start against an empty store; `ccri seed --reset` too.
 */
export async function loadDemoData(store: Store, log?: Pick<Logger, 'info'>): Promise<number> {
  const n = await writeResources(store, demoResources());
  log?.info({ resources: n }, 'Loaded the demo data set');
  return n;
}
