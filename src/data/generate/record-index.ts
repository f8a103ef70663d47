import type { Res } from './types.js';

/** A generated resource read as plain data (the post-passes read what the generators wrote). */
export type Obj = Record<string, any>;

/** One patient's record, by type and by reference, for the passes that read it back. */
export class RecordIndex {
  private readonly byType = new Map<string, Obj[]>();
  private readonly byRef = new Map<string, Obj>();

  constructor(resources: readonly Res[]) {
    for (const r of resources) {
      let list = this.byType.get(r.resourceType);
      if (!list) this.byType.set(r.resourceType, (list = []));
      list.push(r);
      this.byRef.set(`${r.resourceType}/${r.id}`, r);
    }
  }

  all(type: string): Obj[] {
    return this.byType.get(type) ?? [];
  }

  get(reference: string): Obj | undefined {
    return this.byRef.get(reference);
  }
}
