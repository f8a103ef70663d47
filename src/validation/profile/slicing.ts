import type { PlanNode } from './plan-types.js';
import { checkElement, type Item, type WalkState } from './walk-profile.js';

/**
 * Slicing (https://hl7.org/fhir/STU3/profiling.html#slicing): each value of a
 * sliced element is matched to the slices by the discriminators. A value matching
 * two slices is an error; one matching none is an error when the slicing is
 * closed, and with openAtEnd only after every matched value. With `ordered`, the
 * values appear in the order of their slices. Then each slice's values are checked
 * against the slice (its cardinality first, then re-slicing and its own rules).
 */
export function checkSlicing(st: WalkState, items: Item[], node: PlanNode, location: string): void {
  const slicing = node.slicing!;
  const { s, plan } = st;
  const assigned: Item[][] = slicing.slices.map(() => []);
  let sawUnmatched = false;
  let lastSlice = -1;
  for (const item of items) {
    // The slices the value matches; a match by a fixed value, type or profile wins over a weak one
    // (by a binding, or on a discriminator the slice leaves open).
    let matches: number[] = [];
    let best = 0;
    if (item.value !== undefined) {
      slicing.slices.forEach((slice, i) => {
        const m = slice.matches(item.value, item.type, st.env);
        if (m > best) (best = m), (matches = [i]);
        else if (m && m === best) matches.push(i);
      });
    }
    if (matches.length > 1) {
      const names = matches.map((i) => `'${slicing.slices[i]!.node.sliceName}'`).join(' and ');
      s.report('error', 'structure', item.location, `the value matches more than one slice (${names}) of ${node.id} in ${plan.name}`);
    }
    if (matches.length === 0) {
      sawUnmatched = true;
      if (slicing.rules === 'closed') {
        const expected = slicing.slices.map((sl) => `'${sl.node.sliceName}' (${sl.describe})`).join(', ');
        s.report('error', 'structure', item.location, `the value matches none of the slices of ${node.id} in ${plan.name}, and the slicing is closed; the slices are ${expected || 'none'}`);
      }
      continue;
    }
    const index = matches[0]!;
    if (sawUnmatched && slicing.rules === 'openAtEnd') {
      s.report('error', 'structure', item.location, `the slicing of ${node.id} in ${plan.name} is openAtEnd: values that match no slice must come after those of slice '${slicing.slices[index]!.node.sliceName}'`);
    }
    if (slicing.ordered && index < lastSlice) {
      s.report('error', 'structure', item.location, `the slicing of ${node.id} in ${plan.name} is ordered: a value of slice '${slicing.slices[index]!.node.sliceName}' cannot come after one of slice '${slicing.slices[lastSlice]!.node.sliceName}'`);
    }
    lastSlice = Math.max(lastSlice, index);
    assigned[index]!.push(item);
  }
  slicing.slices.forEach((slice, i) => checkElement(st, assigned[i]!, slice.node, location));
}
