import { identifierSlice, reference } from '../common.js';
import { careConnectProfile } from '../define.js';
import { sliceBy } from '../dsl.js';
import { ID } from '../urls.js';

/** CareConnect-Location-1: the ODS site code. */
export const location = careConnectProfile('Location', {
  title: 'Care Connect Location',
  description: 'A place where care is provided, identified by its ODS site code.',
  rules: {
    identifier: { slicing: sliceBy('system', 'openAtEnd'), slices: { odsSiteCode: identifierSlice(ID.odsSite, 1) } },
    managingOrganization: reference('Organization'),
    partOf: reference('Location'),
  },
});
