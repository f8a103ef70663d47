import type { CodeableConcept, Quantity, Resource, Fields } from '../fhir-types.js';

/** A vital sign the record page charts, found by its SNOMED CT or LOINC code. */
export interface VitalSign {
  key: string;
  label: string;
  unit: string;
  codes: string[];
  /** For panels (blood pressure): the component codes of each line. */
  components?: Array<{ label: string; codes: string[] }>;
}

export const VITALS: VitalSign[] = [
  { key: 'bp', label: 'Blood pressure', unit: 'mmHg', codes: ['75367002', '85354-9', '55284-4'], components: [{ label: 'Systolic', codes: ['271649006', '8480-6'] }, { label: 'Diastolic', codes: ['271650006', '8462-4'] }] },
  { key: 'hr', label: 'Heart rate', unit: 'beats/min', codes: ['364075005', '8867-4'] },
  { key: 'temp', label: 'Temperature', unit: '°C', codes: ['386725007', '8310-5', '276885007'] },
  { key: 'spo2', label: 'Oxygen saturation', unit: '%', codes: ['431314004', '59408-5', '2708-6', '103228002'] },
  { key: 'weight', label: 'Weight', unit: 'kg', codes: ['27113001', '29463-7', '363808001'] },
  { key: 'bmi', label: 'BMI', unit: 'kg/m²', codes: ['60621009', '39156-5'] },
];

export interface Series {
  label: string;
  values: Array<number | null>;
}

/** One chart's data: times (seconds since 1970, ascending) and a value line per series. */
export interface VitalData {
  vital: VitalSign;
  times: number[];
  series: Series[];
  unit: string;
}

const hasCode = (c: CodeableConcept | undefined, codes: string[]) => (c?.coding ?? []).some((x) => x.code !== undefined && codes.includes(x.code));

/** Sorts observations into the vital-sign series they belong to; those without a time or value are left out. */
export function vitalSeries(observations: Resource[]): VitalData[] {
  const out: VitalData[] = [];
  for (const vital of VITALS) {
    const points: Array<{ t: number; v: Array<number | null>; unit?: string }> = [];
    for (const o of observations as Array<Fields>) {
      if (!hasCode(o.code, vital.codes) || o.status === 'entered-in-error') continue;
      const when = o.effectiveDateTime ?? (o.effectivePeriod as { start?: string } | undefined)?.start ?? o.issued;
      const t = when ? Date.parse(when) / 1000 : NaN;
      if (Number.isNaN(t)) continue;
      if (vital.components) {
        const comps = (o.component as Array<{ code?: CodeableConcept; valueQuantity?: Quantity }> | undefined) ?? [];
        const v = vital.components.map((c) => comps.find((x) => hasCode(x.code, c.codes))?.valueQuantity?.value ?? null);
        if (v.some((x) => x !== null)) points.push({ t, v, unit: comps[0]?.valueQuantity?.unit });
      } else {
        const q = o.valueQuantity as Quantity | undefined;
        if (typeof q?.value === 'number') points.push({ t, v: [q.value], unit: q.unit });
      }
    }
    if (!points.length) continue;
    points.sort((a, b) => a.t - b.t);
    const labels = vital.components?.map((c) => c.label) ?? [vital.label];
    out.push({
      vital,
      times: points.map((p) => p.t),
      series: labels.map((label, i) => ({ label, values: points.map((p) => p.v[i] ?? null) })),
      unit: points.find((p) => p.unit)?.unit ?? vital.unit,
    });
  }
  return out;
}
