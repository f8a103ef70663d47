import { identifierSlice, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { atLeast, sliceBy, slot } from '../dsl.js';
import { ID } from '../urls.js';
import { mainLocation, organizationPeriod } from './extensions/organisation.js';

/** CareConnect-Organization-1: ODS organisation and site codes. */
export const organization = careConnectProfile('Organization', {
  title: 'Care Connect Organization',
  description: 'An organisation providing or commissioning care, identified by its ODS code.',
  extensions: {
    mainLocation: slot(mainLocation.url, 0, 1),
    'organization-period': slot(organizationPeriod.url, 0, 1),
  },
  rules: {
    identifier: {
      slicing: sliceBy('system', 'openAtEnd'),
      slices: { odsOrganisationCode: identifierSlice(ID.odsOrganisation, 1), odsSiteCode: identifierSlice(ID.odsSite, 1) },
    },
    partOf: reference('Organization'),
    'contact.name.family': atLeast(1),
  },
});
