import { codedOnce, identifierRules, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { required, sliceBy } from '../dsl.js';
import { ccCodeSystem, ccValueSet } from '../urls.js';

/** CareConnect-PractitionerRole-1: the SDS job role name as a required-bound code slice. */
export const practitionerRole = careConnectProfile('PractitionerRole', {
  title: 'Care Connect Practitioner Role',
  description: 'The role a practitioner has at an organisation, coded with the SDS job role name.',
  rules: {
    ...identifierRules(),
    practitioner: reference('Practitioner'),
    organization: reference('Organization'),
    code: {
      slicing: sliceBy('coding.system', 'openAtEnd'),
      slices: {
        sdsJobRoleName: {
          max: 1,
          binding: required(ccValueSet('SDSJobRoleName')),
          children: codedOnce(ccCodeSystem('SDSJobRoleName')),
        },
      },
    },
    location: reference('Location'),
  },
});
