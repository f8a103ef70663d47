import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { bernie, extraEnv, startOlder } from './ab.js';
import { machine, tempFolder } from './lib.js';

/**
 * `npm run bench -- instructions`: the CPU instructions a request costs the server, counted by
 * valgrind's callgrind rather than timed. A count does not drift with the machine: the same
 * build, data and requests give the same count within about 1%, whatever else the machine is
 * doing, where req/s on this kind of virtual machine swings twofold within an hour. It counts
 * user-space instructions only: the system calls (the same two a read in every build, one
 * `read` and one `writev`) are not in it.
 *
 * Each build is started under callgrind on its own SQLite folder with the demo data, warmed
 * until its JIT has settled (INSTR_WARM reads, then a tenth as many searches, each just before
 * it is counted), then counted over INSTR_N reads and a fifth as many searches, sent one after
 * another on one kept-alive connection.
 * `AB_OTHER=<checkout>` counts another checkout's build too, alternately; `AB_ENV` sets the
 * servers' environment as for the `ab` bench (audit off by default); `INSTR_TOP=n` lists the
 * n functions that cost the most in this build's reads (JavaScript named from node's
 * `--perf-basic-prof` map): their own instructions, or with `INSTR_INCLUSIVE=1` their callees' too
 * (a function the JIT inlined into its caller is counted in the caller). `INSTR_AUTH=1` asks the authorization server (/auth) once first, as
 * any server whose secure API has been used has been asked: oidc-provider's AsyncLocalStorage
 * then turns Node 20's promise hooks on for good, and every promise of every request pays them.
 *
 * Node runs with `--no-memory-reducer`: V8's memory reducer starts a full garbage collection
 * when the allocation rate has been low for some seconds of wall time, which under
 * callgrind's fiftyfold slowdown it always seems to be; counts then depend on how long the
 * run took.
 */
const WARM = Number(process.env.INSTR_WARM ?? 20_000);
const N = Number(process.env.INSTR_N ?? 5_000);
const TOP = Number(process.env.INSTR_TOP ?? 0);
const AUTH = process.env.INSTR_AUTH === '1';
const INCLUSIVE = process.env.INSTR_INCLUSIVE === '1';
const IDLE_S = Number(process.env.INSTR_IDLE_S ?? 10);

interface Count {
  /** Instructions a request on the thread that serves it, and on every thread (garbage collection and JIT helpers too). */
  main: number;
  all: number;
}

/** GETs on one kept-alive connection, one after another; each must answer 200. */
function client(port: number): { get(path: string): Promise<string>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (path) =>
      new Promise((done, fail) => {
        request({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => (res.statusCode === 200 ? done(body) : fail(new Error(`${path}: ${res.statusCode} ${body.slice(0, 200)}`))));
        })
          .on('error', fail)
          .end();
      }),
    close: () => agent.destroy(),
  };
}

/** The instructions of one callgrind dump (`part`) of process `pid`, summed over its threads' files. */
function dumped(folder: string, pid: number, part: number): Count {
  const count: Count = { main: 0, all: 0 };
  const mine = readdirSync(folder).filter((f) => f.startsWith(`cg.${pid}.${part}-`));
  if (!mine.length) throw new Error(`callgrind wrote no dump ${part} for process ${pid} in ${folder}`);
  for (const file of mine) {
    const n = Number(/^summary: (\d+)$/m.exec(readFileSync(join(folder, file), 'utf8'))?.[1] ?? NaN);
    if (!Number.isFinite(n)) throw new Error(`${file} has no summary line`);
    count.all += n;
    if (file.endsWith('-01')) count.main = n;
  }
  return count;
}

