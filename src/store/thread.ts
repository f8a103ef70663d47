import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `name` that sits beside the module `from` (its
 * import.meta.url): the built `name.js`, or, when `from` is a TypeScript source (as the
 * tests run the code), `name.ts` through tsx, which the worker registers first.
 */
export function moduleThread(from: string, name: string, options: WorkerOptions = {}): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), options);
  const href = JSON.stringify(new URL(`./${name}.ts`, from).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${href}); })`, { ...options, eval: true });
}
