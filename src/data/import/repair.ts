import { validateStructure } from '../../validation/structure.js';

/**
 * Repairs the one kind of structural fault that older or converted data (DSTU2-era
 * exports such as the SMART sample data) commonly has and that can be fixed without
 * losing anything: the wrong JSON shape for an element's cardinality.
 * - a repeating element given as a single value is wrapped in an array
 *   (`"category": "food"` -> `"category": ["food"]`);
 * - a single-valued element given as an array: one item is unwrapped; the value of an
 *   extension with several items becomes one extension per item (same url).
 * Returns the repairs made (as FHIRPath locations); the resource is changed in place.
 */
export function repairCardinality(resource: Record<string, unknown>): string[] {
  const repairs: string[] = [];
  for (let round = 0; round < 3; round++) {
    const issues = validateStructure(resource).filter((i) => i.code === 'structure' && /must (not )?be an array/.test(i.diagnostics));
    if (!issues.length) break;
    let changed = false;
    for (const issue of issues) {
      const path = issue.expression?.[0];
      if (!path) continue;
      const wrap = !/must not be an array/.test(issue.diagnostics);
      if (apply(resource, path, wrap)) {
        repairs.push(path);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return repairs;
}

type Step = { key: string; index?: number };

function parsePath(path: string): Step[] {
  // The first segment is the resource type.
  return path.split('.').slice(1).map((seg) => {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(seg);
    return m ? { key: m[1]!, ...(m[2] !== undefined ? { index: Number(m[2]) } : {}) } : { key: seg };
  });
}

function apply(root: Record<string, unknown>, path: string, wrap: boolean): boolean {
  const steps = parsePath(path);
  const last = steps.pop();
  if (!last || last.index !== undefined) return false;
  let parent: unknown = root;
  let holder: unknown[] | undefined;
  let holderIndex = -1;
  for (const s of steps) {
    if (!parent || typeof parent !== 'object') return false;
    const next = (parent as Record<string, unknown>)[s.key];
    if (s.index !== undefined) {
      if (!Array.isArray(next)) return false;
      holder = next;
      holderIndex = s.index;
      parent = next[s.index];
    } else {
      holder = undefined;
      parent = next;
    }
  }
  if (!parent || typeof parent !== 'object') return false;
  const obj = parent as Record<string, unknown>;
  const value = obj[last.key];
  if (wrap) {
    if (Array.isArray(value) || value === undefined) return false;
    obj[last.key] = [value];
    return true;
  }
  if (!Array.isArray(value)) return false;
  if (value.length === 1) {
    obj[last.key] = value[0];
    return true;
  }
  // An extension's value with several items: one extension per item.
  if (last.key.startsWith('value') && typeof obj.url === 'string' && holder && holderIndex >= 0) {
    const copies = value.map((v) => ({ ...obj, [last.key]: v }));
    holder.splice(holderIndex, 1, ...copies);
    return true;
  }
  return false;
}
