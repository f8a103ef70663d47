import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

/**
 * Issue 15: the container image and the compose file. The image is built and run in
 * test/deploy/container.test.ts where buildah and podman can; here, always, the Dockerfile
 * is held to the README's own commands, so that nothing untested hides in it: its build
 * is `npm ci` (which builds, through the `prepare` script) and its start is `npm start`'s
 * command; every other line it runs is one of the system steps listed below.
 */

const root = projectRoot();
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([A-Z]+)\s+(.*)$/.exec(l);
      if (!m) throw new Error(`not an instruction: ${l}`);
      return { op: m[1]!, args: m[2]!.replace(/\s+/g, ' ').trim() };
    });
}

/** An exec-form array (`["a", "b"]`) as its words. */
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('the Dockerfile', () => {
  const lines = instructions(read('Dockerfile'));
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; engines: { node: string } };
  const readme = read('README.md');

  it('builds on Debian bookworm-slim with Node.js 20, in both stages', () => {
    const from = lines.filter((l) => l.op === 'FROM').map((l) => l.args.split(' ')[0]);
    expect(from).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    // Node.js 20 is one the package supports.
    expect(pkg.engines.node).toMatch(/\^20\./);
  });

  it("runs the README's commands and nothing else of ours: `npm ci` (whose prepare script builds), then npm start's command", () => {
    expect(readme).toContain('npm ci && npm test');
    expect(pkg.scripts.prepare).toBe('npm run build');
    // `npm start` rebuilds first (prestart) and then runs this.
    expect(pkg.scripts.prestart).toBe('npm run build');
    const cmd = lines.filter((l) => l.op === 'CMD');
    expect(cmd).toHaveLength(1);
    expect(execForm(cmd[0]!.args).join(' ')).toBe(pkg.scripts.start);

    const npm = lines.filter((l) => l.op === 'RUN' && /\b(npm|node|npx)\b/.test(l.args)).map((l) => l.args);
    // The dev dependencies (the compiler, the test tools) are dropped after the build.
    expect(npm).toEqual(['npm ci', 'npm prune --omit=dev']);
    const system = lines.filter((l) => l.op === 'RUN' && !/\b(npm|node|npx)\b/.test(l.args)).map((l) => l.args);
    expect(system).toEqual([
      // better-sqlite3's compiler, where no prebuilt binary can be fetched (build stage only).
      'apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*',
      // The user the server runs as, and the data folder it owns.
      'groupadd --system ccri && useradd --system --gid ccri --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin ccri && mkdir /data && chown ccri:ccri /data',
    ]);
  });

  it('runs as a user of its own with the store on a /data volume, listening on every interface, with a health check on /health/ready', () => {
    const last = lines.slice(lines.map((l) => l.op).lastIndexOf('FROM'));
    const user = last.filter((l) => l.op === 'USER').map((l) => l.args);
    expect(user).toEqual(['ccri']);
    expect(last.findIndex((l) => l.op === 'USER')).toBeLessThan(last.findIndex((l) => l.op === 'CMD'));
    expect(last.filter((l) => l.op === 'VOLUME').map((l) => execForm(l.args))).toEqual([['/data']]);
    const env = last.filter((l) => l.op === 'ENV').map((l) => l.args).join(' ');
    expect(env).toContain('CCRI_DATA_DIR=/data');
    expect(env).toContain('CCRI_HOST=0.0.0.0');
    const health = last.filter((l) => l.op === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const probe = execForm(health[0]!.args.slice(health[0]!.args.indexOf('CMD ') + 4));
    expect(probe.slice(0, 2)).toEqual(['node', '-e']);
    expect(probe[2]).toContain("'/health/ready'");
    expect(probe[2]).toContain('process.env.CCRI_PORT || 8080');
    // The program's files are copied from the build stage as they were built.
    expect(last.filter((l) => l.op === 'COPY').map((l) => l.args)).toEqual(['--from=build /app /app']);
  });

  it('leaves out of the build what the build makes again, and local stores', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', '.cache', 'data', '.git', '*.sqlite*']) expect(ignored).toContain(entry);
  });
});

describe('compose.yaml', () => {
  const compose = read('compose.yaml');
  const config = read('src/config.ts');

  it('runs PostgreSQL and two nodes of the image, each with its own name, behind nginx', () => {
    expect(compose).toMatch(/^ {2}db:\n {4}image: postgres:15/m);
    expect(compose).toMatch(/^ {2}node1:\n {4}build: \.\n {4}image: ccri:latest/m);
    expect(compose).toMatch(/^ {2}node2:\n {4}image: ccri:latest/m);
    expect([...compose.matchAll(/CCRI_NODE_NAME: (\S+)/g)].map((m) => m[1])).toEqual(['node1', 'node2']);
    const url = /DATABASE_URL: (\S+)/.exec(compose)?.[1];
    expect(url).toBe('postgres://ccri:change-me@db:5432/ccri');
    expect(compose).toContain('POSTGRES_PASSWORD: change-me');
    const conf = /- \.\/(deploy\/[^:]+):\/etc\/nginx\/conf\.d\/default\.conf:ro/.exec(compose)?.[1];
    expect(conf).toBeDefined();
    const nginx = read(conf!);
    expect(nginx).toContain('server node1:8080');
    expect(nginx).toContain('server node2:8080');
    // The base URL the nodes name is the proxy's published address (HTTP_PORT, 8080 unless set).
    const published = /ports:\n {6}- "(\$\{HTTP_PORT:-\d+\}):80"/.exec(compose)?.[1];
    expect(published).toBe('${HTTP_PORT:-8080}');
    expect(compose).toContain(`CCRI_BASE_URL: http://localhost:${published}/STU3`);
  });

  it('sets only settings that ccri reads', () => {
    const named = new Set([...compose.matchAll(/\b(CCRI_[A-Z_]+)\b/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(2);
    for (const name of named) expect(config, name).toContain(`env.${name}`);
  });
});

describe('docs/deploy.md', () => {
  it('is linked from the README', () => {
    expect(read('README.md')).toContain('[docs/deploy.md](docs/deploy.md)');
    expect(existsSync(join(root, 'docs', 'deploy.md'))).toBe(true);
  });
});
