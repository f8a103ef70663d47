import { DISCHARGE_SUMMARY, PRACTICE_SETTINGS, SECTIONS } from '../codes/documents.js';
import { SNOMED } from '../codes/systems.js';
import { DAY, fhirDate } from '../time.js';
import { resource, sct } from './build.js';
import type { Chart } from './chart.js';
import { narrative, term } from './narrative.js';
import { pdfDocument, wrap, type PdfLine } from './pdf.js';
import { RecordIndex, type Obj } from './record-index.js';
import { reference, type Ref } from './types.js';
import type { World } from './world.js';

/** What a discharge document says about one inpatient stay, gathered from the record. */
interface Stay {
  encounter: Obj;
  start: string;
  end: string;
  ward: Ref;
  consultant: Ref;
  specialty: string;
  emergency: boolean;
  diagnoses: Obj[];
  otherProblems: Obj[];
  procedures: Obj[];
  reports: Obj[];
  started: Obj[];
  medicines: Obj[];
  allergies: Obj[];
}

interface Section {
  key: keyof typeof SECTIONS;
  text: string;
  entries: ReadonlyArray<Obj | Ref>;
}

/**
 * The documents of every inpatient stay in a patient's record, written once the record
 * is complete so that they describe it as it stands at discharge: a transfer-of-care
 * Composition (CareConnect-Composition-1) with the PRSB section headings, the
 * discharge letter as a PDF in a Binary, and the DocumentReference that points at both.
 * `binaryIds` names the letters' Binaries in order (the documented examples use one id
 * from the API documentation); the rest are named after the patient.
 * https://hl7.org/fhir/STU3/composition.html, https://hl7.org/fhir/STU3/documentreference.html
 */
export function dischargeDocuments(chart: Chart, binaryIds: readonly string[] = []): void {
  const index = new RecordIndex(chart.out);
  const stays = index.all('Encounter').filter((e) => e.class?.code === 'IMP');
  stays.forEach((encounter, i) => {
    const stay = gather(chart, index, encounter);
    const sections = sectionsOf(chart, index, stay);
    const composition = chart.push(resource('Composition', chart.id('comp'), {
      status: 'final',
      type: sct(DISCHARGE_SUMMARY),
      subject: chart.subject,
      encounter: reference(refOf(encounter)),
      date: stay.end,
      author: [reference(stay.consultant)],
      title: DISCHARGE_SUMMARY.display,
      attester: [{ mode: ['legal'], time: stay.end, party: reference(stay.consultant) }],
      custodian: reference(chart.world.trust),
      section: sections.map((s) => ({
        title: SECTIONS[s.key].display,
        code: { coding: [{ system: SNOMED, code: SECTIONS[s.key].code, display: SECTIONS[s.key].display }] },
        text: narrative(s.text),
        ...(s.entries.length ? { entry: s.entries.map((e) => reference('resourceType' in e ? refOf(e) : (e as Ref))) } : {}),
      })),
    }));
    const pdf = pdfDocument(`Discharge summary for ${chart.p.ref.display}`, stay.end, letter(chart, stay, sections));
    const binaryId = binaryIds[i] ?? chart.id('bin');
    chart.push({ resourceType: 'Binary', id: binaryId, contentType: 'application/pdf', content: pdf.toString('base64') });
    const setting = PRACTICE_SETTINGS[stay.specialty];
    chart.push(resource('DocumentReference', chart.id('doc'), {
      status: 'current',
      docStatus: 'final',
      type: sct(DISCHARGE_SUMMARY),
      subject: chart.subject,
      created: stay.end,
      indexed: stay.end,
      author: [reference(stay.consultant)],
      custodian: reference(chart.world.trust),
      description: 'Discharge letter',
      content: [{ attachment: { contentType: 'application/pdf', language: 'en-GB', url: `Binary/${binaryId}`, size: pdf.length, title: 'Discharge letter', creation: stay.end } }],
      context: {
        encounter: reference(refOf(encounter)),
        period: encounter.period,
        ...(setting ? { practiceSetting: sct(setting) } : {}),
        related: [{ ref: reference(composition) }],
      },
    }));
  });
}

function refOf(r: Obj): Ref {
  return { type: r.resourceType, id: r.id };
}

const at = (iso: string) => Date.parse(iso);

