import { describe, expect, it } from 'vitest';
import { Cancellation } from './cancel.js';

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
});
