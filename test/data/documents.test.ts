import { inflateSync } from 'node:zlib';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { ALLERGIES } from '../../src/data/codes/allergies.js';
import { CONDITIONS } from '../../src/data/codes/conditions.js';
import { DISCHARGE_SUMMARY, FLAGS, SECTIONS } from '../../src/data/codes/documents.js';
import { LAB_PANELS, LABS } from '../../src/data/codes/observations.js';
import { demoResources } from '../../src/data/demo.js';
import { escapeXhtml, narrative } from '../../src/data/generate/narrative.js';
import { pdfDocument, wrap } from '../../src/data/generate/pdf.js';
import { generatePopulation } from '../../src/data/generate/population.js';
import { parseXml, serializeXml } from '../../src/fhir/xml.js';

type Obj = Record<string, any>;

const population = [...generatePopulation({ patients: 150, seed: 21 })] as Obj[];
const byRef = new Map(population.map((r) => [`${r.resourceType}/${r.id}`, r]));
const all = (type: string) => population.filter((r) => r.resourceType === type);
const get = (ref: Obj | string) => byRef.get(typeof ref === 'string' ? ref : ref.reference);
const code = (cc: Obj) => cc.coding[0].code as string;
const patientOf = (r: Obj) => (r.subject ?? r.patient).reference as string;

/** The page content streams of a PDF made by pdfDocument, inflated. */
function pdfStreams(pdf: Buffer): string[] {
  const text = pdf.toString('latin1');
  return [...text.matchAll(/<< \/Length (\d+) \/Filter \/FlateDecode >>\nstream\n/g)].map((m) => {
    const start = m.index! + m[0].length;
    return inflateSync(pdf.subarray(start, start + Number(m[1]))).toString('latin1');
  });
}

