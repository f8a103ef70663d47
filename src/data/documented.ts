import { bernie } from './bernie.js';
import { SDS_JOB_ROLES } from './codes/careconnect.js';
import { codeSystem, GMP, ODS_SITE, SDS_USER, SNOMED } from './codes/systems.js';
import { resource } from './generate/build.js';
import { Ids, reference, type Ref, type Res } from './generate/types.js';
import { organisation } from './generate/world.js';

/**
 * The resources the Care Connect API documentation uses in its examples, so that
 * each documented request returns what the documentation describes:
 * - Patient/1, Bernie Kanfeld (NHS number 9876543210, female, born 1998-03-19,
 *   bernie.kanfeld@chumhum.com, 07999123456, NG10 1ZZ; build_patient_search.md and
 *   api_entity_patient.md), registered at Organization/1, Moir Medical Centre (C81010);
 * - Practitioner/1 (GMP G8133438, SDS user 123456, postcode NG10 1QQ) and
 *   PractitionerRole/1 (organization=1, practitioner=1);
 * - Organization RTG, Derby Teaching Hospitals NHS Trust, and its site RTG08,
 *   Long Eaton Clinic (NG10 1RY);
 * - Medication/1 (SNOMED CT 320141001, `Medication?code=320141001`), prescribed to
 *   Bernie (`MedicationRequest?medication=1`).
 * Bernie has a record of her own (bernie.ts).
 */
export function documentedResources(ids: Ids = new Ids('')): Res[] {
  const out: Res[] = [];
  const moir: Ref = { type: 'Organization', id: '1', display: 'Moir Medical Centre' };
  const derby: Ref = { type: 'Organization', id: '2', display: 'Derby Teaching Hospitals NHS Trust' };
  const clinic: Ref = { type: 'Location', id: '1', display: 'Long Eaton Clinic' };
  const gp: Ref = { type: 'Practitioner', id: '1', display: 'Dr Anand Bhatia' };
  const consultant: Ref = { type: 'Practitioner', id: '2', display: 'Dr Ruth Ellis' };
  out.push(organisation('1', 'C81010', 'Moir Medical Centre', 'Regent Street', 'Long Eaton', 'NG10 1QQ', '0115 496 0000'));
  out.push(organisation('2', 'RTG', 'Derby Teaching Hospitals NHS Trust', 'Uttoxeter Road', 'Derby', 'DE22 3NE', '01332 496 000'));
  out.push(resource('Location', '1', {
    identifier: [{ system: ODS_SITE, value: 'RTG08' }],
    status: 'active', name: 'Long Eaton Clinic', mode: 'instance',
    address: { use: 'work', type: 'both', line: ['Midland Street'], city: 'Long Eaton', postalCode: 'NG10 1RY', country: 'GB' },
    managingOrganization: reference(derby),
  }));
  out.push(resource('Practitioner', '1', {
    identifier: [{ system: SDS_USER, value: '123456' }, { system: GMP, value: 'G8133438' }],
    active: true,
    name: [{ use: 'usual', family: 'Bhatia', given: ['Anand'], prefix: ['Dr'] }],
    telecom: [{ system: 'phone', value: '0115 496 0000', use: 'work' }],
    address: [{ use: 'work', line: ['Regent Street'], city: 'Long Eaton', postalCode: 'NG10 1QQ', country: 'GB' }],
    gender: 'male',
  }));
  out.push(resource('PractitionerRole', '1', {
    identifier: [{ system: SDS_USER, value: '123456' }],
    active: true,
    practitioner: reference(gp),
    organization: reference(moir),
    code: [{ coding: [{ system: codeSystem('SDSJobRoleName'), code: SDS_JOB_ROLES.gp.code, display: SDS_JOB_ROLES.gp.display }] }],
  }));
  out.push(resource('Practitioner', '2', {
    identifier: [{ system: SDS_USER, value: '654321' }],
    active: true,
    name: [{ use: 'usual', family: 'Ellis', given: ['Ruth'], prefix: ['Dr'] }],
    gender: 'female',
  }));
  out.push(resource('PractitionerRole', '2', {
    active: true,
    practitioner: reference(consultant),
    organization: reference(derby),
    code: [{ coding: [{ system: codeSystem('SDSJobRoleName'), code: SDS_JOB_ROLES.consultant.code, display: SDS_JOB_ROLES.consultant.display }] }],
    specialty: [{ text: 'Respiratory medicine' }],
    location: [reference(clinic)],
  }));
  // The documentation's Medication example is SNOMED CT 320141001, a salbutamol inhaler of the original's data.
  out.push(resource('Medication', '1', { code: { coding: [{ system: SNOMED, code: '320141001' }], text: 'Salbutamol inhaler' } }));
  out.push(...bernie(ids, { moir, derby, clinic, gp, consultant }));
  return out;
}

