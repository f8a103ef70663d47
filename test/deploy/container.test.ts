import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/**
 * Issue 15: the container image, built from the Dockerfile and run, with buildah and podman
 * from Debian's packages. No registry for base images is reachable from where this runs,
 * so the Dockerfile's base image (node:20-bookworm-slim) is made here as the real one is
 * made: a Debian bookworm root filesystem from debootstrap, with this machine's Node.js 20
 * in /usr/local, tagged with the same name. The image then runs as a user would run it:
 * on SQLite with a /data volume (ready, answering, not root, healthy, stopping cleanly on
 * SIGTERM and keeping its data), as two nodes on one PostgreSQL, and as compose.yaml's
 * PostgreSQL, two nodes and nginx, brought up by podman-compose (with stand-ins, built from
 * Debian's packages, for the postgres and nginx images it names: test/deploy/stand-ins).
 *
 * Slow (a debootstrap, then `npm ci` in the build, compiling better-sqlite3: about 10 minutes
 * the first time, the root filesystem and layers being kept in CCRI_CONTAINER_WORKDIR), and
 * root only (vfs storage). It runs with CCRI_TEST_CONTAINER=1, which `.ci/run` sets in a step
 * of its own after `npm test` (so that ten minutes of compiling do not slow every other test);
 * otherwise it is skipped with a message. Asked for, it fails rather than skip.
 */

const wanted = process.env.CCRI_TEST_CONTAINER === '1';
const tools = ['buildah', 'podman', 'debootstrap', 'podman-compose'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const node20 = process.versions.node.startsWith('20.');
let reason: string | undefined;
if (!wanted) reason = 'set CCRI_TEST_CONTAINER=1 to build and run the container image (.ci/run does, in a step of its own)';
else if (tools.length) reason = `${tools.join(', ')} not installed (Debian: apt-get install debootstrap buildah podman runc netavark aardvark-dns podman-compose)`;
else if (!root) reason = 'the image is built with the vfs storage driver as root';
else if (!node20) reason = `the stand-in for node:20-bookworm-slim is this machine's Node.js, which is ${process.versions.node}, not 20`;
if (reason) {
  if (wanted) throw new Error(`The container test was asked for (CCRI_TEST_CONTAINER=1) but cannot run: ${reason}`);
  console.warn(`Skipping the container image test: ${reason}`);
}

const work = process.env.CCRI_CONTAINER_WORKDIR ?? '/var/tmp/ccri-container';
const mirror = process.env.CCRI_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const IMAGE = 'localhost/ccri:test';
const BASE = 'docker.io/library/node:20-bookworm-slim';

/**
 * What this sandbox needed (and a normal machine does not mind): runc rather than crun,
 * which refuses cgroups in hybrid mode; open-file and process limits no higher than this
 * process's own (raising them needs CAP_SYS_RESOURCE); and the host's network for builds.
 */
const runtime = spawnSync('sh', ['-c', 'command -v runc']).status === 0 ? ['--runtime', 'runc'] : [];
const storage = ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs'];
const limits = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];
const suffix = `${process.pid}`;

/** Runs a command to its end without blocking this thread; its output is kept for the failure message. */
function run(cmd: string, args: string[], options: { input?: string; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; out: string }> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  child.stderr.on('data', (d: Buffer) => (out += String(d)));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) =>
    child.once('close', (status) => {
      if (status !== 0 && !options.allowFail) reject(new Error(`${cmd} ${args.join(' ')} exited with ${status}:\n${out.slice(-4000)}`));
      else resolve({ status, out });
    }),
  );
}

const podman = (args: string[], options: { allowFail?: boolean } = {}) => run('podman', [...storage, ...runtime, ...args], options);
/** A build; --layers keeps each step's layer, so that a second run rebuilds only what changed. */
const buildah = (args: string[]) => run('buildah', [...storage, 'bud', '--layers', ...runtime, ...limits, '--network', 'host', '--pull=never', ...args]);

