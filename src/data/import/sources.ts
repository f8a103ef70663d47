import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';

/** A place resources are read from: a file, or standard input ("-"). */
export interface Source {
  name: string;
  /** The file's path (none for standard input). */
  path?: string;
  /** Size in bytes when known (for the time-left estimate). */
  size?: number;
  read(): Promise<string>;
  /** The text line by line, without reading it whole (files; used for NDJSON, which may be larger than a string can be). */
  lines?(): AsyncIterable<string>;
}

/** NDJSON by its name: one resource per line. */
export const NDJSON_NAME = /\.(ndjson|jsonl)$/i;

/** A file as a source. */
export function fileSource(path: string, size: number): Source {
  return {
    name: path,
    path,
    size,
    read: () => readFile(path, 'utf8'),
    lines: () => createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity }),
  };
}

const LOADABLE = /\.(json|ndjson|jsonl|xml)$/i;

export interface ExpandOptions {
  /** Standard input's text, for "-". */
  stdin?: () => Promise<string>;
  /** Told of each named file passed over because its name is not of a kind read here. */
  onSkipped?: (path: string) => void;
}

/** Why a named file was passed over, as `import` and `validate` both say it (files of other kinds found in a directory are passed over quietly). */
export const SKIPPED = 'skipped: only .json, .ndjson, .jsonl and .xml files are read';

/**
 * The files to load: .json, .ndjson, .jsonl and .xml files, named or found in directories
 * (searched recursively), and "-" for standard input. Files of other kinds are passed over,
 * whether named (a shell's `*` names them all; onSkipped hears of them) or found. Files whose name starts with
 * "0-" come first (shared practitioners and organisations that other bundles refer to),
 * then the rest in path order, so a load is the same every time. A path that does not
 * exist is an error naming it.
 */
export async function expandSources(args: readonly string[], options: ExpandOptions = {}): Promise<Source[]> {
  const stdin = options.stdin ?? readStdin;
  const skipped = options.onSkipped ?? (() => undefined);
  const files: Array<{ path: string; size: number }> = [];
  const out: Source[] = [];
  for (const arg of args) {
    if (arg === '-') {
      out.push(
        stdin === readStdin
          ? // Read line by line where it is NDJSON (see reader.ts), so a pipe of any size loads.
            { name: '<stdin>', read: stdin, lines: () => createInterface({ input: process.stdin, crlfDelay: Infinity }) }
          : { name: '<stdin>', read: stdin },
      );
      continue;
    }
    const info = await stat(arg).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? `${arg}: no such file or directory` : `${arg}: cannot be read (${err.code ?? err.message})`);
    });
    if (info.isDirectory()) await walk(arg, files);
    else if (LOADABLE.test(arg)) files.push({ path: arg, size: info.size });
    else skipped(arg);
  }
  files.sort((a, b) => rank(a.path) - rank(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [...files.map((f) => fileSource(f.path, f.size)), ...out];
}

function rank(path: string): number {
  return basename(path).startsWith('0-') ? 0 : 1;
}

async function walk(dir: string, into: Array<{ path: string; size: number }>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, into);
    else if (entry.isFile() && LOADABLE.test(entry.name)) into.push({ path, size: (await stat(path)).size });
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