function gather(chart: Chart, index: RecordIndex, encounter: Obj): Stay {
  const { start, end } = encounter.period as { start: string; end: string };
  const stayRef = `Encounter/${encounter.id}`;
  const episode = encounter.episodeOfCare?.[0]?.reference as string | undefined;
  const episodeEncounters = new Set(index.all('Encounter').filter((e) => e.episodeOfCare?.[0]?.reference === episode).map((e) => `Encounter/${e.id}`));
  const diagnosisRefs = new Set((encounter.diagnosis ?? []).map((d: Obj) => d.condition.reference as string));
  const within = (iso: string | undefined) => iso !== undefined && at(iso) >= at(start) - DAY && at(iso) <= at(end);
  const consultant = encounter.participant[0].individual as Ref & { reference: string };
  return {
    encounter,
    start,
    end,
    ward: encounter.location[0].location,
    consultant: { type: 'Practitioner', id: consultant.reference.slice('Practitioner/'.length), display: consultant.display! },
    specialty: specialtyOf(chart.world, consultant.reference),
    emergency: index.all('Encounter').some((e) => e.class?.code === 'EMER' && episodeEncounters.has(`Encounter/${e.id}`) && e.period.end === start),
    diagnoses: index.all('Condition').filter((c) => diagnosisRefs.has(`Condition/${c.id}`)),
    otherProblems: index.all('Condition').filter(
      (c) => !diagnosisRefs.has(`Condition/${c.id}`) && c.category?.[0]?.coding?.[0]?.code === 'problem-list-item' && at(c.onsetDateTime) <= at(end) && (!c.abatementDateTime || at(c.abatementDateTime) > at(end)),
    ),
    procedures: index.all('Procedure').filter((p) => p.context?.reference === stayRef),
    reports: index.all('DiagnosticReport').filter((r) => episodeEncounters.has(r.context?.reference) && within(r.effectiveDateTime)),
    started: index.all('MedicationRequest').filter((m) => m.context?.reference === stayRef && m.status !== 'stopped'),
    medicines: index.all('MedicationStatement').filter((m) => at(m.effectivePeriod.start) <= at(end) && (!m.effectivePeriod.end || at(m.effectivePeriod.end) >= at(end))),
    allergies: index.all('AllergyIntolerance').filter((a) => at(a.assertedDate) <= at(end)),
  };
}

/** The specialty a clinician works in (the documented examples' world names theirs the same way). */
function specialtyOf(world: World, practitioner: string): string {
  for (const [specialty, list] of world.clinicians) if (list.some((r) => `${r.type}/${r.id}` === practitioner)) return specialty;
  return 'General medicine';
}

const names = (list: Obj[], of: (r: Obj) => string) => list.map(of).join('; ');

/** A laboratory result as a letter quotes it: `Total white cell count 15.2 10*9/L (High)`. */
function result(o: Obj | undefined): string {
  if (!o?.valueQuantity) return '';
  const flag = term(o.interpretation);
  return `${term(o.code)} ${o.valueQuantity.value} ${o.valueQuantity.unit}${flag && flag !== 'Normal' ? ` (${flag})` : ''}`;
}

function sectionsOf(chart: Chart, index: RecordIndex, s: Stay): Section[] {
  const p = chart.p;
  const days = Math.max(1, Math.round((at(s.end) - at(s.start)) / DAY));
  const results = (report: Obj) => report.result.map((r: Obj) => result(index.get(r.reference))).filter(Boolean).join(', ');
  const sections: Section[] = [
    { key: 'demographics', text: `${p.ref.display}, ${p.sex}, born ${fhirDate(p.birth)}, NHS number ${p.nhsNumber}`, entries: [p.ref] },
    { key: 'gpPractice', text: `${p.gp.display}, ${p.practice.org.display}`, entries: [p.practice.org, p.gp] },
    { key: 'admission', text: `${s.emergency ? 'Emergency admission via the emergency department' : 'Planned admission'} on ${s.start.slice(0, 10)} to ${s.ward.display} under ${s.consultant.display}`, entries: [refOf(s.encounter)] },
    { key: 'diagnoses', text: [names(s.diagnoses, (c) => term(c.code)), s.otherProblems.length ? `Other problems: ${names(s.otherProblems, (c) => term(c.code))}` : ''].filter(Boolean).join('. '), entries: [...s.diagnoses, ...s.otherProblems] },
  ];
  if (s.procedures.length) sections.push({ key: 'procedures', text: names(s.procedures, (r) => `${term(r.code)} on ${r.performedPeriod.start.slice(0, 10)}`), entries: s.procedures });
  if (s.reports.length) sections.push({ key: 'investigations', text: names(s.reports, (r) => `${term(r.code)} on ${r.effectiveDateTime.slice(0, 10)}${results(r) ? `: ${results(r)}` : ''}`), entries: s.reports });
  sections.push(
    { key: 'medications', text: s.medicines.length ? names(s.medicines, (m) => `${m.medicationReference.display}: ${m.dosage[0].text}`) : 'No medicines', entries: s.medicines },
    { key: 'allergies', text: s.allergies.length ? names(s.allergies, (a) => term(a.code)) : 'Not recorded', entries: s.allergies },
    { key: 'summary', text: `Admitted with ${names(s.diagnoses, (c) => term(c.code)) || 'an acute illness'}.${s.started.length ? ` Started on ${names(s.started, (m) => m.medicationReference.display)}.` : ''}`, entries: [] },
    { key: 'discharge', text: `Discharged home on ${s.end.slice(0, 10)} after ${days} day${days === 1 ? '' : 's'}`, entries: [] },
    { key: 'plan', text: s.specialty === 'Obstetrics' ? 'Community midwife to visit at home; GP to review at six weeks' : 'Please continue the medicines listed; GP to review within two weeks', entries: [] },
    { key: 'author', text: `${s.consultant.display}, ${s.specialty}`, entries: [s.consultant] },
  );
  return sections;
}

/** The discharge letter: the trust's heading, then each section as a heading and its text. */
function letter(chart: Chart, stay: Stay, sections: Section[]): PdfLine[] {
  const lines: PdfLine[] = [{ text: chart.world.trust.display ?? '', bold: true }, { text: `${DISCHARGE_SUMMARY.display}, ${stay.ward.display}`, bold: true }, { text: '' }];
  for (const s of sections) {
    lines.push({ text: SECTIONS[s.key].display, bold: true });
    for (const line of wrap(s.text)) lines.push({ text: line });
    lines.push({ text: '' });
  }
  return lines;
}