/** A free port on 127.0.0.1 (for the nodes on the host's network). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function until<T>(what: () => Promise<T | undefined>, label: string, ms = 240_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < ms; ) {
    const v = await what().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${label}`);
}

const ready = (address: string) => until(async () => ((await fetch(`${address}/health/ready`)).status === 200 ? true : undefined), `${address}/health/ready`);

/** The Dockerfile's base image, made from a debootstrapped Debian bookworm and this machine's Node.js 20. */
async function makeBaseImage(): Promise<void> {
  const rootfs = join(work, 'rootfs');
  if (!existsSync(join(rootfs, 'etc', 'debian_version'))) {
    rmSync(rootfs, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror]);
  }
  if ((await podman(['image', 'exists', 'localhost/ccri-bookworm-rootfs:latest'], { allowFail: true })).status !== 0) {
    await run('sh', ['-c', `tar -C '${rootfs}' -c . | podman ${storage.join(' ')} import - localhost/ccri-bookworm-rootfs:latest`]);
  }
  const context = join(work, 'nodebase');
  rmSync(context, { recursive: true, force: true });
  const prefix = dirname(dirname(process.execPath));
  mkdirSync(join(context, 'usr/local/bin'), { recursive: true });
  copyFileSync(process.execPath, join(context, 'usr/local/bin/node'));
  cpSync(join(prefix, 'lib/node_modules'), join(context, 'usr/local/lib/node_modules'), { recursive: true, dereference: false });
  const headers = [join(prefix, 'include/node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node.h')));
  if (headers) cpSync(headers, join(context, 'usr/local/include/node'), { recursive: true });
  const lines = ['FROM localhost/ccri-bookworm-rootfs:latest', 'COPY usr/local /usr/local', 'RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx'];
  // This machine's certificate authorities (a proxy's, here), for npm inside the build.
  if (existsSync('/etc/ssl/certs/ca-certificates.crt')) {
    mkdirSync(join(context, 'ca'), { recursive: true });
    copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(context, 'ca', 'host.crt'));
    lines.push('COPY ca/host.crt /etc/ssl/certs/host-ca-certificates.crt', 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-certificates.crt');
  }
  lines.push('RUN node --version && npm --version', 'CMD ["node"]');
  writeFileSync(join(context, 'Containerfile'), `${lines.join('\n')}\n`);
  await buildah(['-t', BASE, context]);
}

/** The image, built from the Dockerfile once for every test of this file. */
let built: Promise<void> | undefined;
const image = () =>
  (built ??= (async () => {
    await makeBaseImage();
    await buildah(['--format', 'docker', '-t', IMAGE, projectRoot()]);
  })());

