/** A count and its noun, singular for one: "1 resource", "2 resources". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