/** The functions that cost most in a dump, JIT-compiled JavaScript named from node's perf map. */
function topFunctions(file: string, perfMap: string, requests: number, top: number, inclusive: boolean): string[] {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  const named = (ref: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(ref);
    if (!m) return ref;
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? ref;
  };
  /** What each function called cost, callees included (a call of a function by itself is not counted twice). */
  const calls = new Map<string, number>();
  let fn = '';
  let callee = '';
  let callCost = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = named(line.slice(3));
    else if (line.startsWith('cfn=')) callee = named(line.slice(4));
    else if (line.startsWith('calls=')) callCost = true;
    else if (/^[0-9+*-]/.test(line)) {
      const n = Number(line.split(' ')[1] ?? 0);
      // The line after calls= is the callee's inclusive cost, not this function's own.
      if (callCost) {
        callCost = false;
        if (callee !== fn) calls.set(fn, (calls.get(fn) ?? 0) + n);
      } else self.set(fn, (self.get(fn) ?? 0) + n);
    }
  }
  const ranges = readFileSync(perfMap, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [start, size, ...name] = l.split(' ');
      return { start: parseInt(start!, 16), end: parseInt(start!, 16) + parseInt(size!, 16), name: name.join(' ') };
    })
    .sort((a, b) => a.start - b.start);
  const jit = (address: number): string => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid]!.start <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const r = ranges[hi];
    return r && address < r.end ? r.name : 'JIT code (unnamed)';
  };
  const byName = new Map<string, number>();
  let total = 0;
  for (const [f, n] of self) total += n;
  for (const f of new Set([...self.keys(), ...calls.keys()])) {
    const n = (self.get(f) ?? 0) + (inclusive ? (calls.get(f) ?? 0) : 0);
    const name = /^0x[0-9a-f]+$/.test(f) ? jit(parseInt(f, 16)) : f;
    byName.set(name, (byName.get(name) ?? 0) + n);
  }
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => `| ${Math.round(n / requests).toLocaleString('en-GB')} | ${((100 * n) / total).toFixed(1)}% | \`${name.slice(0, 120).replace(/\|/g, '\\|')}\` |`);
}

