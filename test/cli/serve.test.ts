import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { linksNameThisMachineOnly } from '../../src/cli/serve.js';
import { CLI, ccri, cliEnv } from '../helpers/cli.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/** `ccri serve` as a user runs it: the banner, a port in use, and stopping on a signal. */

const postgres = await shouldRunPostgres();
const root = mkdtempSync(join(tmpdir(), 'ccri-serve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Serving {
  /** The process id the banner gives, and the one spawned: the server answering is this test's own when they agree. */
  pid: number;
  childPid: number;
  port: number;
  banner: string;
  /** Sends the signal; resolves with the exit code and everything printed. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `ccri serve --port 0` and waits for its banner (the address it is listening on, and its process id). */
function serve(args: string[], env: Record<string, string | undefined> = {}): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--no-demo-data', ...args], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner in 60 s: ${stdout}${stderr}`));
    }, 60_000);
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+) \(process (\d+)\)\nStore: .*\n/.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve({
        pid: Number(m[2]),
        childPid: child.pid!,
        port: Number(m[1]),
        banner: stdout,
        stop: async (signal) => {
          child.kill(signal);
          const code = await exited;
          return { code, stdout, stderr };
        },
      });
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`exited with ${code} before its banner: ${stderr}`)));
  });
}

describe('ccri serve', () => {
  it('notes, when it listens for other machines, that a base URL naming this machine only sends their clients to themselves', () => {
    const note = linksNameThisMachineOnly('0.0.0.0', 'http://localhost:8080/STU3');
    expect(note).toContain('listening on 0.0.0.0, but the base URL http://localhost:8080/STU3 names this machine only');
    expect(note).toContain("e.g. http://<this machine's name>:8080/STU3");
    expect(linksNameThisMachineOnly('::', 'https://127.0.0.1/fhir/STU3')).toContain("e.g. https://<this machine's name>:443/fhir/STU3");
    expect(linksNameThisMachineOnly('192.168.1.20', 'http://[::1]:8080/STU3')).toBeDefined();
    // Nothing to say: it listens for this machine only, or the base URL names a host others reach.
    for (const host of ['localhost', '127.0.0.1', '::1', '[::1]']) expect(linksNameThisMachineOnly(host, 'http://localhost:8080/STU3')).toBeUndefined();
    expect(linksNameThisMachineOnly('0.0.0.0', 'https://fhir.example.nhs.uk/STU3')).toBeUndefined();
    expect(linksNameThisMachineOnly('0.0.0.0', 'http://10.0.0.5:8080/STU3')).toBeUndefined();
  });

  it('--port 0 listens on a free port, and the banner names it, the process and the SQLite file; SIGTERM stops it and says so', async () => {
    const data = join(root, 'sqlite');
    const s = await serve(['--data-dir', data]);
    try {
      expect(s.pid).toBe(s.childPid);
      expect(s.banner).toContain(`FHIR STU3 API at http://localhost:${s.port}/STU3 (open) and http://localhost:${s.port}/secure/STU3 (secure), listening on http://127.0.0.1:${s.port} (process ${s.childPid})`);
      expect(s.banner).toContain(`Store: SQLite file ${join(data, 'ccri.sqlite')}`);
      // Listening for this machine only: the localhost links are right, and nothing is noted.
      expect(s.banner).not.toContain('names this machine only');
      const res = await fetch(`http://127.0.0.1:${s.port}/STU3/metadata`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('CapabilityStatement');
    } finally {
      const end = await s.stop('SIGTERM');
      expect(end.code).toBe(0);
      expect(end.stdout).toContain('ccri stopped (SIGTERM).');
    }
  }, 90_000);

  it('SIGTERM lets a request in flight finish before it stops (graceful stop, issue 15)', async () => {
    const s = await serve(['--data-dir', join(root, 'graceful')]);
    const entry = Array.from({ length: 900 }, (_, i) => ({ resource: { resourceType: 'Patient', id: `g${i}`, name: [{ family: 'Graceful' }] }, request: { method: 'PUT', url: `Patient/g${i}` } }));
    const inFlight = fetch(`http://127.0.0.1:${s.port}/STU3`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
    // Sent while the transaction runs (900 entries take far longer than this).
    await new Promise((r) => setTimeout(r, 100));
    const stopped = s.stop('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { entry: unknown[] }).entry).toHaveLength(900);
    const end = await stopped;
    expect(end.code).toBe(0);
    expect(end.stdout).toContain('ccri stopped (SIGTERM).');
  }, 90_000);

  it('cuts off what is still running after the grace period, and says so', async () => {
    const s = await serve(['--data-dir', join(root, 'grace-over')], { CCRI_SHUTDOWN_GRACE_MS: '1' });
    // A create whose body is still arriving when the signal comes: in flight for certain, whatever the
    // machine's speed (a large transaction could finish, answered, before the 1 ms timer got its turn).
    const socket = connect(s.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (d) => (answer += String(d)));
    const closed = new Promise((r) => socket.once('close', r));
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /STU3/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n');
    // The interim answer says the server has read the request's head and waits for its body.
    await vi.waitFor(() => expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/), { timeout: 10_000 });
    socket.write('{"resourceType":"Patient"');
    const end = await s.stop('SIGTERM');
    expect(end.code).toBe(1);
    expect(end.stderr).toContain('were cut off');
    await closed;
    expect(answer).toBe('HTTP/1.1 100 Continue\r\n\r\n');
  }, 90_000);

  it('a stop that cannot close its store cleanly (the data folder removed under it) says so in a line, and exits 1', async () => {
    const data = join(root, 'removed');
    const s = await serve(['--data-dir', data]);
    const res = await fetch(`http://127.0.0.1:${s.port}/STU3/Patient?_count=1`);
    expect(res.status).toBe(200);
    rmSync(data, { recursive: true, force: true });
    const { code, stdout, stderr } = await s.stop('SIGTERM');
    expect(code).toBe(1);
    expect(stderr).toMatch(/ccri: stopped after SIGTERM, but not cleanly: .+\.\n$/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).not.toContain('ccri stopped');
  });

  it('SIGINT (Ctrl-C) stops it too, and says so', async () => {
    const s = await serve(['--data-dir', join(root, 'sigint')]);
    const end = await s.stop('SIGINT');
    expect(end.code).toBe(0);
    expect(end.stdout).toContain('ccri stopped (SIGINT).');
  }, 90_000);

  it('a port in use: a message suggesting --port, and exit 1', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    const { port } = other.address() as AddressInfo;
    try {
      const r = ccri(['serve', '--port', String(port), '--host', '127.0.0.1', '--no-demo-data', '--data-dir', join(root, 'in-use')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain('choose another with --port');
      expect(r.stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
    } finally {
      other.close();
    }
  }, 90_000);

  it.skipIf(!postgres)('a postgresql:// URL opens PostgreSQL, and the banner names the host and database, never the password', async () => {
    const schema = await createTestSchema('ccri_serve');
    try {
      const url = schema.url.replace(/^postgres:\/\/([^@/]+)@/, 'postgresql://$1:hunter2@');
      expect(url).toMatch(/^postgresql:\/\/[^:]+:hunter2@/);
      const s = await serve([], { DATABASE_URL: url });
      const end = await s.stop('SIGTERM');
      expect(s.pid).toBe(s.childPid);
      expect(end.code).toBe(0);
      expect(s.banner).toMatch(/Store: PostgreSQL database \w+ on [\w.]+:\d+\n/);
      expect(s.banner + end.stdout + end.stderr).not.toContain('hunter2');
    } finally {
      await schema.drop();
    }
  }, 90_000);
});
