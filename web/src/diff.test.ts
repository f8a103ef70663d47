import { describe, expect, it } from 'vitest';
import { diffLines } from './diff.js';

describe('diffLines', () => {
  it('keeps equal texts whole', () => {
    expect(diffLines('a\nb', 'a\nb').every((l) => l.kind === 'same')).toBe(true);
  });

  it('finds a changed line between unchanged ones', () => {
    expect(diffLines('{\n  "status": "active"\n}', '{\n  "status": "inactive"\n}')).toEqual([
      { kind: 'same', text: '{' },
      { kind: 'removed', text: '  "status": "active"' },
      { kind: 'added', text: '  "status": "inactive"' },
      { kind: 'same', text: '}' },
    ]);
  });

  it('reports insertions and deletions at either end', () => {
    const d = diffLines('x\ny', 'y\nz');
    expect(d).toEqual([
      { kind: 'removed', text: 'x' },
      { kind: 'same', text: 'y' },
      { kind: 'added', text: 'z' },
    ]);
  });

  it('rebuilds both texts from the diff', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f'].join('\n');
    const after = ['a', 'c', 'x', 'd', 'f', 'g'].join('\n');
    const d = diffLines(before, after);
    expect(d.filter((l) => l.kind !== 'added').map((l) => l.text).join('\n')).toBe(before);
    expect(d.filter((l) => l.kind !== 'removed').map((l) => l.text).join('\n')).toBe(after);
    expect(d.filter((l) => l.kind === 'same').length).toBe(4);
  });
});
