import { afterEach, describe, expect, it } from 'vitest';
import { CopyPacer, SLICE } from './copy-pacer.js';

/**
 * A store of events as the pacer sees it: `commit` appends (on the thread's own connection),
 * `index` copies from a snapshot taken when it starts, as a transaction on another connection
 * would, and `during` runs while a copy is under way.
 */
function fakeTrail() {
  const trail = {
    committed: 0,
    copied: 0,
    copies: 0,
    during: undefined as (() => void) | undefined,
    async index(limit: number): Promise<number> {
      trail.copies++;
      const snapshot = trail.committed;
      await new Promise((r) => setTimeout(r, 5));
      const during = trail.during;
      trail.during = undefined;
      during?.();
      const n = Math.min(limit, snapshot - trail.copied);
      trail.copied += n;
      return n;
    },
  };
  return trail;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

let pacer: CopyPacer | undefined;
afterEach(async () => {
  await pacer?.stop();
  pacer = undefined;
});

describe('the audit copy pacer', () => {
  it('copies events committed while a copy ran, though that copy was short (it counted them as done)', async () => {
    const trail = fakeTrail();
    pacer = new CopyPacer({ index: (n) => trail.index(n), committedElsewhere: () => 0 });
    const p = pacer;
    trail.committed = 3;
    p.committed(3);
    // The next copy is under way when five more events are committed: its snapshot lacks them.
    trail.during = () => {
      trail.committed += 5;
      p.committed(5);
    };
    expect(await until(() => trail.copied === 3 && trail.copies > 0, 2_000)).toBe(true);
    expect(await until(() => trail.copied === 8, 2_000)).toBe(true);
  });

  it("copies the server's thread's events, and a backlog longer than a slice, slice after slice", async () => {
    const trail = fakeTrail();
    let elsewhere = 0;
    pacer = new CopyPacer({ index: (n) => trail.index(n), committedElsewhere: () => elsewhere });
    pacer.start();
    elsewhere = 2 * SLICE + 7;
    trail.committed = elsewhere;
    expect(await until(() => trail.copied === trail.committed, 3_000)).toBe(true);
  });

  it('does not copy while events keep coming (the server is busy), and copies once they stop', async () => {
    const trail = fakeTrail();
    pacer = new CopyPacer({ index: (n) => trail.index(n), committedElsewhere: () => 0 });
    const p = pacer;
    await until(() => trail.copies > 0, 500);
    const before = trail.copies;
    const busy = setInterval(() => {
      trail.committed++;
      p.committed(1);
    }, 20);
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(busy);
    expect(trail.copies).toBe(before);
    expect(await until(() => trail.copied === trail.committed, 2_000)).toBe(true);
  });
});