/** The text of a PDF made by pdfDocument: its string operands, in order. */
function pdfText(pdf: Buffer): string {
  return pdfStreams(pdf)
    .flatMap((s) => [...s.matchAll(/\(((?:\\.|[^\\)])*)\) Tj/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')))
    .join('\n');
}

/** Checks the structure readers rely on: the header, each object where the cross-reference table says, the stream lengths, the trailer. */
function checkPdf(pdf: Buffer): void {
  const text = pdf.toString('latin1');
  expect(text.startsWith('%PDF-1.4\n')).toBe(true);
  expect(text.endsWith('%%EOF\n')).toBe(true);
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
  expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
  const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(text.slice(startxref))!;
  expect(first).toBe('0');
  const entries = text.slice(startxref).split('\n').slice(2, 2 + Number(count));
  expect(entries[0]).toBe('0000000000 65535 f ');
  entries.slice(1).forEach((e, i) => {
    expect(e).toMatch(/^\d{10} 00000 n $/);
    expect(text.slice(Number(e.slice(0, 10))).startsWith(`${i + 1} 0 obj\n`)).toBe(true);
  });
  const streams = [...text.matchAll(/<< \/Length (\d+) \/Filter \/FlateDecode >>\nstream\n/g)];
  expect(streams.length).toBeGreaterThan(0);
  for (const m of streams) {
    const start = m.index! + m[0].length;
    expect(text.slice(start + Number(m[1]), start + Number(m[1]) + 10)).toBe('\nendstream');
  }
  for (const s of pdfStreams(pdf)) expect(s).toMatch(/^BT [\s\S]* ET$|^BT [\s\S]*\nET$/);
  expect(text).toMatch(new RegExp(`trailer\\n<< /Size ${count} /Root 1 0 R /Info \\d+ 0 R >>`));
}

describe('the demo data set', () => {
  it('names every resource once, and every reference resolves within it', () => {
    const demo = [...demoResources()] as Obj[];
    const ids = new Set(demo.map((r) => `${r.resourceType}/${r.id}`));
    expect(ids.size, 'two resources share a type and id').toBe(demo.length);
    const refs = (node: unknown): string[] => {
      if (Array.isArray(node)) return node.flatMap(refs);
      if (!node || typeof node !== 'object') return [];
      return Object.entries(node).flatMap(([k, v]) => (k === 'reference' && typeof v === 'string' ? [v] : refs(v)));
    };
    for (const r of demo) for (const ref of refs(r)) expect(ids.has(ref), `${r.resourceType}/${r.id} -> ${ref}`).toBe(true);
    for (const d of demo.filter((r) => r.resourceType === 'DocumentReference')) expect(ids.has(d.content[0].attachment.url)).toBe(true);
  });
});

describe('generated narratives', () => {
  it('escapes text for XHTML and wraps it in the XHTML div', () => {
    expect(escapeXhtml('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
    expect(narrative('Merck Sharp & Dohme <UK>')).toEqual({ status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Merck Sharp &amp; Dohme &lt;UK&gt;</div>' });
  });

  it('gives every generated resource but Binary a short, well-formed generated narrative that survives XML', () => {
    let escaped = 0;
    for (const r of [...population, ...demoResources()] as Obj[]) {
      if (r.resourceType === 'Binary') {
        expect(r.text).toBeUndefined();
        continue;
      }
      expect(r.text?.status, `${r.resourceType}/${r.id}`).toBe('generated');
      const div = r.text.div as string;
      expect(div.startsWith('<div xmlns="http://www.w3.org/1999/xhtml">') && div.endsWith('</div>'), div).toBe(true);
      expect(XMLValidator.validate(div), div).toBe(true);
      expect(div.length, div).toBeLessThan(400);
      if (div.includes('&amp;')) escaped++;
    }
    // Vaccine names carry '&' (Merck Sharp & Dohme): escaping is exercised, not assumed.
    expect(escaped).toBeGreaterThan(0);
    for (const type of ['Patient', 'Composition', 'DocumentReference', 'Binary', 'DiagnosticReport', 'Flag', 'Immunization']) {
      const r = all(type)[0]!;
      expect(parseXml(serializeXml(r))).toEqual(r);
    }
  });

  it('says what the resource holds', () => {
    const obs = all('Observation').find((o) => o.valueQuantity)!;
    expect(obs.text.div).toContain(`${obs.code.coding[0].display}: ${obs.valueQuantity.value} ${obs.valueQuantity.unit}`);
    const patient = all('Patient')[0]!;
    expect(patient.text.div).toContain(`${patient.name[0].family}, ${patient.gender}, born ${patient.birthDate}`);
  });
});

describe('laboratory reports', () => {
  it('groups every laboratory result of a sample into the report of its panel', () => {
    const reported = new Map<string, string>();
    for (const report of all('DiagnosticReport')) {
      const panel = LAB_PANELS.find((p) => p.code === code(report.code))!;
      expect(panel, code(report.code)).toBeDefined();
      expect(report).toMatchObject({ status: 'final', category: { coding: [{ system: 'http://hl7.org/fhir/v2/0074', code: panel.section.code }] } });
      expect(report.performer[0].actor.reference).toMatch(/^Organization\//);
      expect(Date.parse(report.issued)).toBeGreaterThan(Date.parse(report.effectiveDateTime));
      for (const ref of report.result) {
        const obs = get(ref)!;
        expect(obs.resourceType).toBe('Observation');
        expect(obs.category[0].coding[0].code).toBe('laboratory');
        expect(panel.labs.map((k) => LABS[k].code)).toContain(code(obs.code));
        expect([patientOf(obs), obs.context.reference, obs.effectiveDateTime, obs.issued]).toEqual([patientOf(report), report.context.reference, report.effectiveDateTime, report.issued]);
        expect(reported.has(obs.id), `${obs.id} in two reports`).toBe(false);
        reported.set(obs.id, report.id);
      }
    }
    const labs = all('Observation').filter((o) => o.category[0].coding[0].code === 'laboratory');
    expect(labs.length).toBeGreaterThan(100);
    for (const o of labs) expect(reported.has(o.id), `${o.id} is in no report`).toBe(true);
  });
});

describe('discharge documents', () => {
  const stays = all('Encounter').filter((e) => e.class.code === 'IMP');

  it('writes a Composition, a PDF letter in a Binary and a DocumentReference for every inpatient stay', () => {
    expect(stays.length).toBeGreaterThan(10);
    const docs = all('DocumentReference');
    expect(docs.map((d) => d.context.encounter.reference).sort()).toEqual(stays.map((s) => `Encounter/${s.id}`).sort());
    for (const doc of docs) {
      const stay = get(doc.context.encounter)!;
      expect(patientOf(doc)).toBe(patientOf(stay));
      expect(code(doc.type)).toBe(DISCHARGE_SUMMARY.code);
      expect(doc.context.period).toEqual(stay.period);
      expect(doc.created).toBe(stay.period.end);
      expect(doc.author).toEqual([stay.participant[0].individual]);
      expect(doc.context.practiceSetting.coding[0].system).toBe('http://snomed.info/sct');
      const attachment = doc.content[0].attachment;
      const binary = get(attachment.url)!;
      expect(binary.resourceType).toBe('Binary');
      expect(binary.contentType).toBe(attachment.contentType);
      expect(attachment.contentType).toBe('application/pdf');
      const pdf = Buffer.from(binary.content, 'base64');
      expect(pdf.length).toBe(attachment.size);
      checkPdf(pdf);
      const composition = get(doc.context.related[0].ref)!;
      expect(composition.resourceType).toBe('Composition');
      expect(composition.encounter.reference).toBe(`Encounter/${stay.id}`);
      // The letter says what the structured document says.
      const text = pdfText(pdf);
      for (const section of composition.section) {
        expect(text).toContain(section.title);
        expect(text.replace(/\n/g, ' ')).toContain(section.text.div.slice(43, -6).replace(/&amp;/g, '&').split(' ').slice(0, 6).join(' '));
      }
    }
  });

  it('describes the stay in the sections of the transfer-of-care Composition, referring to the record', () => {
    for (const composition of all('Composition')) {
      const stay = get(composition.encounter)!;
      expect(composition).toMatchObject({ status: 'final', date: stay.period.end, title: 'Discharge summary' });
      expect(composition.subject.reference).toBe(patientOf(stay));
      const sections = new Map(composition.section.map((s: Obj) => [code(s.code), s]));
      const valid = new Set(Object.values(SECTIONS).map((s) => s.code));
      for (const c of sections.keys()) expect(valid).toContain(c);
      for (const required of ['demographics', 'gpPractice', 'diagnoses', 'allergies', 'summary', 'author'] as const) expect(sections.has(SECTIONS[required].code), required).toBe(true);
      const entries = (key: keyof typeof SECTIONS) => ((sections.get(SECTIONS[key].code) as Obj | undefined)?.entry ?? []).map((e: Obj) => get(e)!);
      for (const s of composition.section) for (const e of s.entry ?? []) expect(get(e), e.reference).toBeDefined();
      const diagnoses = entries('diagnoses').map((c: Obj) => `Condition/${c.id}`);
      for (const d of stay.diagnosis) expect(diagnoses).toContain(d.condition.reference);
      const end = Date.parse(stay.period.end);
      for (const m of entries('medications')) {
        expect(m.resourceType).toBe('MedicationStatement');
        expect(patientOf(m)).toBe(patientOf(stay));
        expect(Date.parse(m.effectivePeriod.start)).toBeLessThanOrEqual(end);
        if (m.effectivePeriod.end) expect(Date.parse(m.effectivePeriod.end)).toBeGreaterThanOrEqual(end);
      }
      for (const p of entries('procedures')) expect(p.context.reference).toBe(`Encounter/${stay.id}`);
      for (const r of entries('investigations')) expect(r.resourceType).toBe('DiagnosticReport');
    }
  });

  it('writes a valid PDF of many pages, in Latin-1, with its parentheses escaped', () => {
    const lines = Array.from({ length: 130 }, (_, i) => ({ text: `Line ${i} (with brackets) \\ and é and \u2013`, bold: i % 10 === 0 }));
    const pdf = pdfDocument('Test', '2020-01-02T03:04:05+00:00', lines);
    checkPdf(pdf);
    expect(pdf.toString('latin1')).toContain('/Count 3');
    expect(pdfText(pdf).split('\n')[5]).toBe('Line 5 (with brackets) \\ and é and ?');
    expect(pdfDocument('Test', '2020-01-02T03:04:05+00:00', lines).equals(pdf)).toBe(true);
    expect(wrap('a'.repeat(10) + ' ' + 'b'.repeat(10), 15)).toEqual(['a'.repeat(10), 'b'.repeat(10)]);
  });
});

describe('flags', () => {
  it('flags penicillin allergies and the risk of falls, and nothing else', () => {
    const flags = all('Flag');
    expect(flags.length).toBeGreaterThan(3);
    for (const flag of flags) {
      const patient = get(flag.subject)!;
      const mine = (type: string) => population.filter((r) => r.resourceType === type && patientOf(r) === flag.subject.reference);
      expect(flag.status).toBe(patient.deceasedDateTime ? 'inactive' : 'active');
      if (patient.deceasedDateTime) expect(flag.period.end).toBe(patient.deceasedDateTime);
      if (code(flag.code) === FLAGS.penicillinAllergy.code) {
        expect(flag.category.coding[0].code).toBe('drug');
        expect(mine('AllergyIntolerance').some((a) => code(a.code) === ALLERGIES.penicillin.code && a.assertedDate === flag.period.start)).toBe(true);
      } else {
        expect(code(flag.code)).toBe(FLAGS.fallsRisk.code);
        const risky = [CONDITIONS.dementia, CONDITIONS.alzheimers, CONDITIONS.parkinsons, CONDITIONS.hipFracture].map((c) => c.code);
        expect(mine('Condition').some((c) => risky.includes(code(c.code)))).toBe(true);
      }
    }
    const allergic = new Set(all('AllergyIntolerance').filter((a) => code(a.code) === ALLERGIES.penicillin.code).map(patientOf));
    const flagged = new Set(flags.filter((f) => code(f.code) === FLAGS.penicillinAllergy.code).map((f) => f.subject.reference));
    expect(flagged).toEqual(allergic);
  });
});
