import { EVERYTHING } from '../../search/access.js';
import { parseSearch } from '../../search/parse/query.js';
import { searchRegistry } from '../../search/registry.js';
import type { Store } from '../../store/store.js';
import type { PatientChoice } from './pages.js';

/** The patients the picker and the launch page offer: found by name (STU3 Patient `name` search), 20 at most. */
export async function findPatients(store: Store, name: string): Promise<PatientChoice[]> {
  const query: Array<[string, string]> = name.trim() ? [['name', name.trim().slice(0, 100)]] : [];
  const { plan } = parseSearch(['Patient'], query, searchRegistry(), { defaultCount: 20, maxCount: 20, strict: true });
  plan.total = false;
  const page = await store.reader(EVERYTHING).search(plan);
  return page.rows.flatMap((row) => (row.json ? [choice(row.id, JSON.parse(row.json) as PatientJson)] : []));
}

/** The patient with this id, if the store holds one (not deleted). */
export async function findPatient(store: Store, id: string): Promise<PatientChoice | undefined> {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return undefined;
  const found = await store.reader(EVERYTHING).read('Patient', id);
  return found?.json ? choice(id, JSON.parse(found.json) as PatientJson) : undefined;
}

interface PatientJson {
  name?: Array<{ text?: string; family?: string; given?: string[]; prefix?: string[]; use?: string }>;
  birthDate?: string;
}

function choice(id: string, p: PatientJson): PatientChoice {
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const text = name?.text ?? [...(name?.prefix ?? []), ...(name?.given ?? []), name?.family].filter(Boolean).join(' ');
  return { id, name: text || `Patient ${id}`, ...(p.birthDate ? { birthDate: p.birthDate } : {}) };
}
