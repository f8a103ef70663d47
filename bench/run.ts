import { readById } from './read-by-id.js';
import { searchBench } from './search.js';
import { loadBench } from './load.js';
import { validateBench } from './validate.js';
import { auditBench } from './audit.js';
import { exportBench } from './export.js';
import { campaignBench } from './campaign.js';
import { secureBench } from './secure.js';
import { metricsBench } from './metrics.js';
import { createsBench, transactionsBench } from './transactions.js';
import { soakBench } from './soak.js';
import { abBench } from './ab.js';
import { instructionsBench } from './instructions.js';

/**
 * `npm run bench`: runs the benchmarks and prints Markdown for docs/benchmarks.md.
 * `npm run bench -- read` (or search, validate, load, audit, secure, transactions, creates, export, campaign, metrics) runs one.
 * `npm run bench -- soak` (ten minutes; SOAK_SECONDS to change it) and `AB_OTHER=<checkout> npm run bench -- ab`
 * (this build against another) run only when named, as does `npm run bench -- instructions` (instructions a
 * request, counted by callgrind: bench/instructions.ts). Timings live here, never in tests.
 */
const which = new Set(process.argv.slice(2));
const all = which.size === 0;
const duration = Number(process.env.BENCH_DURATION ?? 10);
const sections: string[] = [];
if (all || which.has('read')) sections.push(await readById(duration));
if (all || which.has('validate')) sections.push(await validateBench());
if (all || which.has('search')) sections.push(await searchBench(duration));
if (all || which.has('load')) sections.push(await loadBench());
if (all || which.has('audit')) sections.push(await auditBench(duration));
if (all || which.has('secure')) sections.push(await secureBench(duration));
if (all || which.has('transactions')) sections.push(await transactionsBench());
if (all || which.has('creates')) sections.push(await createsBench(duration));
if (all || which.has('export')) sections.push(await exportBench());
if (all || which.has('campaign')) sections.push(await campaignBench());
if (all || which.has('metrics')) sections.push(await metricsBench(duration));
if (which.has('soak')) sections.push(await soakBench());
if (which.has('ab')) sections.push(await abBench(duration));
if (which.has('instructions')) sections.push(await instructionsBench());
console.log(sections.join('\n\n'));
