import { identifierSlice, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { prohibited, required, sliceBy, slot } from '../dsl.js';
import { ccValueSet, ID } from '../urls.js';
import { nhsCommunication } from './extensions/patient.js';

/** CareConnect-Practitioner-1: SDS user and role profile ids, NHS communication in place of `communication`. */
export const practitioner = careConnectProfile('Practitioner', {
  title: 'Care Connect Practitioner',
  description: 'A health or care professional, identified by SDS user and role profile ids.',
  extensions: { nhsCommunication: slot(nhsCommunication.url) },
  rules: {
    identifier: {
      slicing: sliceBy('system', 'openAtEnd'),
      slices: { sdsUserID: identifierSlice(ID.sdsUser, 1), sdsRoleProfileID: identifierSlice(ID.sdsRoleProfile) },
    },
    gender: { binding: required(ccValueSet('AdministrativeGender')) },
    'qualification.identifier.assigner': reference('Organization'),
    'qualification.issuer': reference('Organization'),
    communication: prohibited,
  },
});
