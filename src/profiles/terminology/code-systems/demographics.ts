import { careConnectCodeSystem } from '../../define.js';
import { table } from '../../dsl.js';

/** Code systems of the patient demographics extensions (NHS Data Dictionary and PDS codes). */

export const ethnicCategory = careConnectCodeSystem('EthnicCategory', {
  title: 'Ethnic category',
  description: 'The ethnic categories of the NHS Data Dictionary (2001 census categories and their extensions).',
  concepts: table(`
  A   British, Mixed British
  B   Irish
  C   Any other White background
  C2  Northern Irish
  C3  Other white, white unspecified
  CA  English
  CB  Scottish
  CC  Welsh
  CD  Cornish
  CE  Cypriot (part not stated)
  CF  Greek
  CG  Greek Cypriot
  CH  Turkish
  CJ  Turkish Cypriot
  CK  Italian
  CL  Irish Traveller
  CM  Traveller
  CN  Gypsy/Romany
  CP  Polish
  CQ  All republics which made up the former USSR
  CR  Kosovan
  CS  Albanian
  CT  Bosnian
  CU  Croatian
  CV  Serbian
  CW  Other republics which made up the former Yugoslavia
  CX  Mixed white
  CY  Other white European, European unspecified, European mixed
  D   White and Black Caribbean
  E   White and Black African
  F   White and Asian
  G   Any other mixed background
  GA  Black and Asian
  GB  Black and Chinese
  GC  Black and White
  GD  Chinese and White
  GE  Asian and Chinese
  GF  Other Mixed, Mixed Unspecified
  H   Indian or British Indian
  J   Pakistani or British Pakistani
  K   Bangladeshi or British Bangladeshi
  L   Any other Asian background
  LA  Mixed Asian
  LB  Punjabi
  LC  Kashmiri
  LD  East African Asian
  LE  Sri Lanka
  LF  Tamil
  LG  Sinhalese
  LH  British Asian
  LJ  Caribbean Asian
  LK  Other Asian, Asian unspecified
  M   Caribbean
  N   African
  P   Any other Black background
  PA  Somali
  PB  Mixed Black
  PC  Nigerian
  PD  Black British
  PE  Other Black, Black unspecified
  R   Chinese
  S   Any other ethnic group
  SA  Vietnamese
  SB  Japanese
  SC  Filipino
  SD  Malaysian
  SE  Any Other Group
  Z   Not stated
`),
});

export const nhsNumberVerificationStatus = careConnectCodeSystem('NHSNumberVerificationStatus', {
  title: 'NHS number verification status',
  description: 'How far an NHS number has been traced and verified.',
  concepts: table(`
  01  Number present and verified
  02  Number present but not traced
  03  Trace required
  04  Trace attempted - No match or multiple match found
  05  Trace needs to be resolved - (NHS number or patient detail conflict)
  06  Trace in progress
  07  Number not present and trace not required
  08  Trace postponed (baby under six weeks old)
`),
});

export const deathNotificationStatus = careConnectCodeSystem('DeathNotificationStatus', {
  title: 'Death notification status',
  description: 'The status of a death notification as the Personal Demographics Service holds it.',
  concepts: table(`
  1  Informal - death notice received via an update from a local NHS Organisation such as GP or Trust
  2  Formal - death notice received from Registrar of Deaths
  U  Removed
`),
});

export const residentialStatus = careConnectCodeSystem('ResidentialStatus', {
  title: 'Residential status',
  description: 'Whether a person is resident in the UK.',
  concepts: table(`
  H  UK Resident
  O  Overseas Resident
`),
});

export const treatmentCategory = careConnectCodeSystem('TreatmentCategory', {
  title: 'Treatment category',
  description: 'The charging category of an overseas visitor.',
  concepts: table(`
  1  Exempt from payment - subject to reciprocal health agreement
  2  Exempt from payment - other
  3  To pay hotel fees only
  4  To pay all fees
  9  Charging rate not known
  8  Not applicable
`),
});