/** Counts one build: a read by id and a search, each over N requests after the warm-up. */
async function countBuild(checkout: string, top: number): Promise<{ read: Count; search: Count; raw: { read: Count; search: Count }; idle: Count; top: string[] }> {
  const data = tempFolder('ccri-instr-');
  const dumps = tempFolder('ccri-instr-cg-');
  const env = { ...extraEnv(), CCRI_DATA_DIR: data.path };
  try {
    // The demo data is loaded by a first start without callgrind (fifty times faster).
    const first = await startOlder(env, checkout, data.path);
    const id = await bernie(`http://127.0.0.1:${first.port}/STU3`);
    await first.stop();
    const server = await startOlder(env, checkout, data.path, {
      wrap: ['valgrind', '--quiet', '--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${dumps.path}/cg.%p`],
      nodeFlags: ['--no-memory-reducer', ...(top ? ['--perf-basic-prof'] : [])],
      waitMs: 900_000,
    });
    const pid = server.child.pid!;
    const http = client(server.port);
    const targets = { read: `/STU3/Patient/${id}`, search: '/STU3/Patient?family=kanfeld&birthdate=1998-03-19' };
    try {
      // oidc-provider runs each request to /auth in its own AsyncLocalStorage, which on Node 20 turns the promise hooks on for the life of the process.
      if (AUTH) await http.get('/auth/.well-known/openid-configuration');
      /** Counts what `run` costs the process: callgrind's dump number `part`, and the wall time it took. */
      const measured = async (run: () => Promise<void>, part: number): Promise<Count & { ms: number }> => {
        execFileSync('callgrind_control', ['--zero', String(pid)], { stdio: 'ignore' });
        const start = performance.now();
        await run();
        const ms = performance.now() - start;
        execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
        return { ...dumped(dumps.path, pid, part), ms };
      };
      const repeat = (path: string, n: number) => async () => {
        for (let i = 0; i < n; i++) await http.get(path);
      };
      // Each target is warmed just before it is counted: what another target's requests would leave in the JIT's feedback is not in it.
      await repeat(targets.read, WARM)();
      const idle = await measured(() => new Promise((r) => setTimeout(r, IDLE_S * 1000)), 1);
      /** A request's count, less what the process spent idle over the same wall time. */
      const perRequest = (c: Count & { ms: number }, n: number): Count => ({ main: (c.main - (idle.main * c.ms) / idle.ms) / n, all: (c.all - (idle.all * c.ms) / idle.ms) / n });
      const read = await measured(repeat(targets.read, N), 2);
      await repeat(targets.search, WARM / 10)();
      const search = await measured(repeat(targets.search, N / 5), 3);
      const lines = top ? topFunctions(join(dumps.path, `cg.${pid}.2-01`), `/tmp/perf-${pid}.map`, N, top, INCLUSIVE) : [];
      return {
        read: perRequest(read, N),
        search: perRequest(search, N / 5),
        raw: { read: { main: read.main / N, all: read.all / N }, search: { main: search.main / (N / 5), all: search.all / (N / 5) } },
        idle: { main: idle.main / (idle.ms / 1000), all: idle.all / (idle.ms / 1000) },
        top: lines,
      };
    } finally {
      http.close();
      server.child.kill('SIGKILL');
      rmSync(`/tmp/perf-${pid}.map`, { force: true });
    }
  } finally {
    data.remove();
    dumps.remove();
  }
}

export async function instructionsBench(): Promise<string> {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('The instruction counts need valgrind (Debian: apt-get install valgrind)');
  const other = process.env.AB_OTHER ? resolve(process.env.AB_OTHER) : undefined;
  const mine = resolve(process.env.AB_SELF ?? '.');
  const builds = other ? [mine, other] : [mine];
  const counts = new Map<string, Awaited<ReturnType<typeof countBuild>>>();
  for (const build of builds) counts.set(build, await countBuild(build, build === mine ? TOP : 0));
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const rows = builds.map((b) => {
    const c = counts.get(b)!;
    return `| ${b === mine ? 'this build' : b} | ${k(c.read.main)} | ${k(c.read.all)} | ${k(c.search.main)} | ${k(c.search.all)} | ${k(c.raw.read.main)}, ${k(c.raw.search.main)} | ${k(c.idle.main)}, ${k(c.idle.all)} |`;
  });
  const lines = [
    `### Instructions a request (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. callgrind, SQLite, demo data, environment ${JSON.stringify(extraEnv())}${AUTH ? ', /auth asked once first' : ''}; ${N.toLocaleString('en-GB')} reads by id counted after ${WARM.toLocaleString('en-GB')} to warm up, then ${(N / 5).toLocaleString('en-GB')} searches (\`Patient?family=kanfeld&birthdate=1998-03-19\`) after ${(WARM / 10).toLocaleString('en-GB')}, one at a time.`,
    '',
    '',
    `Each count is less what the process spent over the same wall time while idle (${IDLE_S} s measured after the reads' warm-up): its timers (the load shedder's samples, the event-loop monitors) run by the clock, and under callgrind's slowdown a request would otherwise be charged for about fifty times its share of them. The raw counts, serving thread, are given apart.`,
    '',
    '| build | read: serving thread | read: all threads | search: serving thread | search: all threads | raw, serving thread: read, search | idle a second: serving thread, all |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ];
  if (other) {
    const a = counts.get(mine)!;
    const b = counts.get(other)!;
    const pct = (x: number, y: number) => `${Math.round((100 * x) / y)}%`;
    lines.push('', `This build ÷ the other, serving thread: read ${pct(a.read.main, b.read.main)}, search ${pct(a.search.main, b.search.main)}.`);
  }
  const top = counts.get(mine)!.top;
  if (top.length) lines.push('', `This build's reads, by function (${INCLUSIVE ? 'instructions a read, callees included' : 'own instructions a read'}, serving thread):`, '', `| instructions | ${INCLUSIVE ? 'of all' : 'share'} | function |`, '|---:|---:|---|', ...top);
  return lines.join('\n');
}
