import { readById } from './read-by-id.js';
import { validateBench } from './validate.js';

/**
 * `npm run bench`: runs the benchmarks and prints Markdown for docs/benchmarks.md.
 * `npm run bench -- read` runs one. Timings live here, never in tests.
 */
const which = new Set(process.argv.slice(2));
const all = which.size === 0;
const sections: string[] = [];
if (all || which.has('read')) sections.push(await readById(Number(process.env.BENCH_DURATION ?? 10)));
if (all || which.has('validate')) sections.push(await validateBench());
console.log(sections.join('\n\n'));
