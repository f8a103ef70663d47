/**
 * The generated narrative of every generated resource: one short line of XHTML, as the
 * Care Connect examples carry (`text.status` = `generated`). Kept lean: it is stored,
 * sent and indexed for `_text` with every resource.
 * https://hl7.org/fhir/STU3/narrative.html
 */

type Obj = Record<string, any>;

const XHTML_OPEN = '<div xmlns="http://www.w3.org/1999/xhtml">';

/** Text made safe for XHTML content (the narrative is text only: no markup is generated from data). */
export function escapeXhtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** A Narrative of the given plain text. */
export function narrative(text: string): { status: 'generated'; div: string } {
  return { status: 'generated', div: `${XHTML_OPEN}${escapeXhtml(text)}</div>` };
}

/** The term of a CodeableConcept: its text, or the display of its first coding that has one. */
export function term(cc: Obj | undefined): string {
  if (!cc) return '';
  if (cc.text) return cc.text;
  for (const c of cc.coding ?? []) if (c.display) return c.display;
  return cc.coding?.[0]?.code ?? '';
}

const day = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : '');
const who = (ref: Obj | undefined) => ref?.display ?? '';
const join = (...parts: Array<string | false | undefined>) => parts.filter(Boolean).join(', ');
const span = (p: Obj | undefined) => (p ? (p.end ? `${day(p.start)} to ${day(p.end)}` : `from ${day(p.start)}`) : '');

function humanName(names: Obj[] | undefined): string {
  const n = names?.[0];
  if (!n) return '';
  return n.text ?? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

function amount(q: Obj | undefined): string {
  return q ? `${q.value} ${q.unit ?? q.code ?? ''}`.trim() : '';
}

function observation(r: Obj): string {
  const comps: Obj[] = r.component ?? [];
  const value = comps.length
    ? `${comps.map((c) => c.valueQuantity?.value).join('/')} ${comps[0]?.valueQuantity?.unit ?? ''}`.trim()
    : amount(r.valueQuantity) || term(r.valueCodeableConcept) || (r.valueString ?? '');
  const flag = r.interpretation && term(r.interpretation) !== 'Normal' ? ` (${term(r.interpretation)})` : '';
  return `${term(r.code)}: ${value}${flag}, ${day(r.effectiveDateTime)}`;
}

/** One line per resource type, from the resource's own elements. */
const SUMMARIES: Record<string, (r: Obj) => string> = {
  Patient: (r) => {
    const nhs = (r.identifier as Obj[] | undefined)?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value as string | undefined;
    return join(humanName(r.name), r.gender, `born ${r.birthDate}`, r.deceasedDateTime && `died ${day(r.deceasedDateTime)}`, nhs && `NHS number ${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`);
  },
  Practitioner: (r) => humanName(r.name),
  PractitionerRole: (r) => join(who(r.practitioner), term(r.code?.[0]), r.specialty?.[0]?.text, who(r.organization)),
  Organization: (r) => `${r.name}${r.identifier?.[0] ? ` (ODS ${r.identifier[0].value})` : ''}`,
  Location: (r) => join(r.name, r.partOf && `part of ${who(r.partOf)}`, r.address?.postalCode),
  Medication: (r) => term(r.code),
  Condition: (r) => join(term(r.code), r.clinicalStatus, `since ${day(r.onsetDateTime)}`, r.abatementDateTime && `resolved ${day(r.abatementDateTime)}`),
  EpisodeOfCare: (r) => join(term(r.type?.[0]), r.status, span(r.period)),
  Encounter: (r) => join(r.class?.display, who(r.location?.[0]?.location), span(r.period), term(r.reason?.[0])),
  Observation: observation,
  DiagnosticReport: (r) => join(term(r.code), r.status, `${r.result?.length ?? 0} result${r.result?.length === 1 ? '' : 's'}`, `issued ${day(r.issued)}`),
  Procedure: (r) => join(term(r.code), r.status, day(r.performedPeriod?.start ?? r.performedDateTime)),
  AllergyIntolerance: (r) => join(term(r.code), r.criticality && `${r.criticality} criticality`, r.reaction?.[0]?.manifestation?.map(term).join(' and '), `recorded ${day(r.assertedDate)}`),
  Immunization: (r) => join(term(r.vaccineCode), `given ${day(r.date)}`),
  MedicationRequest: (r) => join(who(r.medicationReference), r.dosageInstruction?.[0]?.text, r.status, `authored ${day(r.authoredOn)}`),
  MedicationStatement: (r) => join(who(r.medicationReference), r.dosage?.[0]?.text, r.status, span(r.effectivePeriod)),
  Flag: (r) => join(term(r.code), r.status, span(r.period)),
  FamilyMemberHistory: (r) => `${term(r.relationship)}: ${(r.condition as Obj[] | undefined)?.map((c) => term(c.code)).join(', ') ?? ''}`,
  Composition: (r) => join(r.title, who(r.subject), day(r.date)),
  DocumentReference: (r) => join(r.description ?? term(r.type), who(r.subject), day(r.created)),
  Group: (r) => join(r.name, `${r.quantity ?? 0} patients`),
};

/**
 * The narrative of a generated resource, or undefined for a type that cannot carry one
 * (Binary, Bundle and Parameters are not DomainResources).
 */
export function narrativeOf(type: string, body: Obj): { status: 'generated'; div: string } | undefined {
  const summary = SUMMARIES[type];
  if (summary) return narrative(summary(body));
  return type === 'Binary' || type === 'Bundle' || type === 'Parameters' ? undefined : narrative(type);
}
