import { afterEach, describe, expect, it, vi } from 'vitest';
import { validate, version } from 'uuid';
import { timeOrderedId } from './ids.js';

describe('timeOrderedId', () => {
  afterEach(() => vi.restoreAllMocks());

  it('makes valid version-7 UUIDs, each new, that sort in the order they were made', () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedId());
    for (const id of ids.slice(0, 100)) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('begins with the time in milliseconds', () => {
    // Later than any id made before in this process (an earlier time would be held back by the order kept).
    const now = Date.UTC(2030, 0, 1, 3, 0, 0);
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const id = timeOrderedId();
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('keeps the order within one millisecond, and when the clock goes back', () => {
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(Date.UTC(2031, 0, 1));
    const same = Array.from({ length: 1000 }, () => timeOrderedId());
    now.mockReturnValue(Date.UTC(2030, 6, 1));
    const back = Array.from({ length: 10 }, () => timeOrderedId());
    const ids = [...same, ...back];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