const postgres = reason ? false : await shouldRunPostgres();
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe.runIf(!reason)('the container image (buildah and podman)', () => {
  it('builds from the Dockerfile, and runs on SQLite: ready, not root, healthy, stopping cleanly, keeping its data', async () => {
    await image();
    const inspected = JSON.parse((await podman(['image', 'inspect', IMAGE])).out) as Array<{ Config: { User: string; Volumes: Record<string, unknown> }; Healthcheck?: { Test: string[] } }>;
    expect(inspected[0]!.Config.User).toBe('ccri');
    expect(Object.keys(inspected[0]!.Config.Volumes)).toEqual(['/data']);
    expect(inspected[0]!.Healthcheck?.Test.join(' ')).toContain('/health/ready');

    const name = `ccri-test-${suffix}`;
    const volume = `ccri-test-data-${suffix}`;
    cleanups.push(() => podman(['volume', 'rm', '-f', volume], { allowFail: true }));
    cleanups.push(() => podman(['rm', '-f', '-v', name], { allowFail: true }));
    await podman(['run', '-d', '--name', name, ...limits, '-p', '127.0.0.1::8080', '-v', `${volume}:/data`, IMAGE]);
    const port = /:(\d+)\s*$/.exec((await podman(['port', name, '8080'])).out.trim())![1];
    const address = `http://127.0.0.1:${port}`;
    await ready(address);

    // The demo data set, loaded at the first start, as the README's quick start shows.
    const found = (await (await fetch(`${address}/STU3/Patient?family=kanfeld`)).json()) as { total: number };
    expect(found.total).toBe(1);
    const put = await fetch(`${address}/STU3/Patient/container`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'container', gender: 'other' }) });
    expect(put.status).toBe(201);
    expect((await podman(['exec', name, 'id', '-un'])).out.trim()).toBe('ccri');
    expect((await podman(['exec', name, 'ls', '/data'])).out).toContain('ccri.sqlite');
    expect((await podman(['healthcheck', 'run', name], { allowFail: true })).status).toBe(0);
    // A backup beside the running server, inside the container.
    expect((await podman(['exec', name, 'node', 'dist/cli/main.js', 'backup', '/data/in-container.ccri-backup'])).out).toContain('Backed up SQLite file /data/ccri.sqlite');

    // SIGTERM (podman stop): a graceful stop, exit 0.
    await podman(['stop', '-t', '30', name]);
    expect((await podman(['inspect', name, '--format', '{{.State.ExitCode}}'])).out.trim()).toBe('0');
    expect((await podman(['logs', name])).out).toContain('ccri stopped (SIGTERM).');
    // Started again, on the same volume: the data is there.
    await podman(['start', name]);
    const again = `http://127.0.0.1:${/:(\d+)\s*$/.exec((await podman(['port', name, '8080'])).out.trim())![1]}`;
    await ready(again);
    expect((await fetch(`${again}/STU3/Patient/container`)).status).toBe(200);
  }, 3_600_000);

  it.runIf(postgres)('runs as two nodes on one PostgreSQL: a write on one is read and found on the other', async () => {
    await image();
    const schema = await createTestSchema('ccri_container');
    cleanups.push(schema.drop);
    const addresses: string[] = [];
    for (const n of [1, 2]) {
      const name = `ccri-test-node${n}-${suffix}`;
      const port = await freePort();
      cleanups.push(() => podman(['rm', '-f', '-v', name], { allowFail: true }));
      // The host's network: the nodes reach the machine's PostgreSQL on 127.0.0.1, and listen there.
      await podman(['run', '-d', '--name', name, ...limits, '--network', 'host', '-e', `CCRI_PORT=${port}`, '-e', 'CCRI_HOST=127.0.0.1', '-e', `CCRI_NODE_NAME=node${n}`, '-e', 'CCRI_DEMO_DATA=false', '-e', `DATABASE_URL=${schema.url}`, IMAGE]);
      addresses.push(`http://127.0.0.1:${port}`);
    }
    for (const a of addresses) await ready(a);
    const [one, two] = addresses as [string, string];
    const created = await fetch(`${one}/STU3/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:ccri-test:container', value: 'two-nodes' }] }),
    });
    expect(created.status).toBe(201);
    const id = /Patient\/([^/]+)\//.exec(created.headers.get('location')!)![1]!;
    expect((await fetch(`${two}/STU3/Patient/${id}`)).status).toBe(200);
    const found = (await (await fetch(`${two}/STU3/Patient?identifier=urn:ccri-test:container|two-nodes`)).json()) as { entry: Array<{ resource: { id: string } }> };
    expect(found.entry.map((e) => e.resource.id)).toEqual([id]);
    for (const n of [1, 2]) {
      const name = `ccri-test-node${n}-${suffix}`;
      await podman(['stop', '-t', '30', name]);
      expect((await podman(['inspect', name, '--format', '{{.State.ExitCode}}'])).out.trim()).toBe('0');
    }
  }, 600_000);

  it('runs compose.yaml with podman-compose: PostgreSQL, two nodes and nginx; a node stopped, the other answers', async () => {
    await image();
    // compose.yaml names the official postgres and nginx images, which cannot be pulled here: stand-ins of
    // the same names are built from Debian's packages (test/deploy/stand-ins), and node 1's image is this
    // file's build of the Dockerfile under the name compose.yaml gives it, so that `up` need not build it.
    const standIns = join(projectRoot(), 'test', 'deploy', 'stand-ins');
    await buildah(['-t', 'docker.io/library/postgres:15-bookworm', join(standIns, 'postgres')]);
    await buildah(['-t', 'docker.io/library/nginx:1.27-bookworm', join(standIns, 'nginx')]);
    await podman(['tag', IMAGE, 'localhost/ccri:latest']);

    // podman-compose runs podman with this file's storage, runtime and limits, given as podman's own configuration files.
    const confs = join(work, `compose-${suffix}`);
    mkdirSync(confs, { recursive: true });
    cleanups.push(async () => rmSync(confs, { recursive: true, force: true }));
    writeFileSync(join(confs, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${join(work, 'storage')}"\nrunroot = "${join(work, 'run')}"\n`);
    const engine = runtime.length ? '[engine]\nruntime = "runc"\n' : '';
    writeFileSync(join(confs, 'containers.conf'), `[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n${engine}`);
    const port = await freePort();
    const project = `ccri-compose-${suffix}`;
    const env = { ...process.env, HTTP_PORT: String(port), CONTAINERS_STORAGE_CONF: join(confs, 'storage.conf'), CONTAINERS_CONF: join(confs, 'containers.conf') };
    const compose = (args: string[], options: { allowFail?: boolean } = {}) => run('podman-compose', ['-p', project, '-f', join(projectRoot(), 'compose.yaml'), ...args], { ...options, env });
    cleanups.push(() => podman(['network', 'rm', '-f', `${project}_default`], { allowFail: true }));
    cleanups.push(() => compose(['down', '-v'], { allowFail: true }));
    await compose(['up', '-d']);

    // The first start: node 1 migrates the schema and loads the demo data set; then the proxy answers.
    const address = `http://127.0.0.1:${port}`;
    await until(async () => {
      const r = await fetch(`${address}/STU3/Patient?family=kanfeld`);
      return r.status === 200 && ((await r.json()) as { total: number }).total === 1 ? true : undefined;
    }, 'the demo data through the proxy', 600_000);
    const containers = (await podman(['ps', '-a', '--format', '{{.Names}}', '--filter', `label=io.podman.compose.project=${project}`])).out.split('\n').filter(Boolean);
    expect(containers).toHaveLength(4);
    const node1 = containers.find((n) => /node1/.test(n))!;
    const node2 = containers.find((n) => /node2/.test(n))!;
    // podman-compose 1.0 starts node 2 without waiting for node 1's health: it may still be waiting for the first start's lock.
    for (const node of [node1, node2]) await until(async () => ((await podman(['healthcheck', 'run', node], { allowFail: true })).status === 0 ? true : undefined), `${node} healthy`);

    // A write through the proxy, read and found through it; the Location names the address the client reached,
    // from the proxy's X-Forwarded-Host and -Proto (CCRI_TRUST_PROXY).
    const tag = `compose-${suffix}`;
    const created = await fetch(`${address}/STU3/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'x-request-id': `${tag}-create` },
      body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:ccri-test:compose', value: tag }] }),
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location, location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/STU3/Patient/[^/]+/_history/1$`));
    const id = /Patient\/([^/]+)\//.exec(location)![1]!;
    const asked: string[] = [];
    const ask = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const requestId = `${tag}-${asked.length}`;
        asked.push(requestId);
        const r = await fetch(`${address}/STU3/Patient?identifier=urn:ccri-test:compose|${tag}`, { headers: { 'x-request-id': requestId } });
        expect(r.status, requestId).toBe(200);
        expect(((await r.json()) as { entry?: Array<{ resource: { id: string } }> }).entry?.map((e) => e.resource.id)).toEqual([id]);
      }
    };
    await ask(8);

    // Node 1 stopped: the proxy sends every request to node 2, which answers them all.
    await podman(['stop', '-t', '30', node1]);
    expect((await podman(['inspect', node1, '--format', '{{.State.ExitCode}}'])).out.trim()).toBe('0');
    const before = asked.length;
    await ask(6);

    // Who answered what, from the audit trail (each node keeps its own chain): both nodes answered
    // while both ran, node 2 alone after, and every chain verifies.
    const trail = await podman(['exec', node2, 'node', 'dist/cli/main.js', 'audit', 'export']);
    const by = new Map<string, string>();
    for (const line of trail.out.split('\n').filter((l) => l.startsWith('{'))) {
      const event = JSON.parse(line) as { source: { site: string }; entity?: Array<{ identifier?: { system?: string; value?: string } }> };
      const requestId = event.entity?.find((e) => e.identifier?.system === 'urn:ccri:request-id')?.identifier?.value;
      if (requestId?.startsWith(tag)) by.set(requestId, event.source.site);
    }
    expect(new Set(asked.slice(0, before).map((r) => by.get(r)))).toEqual(new Set(['node1', 'node2']));
    expect(new Set(asked.slice(before).map((r) => by.get(r)))).toEqual(new Set(['node2']));
    const verified = await podman(['exec', node2, 'node', 'dist/cli/main.js', 'audit', 'verify'], { allowFail: true });
    expect(verified.status, verified.out).toBe(0);
  }, 3_600_000);
});
