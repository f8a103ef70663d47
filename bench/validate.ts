import { execFileSync } from 'node:child_process';
import { machine } from './lib.js';

/**
 * The profile validator on one core: typical Care Connect resources from the demo data
 * generator (a Patient, an Observation) validated against the base definitions and
 * CareConnect-Patient-1 / CareConnect-Observation-1 (the profiles they claim), best of
 * 5 rounds of `rounds` validations after a warm-up; and the start-up cost, measured in
 * a fresh process: loading the definitions (from the build cache), then compiling every
 * Care Connect profile and expanding the value sets they bind. Uses the built code (dist/).
 */
export async function validateBench(rounds = 20_000): Promise<string> {
  const startup = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', STARTUP], { encoding: 'utf8' })) as Record<string, number>;
  const { generatePopulation } = (await import('../dist/data/generate/population.js')) as typeof import('../src/data/generate/population.js');
  const { validateResource } = (await import('../dist/validation/profile/index.js')) as typeof import('../src/validation/profile/index.js');
  const { careConnectCatalogue } = (await import('../dist/validation/profile/catalogue.js')) as typeof import('../src/validation/profile/catalogue.js');
  const source = careConnectCatalogue().source;
  const all = [...generatePopulation({ patients: 3, seed: 2017 })];
  const rows: string[] = [];
  for (const type of ['Patient', 'Observation']) {
    const resource = all.find((r) => r.resourceType === type)!;
    const issues = validateResource(resource, { source });
    for (let i = 0; i < rounds / 4; i++) validateResource(resource, { source });
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) validateResource(resource, { source });
      best = Math.min(best, Number(process.hrtime.bigint() - t) / 1000 / rounds);
    }
    const bytes = JSON.stringify(resource).length;
    rows.push(`| Care Connect ${type} (${bytes} bytes, ${issues.filter((i) => i.severity === 'error').length} errors) | ${best.toFixed(1)} | ${Math.round(1e6 / best).toLocaleString('en-GB')} |`);
  }
  return [
    `### Profile validation (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. One core, \`validateResource\` on a parsed resource (base definitions, bindings, invariants, extensions, the claimed Care Connect profile), best of 5 × ${rounds.toLocaleString('en-GB')} after a warm-up.`,
    '',
    '| resource | µs each | resources/s |',
    '|---|---:|---:|',
    ...rows,
    '',
    `Start-up, in a fresh process: definitions loaded in ${startup.load} ms (package URL index and Care Connect resources, from the build cache); every Care Connect profile compiled and its bound value sets expanded in ${startup.compile} ms more; first Patient validated ${startup.first} ms later. Total ${startup.load + startup.compile + startup.first} ms.`,
  ].join('\n');
}

const STARTUP = `
const t0 = performance.now();
const { packageSource } = await import('./dist/validation/profile/package-source.js');
const { careConnectCatalogue } = await import('./dist/validation/profile/catalogue.js');
const { careConnectProfiles } = await import('./dist/profiles/conformance.js');
const { engineFor } = await import('./dist/validation/profile/engine.js');
const { validateResource } = await import('./dist/validation/profile/index.js');
const { layered } = await import('./dist/validation/conformance.js');
packageSource().urls();
const cat = careConnectCatalogue();
const t1 = performance.now();
const source = cat.source;
const engine = engineFor(layered(source, packageSource()));
for (const url of Object.values(careConnectProfiles())) {
  const plan = engine.plan(url);
  const visit = (n) => { if (n.binding) engine.terminology.expansion(n.binding.valueSet); n.children.forEach(visit); n.slicing?.slices.forEach((s) => visit(s.node)); };
  if (plan) visit(plan.root);
}
const t2 = performance.now();
validateResource({ resourceType: 'Patient', gender: 'male', name: [{ family: 'X' }] }, { source });
const t3 = performance.now();
console.log(JSON.stringify({ load: Math.round(t1 - t0), compile: Math.round(t2 - t1), first: Math.round(t3 - t2) }));
`;
