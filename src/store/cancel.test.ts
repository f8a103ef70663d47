import { describe, expect, it } from 'vitest';
import { Cancellation, currentSignal, uncancellable, withCancellation } from './cancel.js';

describe('Cancellation', () => {
  it('runs each listener once, in order, when aborted; a listener removed or added after is not run', () => {
    const c = new Cancellation();
    const calls: string[] = [];
    c.onAbort(() => calls.push('a'));
    const stop = c.onAbort(() => calls.push('b'));
    c.onAbort(() => calls.push('c'));
    stop();
    expect(c.aborted).toBe(false);
    c.abort();
    c.abort();
    c.onAbort(() => calls.push('late'));
    expect(c.aborted).toBe(true);
    expect(calls).toEqual(['a', 'c']);
  });

  it('is the current request cancellation through awaits, and none inside uncancellable work', async () => {
    const c = new Cancellation();
    const seen = await withCancellation(c, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return { inside: currentSignal(), shared: uncancellable(() => currentSignal()) };
    });
    expect(seen.inside).toBe(c);
    expect(seen.shared).toBeUndefined();
    expect(currentSignal()).toBeUndefined();
  });

  it('keeps the work begun inside uncancellable free of the request, across its awaits, and the request its own after it', async () => {
    const c = new Cancellation();
    let later: Promise<Cancellation | undefined> | undefined;
    const after = await withCancellation(c, async () => {
      // Shared work, started by this request and outliving it (a group commit).
      later = uncancellable(async () => {
        await new Promise((r) => setTimeout(r, 5));
        await Promise.resolve();
        return currentSignal();
      });
      await new Promise((r) => setTimeout(r, 1));
      return currentSignal();
    });
    expect(after).toBe(c);
    expect(await later).toBeUndefined();
  });
});
