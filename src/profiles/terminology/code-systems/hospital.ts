import { careConnectCodeSystem } from '../../define.js';
import { table } from '../../dsl.js';

/** NHS Data Dictionary code systems of hospital admission, discharge and attendance. */

export const admissionMethod = careConnectCodeSystem('AdmissionMethod', {
  title: 'Admission method',
  description: 'How a patient was admitted to hospital.',
  concepts: table(`
  11  Waiting list
  12  Booked
  13  Planned
  21  Accident and emergency or dental casualty department of the Health Care Provider
  22  General Practitioner: after a request for immediate admission has been made direct to a Hospital Provider, i.e. not through a Bed bureau, by a General Practitioner or deputy
  23  Bed bureau
  24  Consultant Clinic, of this or another Health Care Provider
  25  Admission via Mental Health Crisis Resolution Team
  2A  Accident and Emergency Department of another provider where the Patient had not been admitted
  2B  Transfer of an admitted Patient from another Hospital Provider in an emergency
  2C  Baby born at home as intended
  2D  Other emergency admission
  28  Other means
  31  Admitted ante-partum
  32  Admitted post-partum
  82  The birth of a baby in this Health Care Provider
  83  Baby born outside the Health Care Provider except when born at home as intended.
  81  Transfer of any admitted Patient from other Hospital Provider other than in an emergency
`),
});

export const sourceOfAdmission = careConnectCodeSystem('SourceOfAdmission', {
  title: 'Source of admission',
  description: 'Where a patient was immediately before admission.',
  concepts: table(`
  19  Usual place of residence unless listed below, for example, a private dwelling whether owner occupied or owned by Local Authority, housing association or other landlord. This includes wardened accommodation but not residential accommodation where health care is provided. It also includes Patients with no fixed abode.
  29  Temporary place of residence when usually resident elsewhere (e.g. hotels, residential Educational Establishments)
  39  Penal establishment, Court, or Police Station / Police Custody Suite
  49  NHS other Hospital Provider - high security psychiatric accommodation in an NHS Hospital Provider (NHS Trust or NHS Foundation Trust)
  51  NHS other Hospital Provider - Ward for general Patients or the younger physically disabled or A and E department
  52  NHS other Hospital Provider - Ward for maternity Patients or Neonates
  53  NHS other Hospital Provider - Ward for Patients who are mentally ill or have Learning Disabilities
  54  NHS run Care Home
  65  Local Authority residential accommodation i.e. where care is provided
  66  Local Authority foster care
  79  Babies born in or on the way to hospital
  85  Non-NHS (other than Local Authority) run Care Home
  87  Non NHS run hospital
  88  Non-NHS (other than Local Authority) run Hospice
`),
});

export const dischargeMethod = careConnectCodeSystem('DischargeMethod', {
  title: 'Discharge method',
  description: 'How a patient was discharged from hospital.',
  concepts: table(`
  1  Patient discharged on clinical advice or with clinical consent
  2  Patient discharged him/herself or was discharged by a relative or advocate
  3  Patient discharged by mental health review tribunal, Home Secretary or Court
  4  Patient died
  5  Stillbirth
  6  Patient discharged him/herself
  7  Patient discharged by a relative or advocate
`),
});

export const dischargeDestination = careConnectCodeSystem('DischargeDestination', {
  title: 'Discharge destination',
  description: 'Where a patient went on discharge from hospital.',
  concepts: table(`
  19  Usual place of residence unless listed below, for example, a private dwelling whether owner occupied or owned by Local Authority, housing association or other landlord. This includes wardened accommodation but not residential accommodation where health care is provided. It also includes Patients with no fixed abode.
  29  Temporary place of residence when usually resident elsewhere (e.g. hotels, residential Educational Establishment)
  30  Repatriation from high security psychiatric accommodation in an NHS Hospital Provider (NHS Trust or NHS Foundation Trust)
  37  Court
  38  Penal establishment or police station
  48  High Security Psychiatric Hospital, Scotland
  49  NHS other Hospital Provider - high security psychiatric accommodation
  50  NHS other Hospital Provider - medium secure unit
  51  NHS other Hospital Provider - Ward for general Patients or the younger physically disabled
  52  NHS other Hospital Provider - Ward for maternity Patients or Neonates
  53  NHS other Hospital Provider - Ward for Patients who are mentally ill or have Learning Disabilities
  54  NHS run Care Home
  65  Local Authority residential accommodation i.e. where care is provided
  66  Local Authority foster care
  79  Not applicable - Patient died or still birth
  84  Non-NHS run hospital - medium secure unit
  85  Non-NHS (other than Local Authority) run Care Home
  87  Non NHS run hospital
  88  Non-NHS (other than Local Authority) run Hospice
`),
});

export const outcomeOfAttendance = careConnectCodeSystem('OutcomeOfAttendance', {
  title: 'Outcome of attendance',
  description: 'The outcome of an out-patient attendance.',
  concepts: table(`
  1  Discharged from Consultant's care (last attendance)
  2  Another Appointment given
  3  Appointment to be made at a later date
`),
});
