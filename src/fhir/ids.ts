import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * An id this server makes for what it records: a request's id (when the client sent none)
 * and an AuditEvent's. A UUID of version 7 (RFC 9562): it begins with the time in
 * milliseconds, then a counter within the millisecond, so ids made one after another in this
 * process sort one after another; the rest is random, so that other processes' ids differ.
 *
 * That order is what the database's indexes on them want. Each audit event is copied into
 * the resource tables with its id in the `(type, id)` index and its request id in the token
 * index; random UUIDs (version 4) put every new event on a random page of both, so the copy
 * wrote more pages the larger the trail grew. Time-ordered ones append near where the last
 * one went (docs/benchmarks.md, "Time-ordered ids for the audit's events").
 *
 * The uuid package lays the id out. Its own source of random bytes asks the operating
 * system for 16 bytes at every call (3-4 µs, on the path of every request); they are taken
 * here from a pool filled 4 KB at a time, as node:crypto's randomUUID does for its own. They
 * make ids unique, not secret.
 */
export function timeOrderedId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > msecs) {
    msecs = now;
    // The first of a millisecond starts its counter at a random 31-bit value, as the uuid package does.
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    // Within the same millisecond (or a clock that went back): the next count, the millisecond moved on when it wraps.
    seq = (seq + 1) >>> 0;
    if (seq === 0) msecs++;
  }
  return v7({ msecs, seq, random });
}

let msecs = -Infinity;
let seq = 0;
const pool = new Uint8Array(4096);
let used = pool.length;

function randomBytes16(): Uint8Array {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 16;
  return pool.subarray(used - 16, used);
}
