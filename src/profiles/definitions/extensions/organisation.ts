import { careConnectExtension, extensionAt } from '../../define.js';
import { reference } from '../../common.js';
import { hl7Definition } from '../../urls.js';
import { typed } from './coded.js';

/** Extensions on Organization. */

export const mainLocation = careConnectExtension('MainLocation', {
  title: 'Main location',
  description: 'The main location of an organisation.',
  context: ['Organization'],
  value: { min: 1, ...reference('Location') },
});

export const organizationPeriod = extensionAt(hl7Definition('organization-period'), {
  title: 'Organisation period',
  description: 'When the organisation is to be considered available.',
  context: ['Organization'],
  value: typed('Period'),
});
