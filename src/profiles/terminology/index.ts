import type { CodeSystemDef } from '../dsl.js';
import * as clinical from './code-systems/clinical.js';
import * as communication from './code-systems/communication.js';
import * as demographics from './code-systems/demographics.js';
import * as hospital from './code-systems/hospital.js';
import { sdsJobRoleName } from './code-systems/sds-job-role-name.js';
import { valueSets } from './value-sets.js';

/** Every Care Connect code system and value set this project carries. */
export const codeSystems: CodeSystemDef[] = [
  ...Object.values(demographics),
  ...Object.values(communication),
  ...Object.values(hospital),
  ...Object.values(clinical),
  sdsJobRoleName,
];

export { valueSets };
