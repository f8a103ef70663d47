import { describe, expect, it } from 'vitest';
import { fhirModel } from './model.js';

describe('the STU3 model derived from the definitions', () => {
  const model = fhirModel();

  it('knows every concrete resource type and no abstract one', () => {
    expect(model.resourceTypes.size).toBe(117);
    expect(model.isResourceType('Patient')).toBe(true);
    expect(model.isResourceType('DomainResource')).toBe(false);
    expect(model.isResourceType('HumanName')).toBe(false);
  });

  it('expands choice types into their JSON names', () => {
    const p = model.property('Observation', 'valueQuantity');
    expect(p?.type).toBe('Quantity');
    expect(p?.element.choice).toBe(true);
    expect(model.property('Observation', 'value')).toBeUndefined();
  });

  it('synthesises backbone types and follows content references', () => {
    expect(model.property('Patient', 'contact')?.type).toBe('Patient.contact');
    expect(model.property('Patient.contact', 'name')?.type).toBe('HumanName');
    expect(model.property('Questionnaire.item', 'item')?.type).toBe('Questionnaire.item');
  });

  it('takes array-ness from the base definition', () => {
    expect(model.property('Patient', 'name')?.element.array).toBe(true);
    expect(model.property('Patient', 'gender')?.element.array).toBe(false);
    expect(model.property('Patient', 'id')?.element.array).toBe(false);
  });

  it('carries primitive rules and XML attributes', () => {
    expect(model.primitives.get('date')?.pattern?.test('2017-02')).toBe(true);
    expect(model.primitives.get('date')?.pattern?.test('2017-13')).toBe(false);
    expect(model.primitives.get('decimal')?.jsonType).toBe('number');
    expect(model.property('Extension', 'url')?.element.xmlAttr).toBe(true);
    expect(model.property('HumanName', 'id')?.element.xmlAttr).toBe(true);
  });

  it('records reference targets and bindings', () => {
    expect(model.property('Observation', 'subject')?.element.targets).toEqual(['Patient', 'Group', 'Device', 'Location']);
    expect(model.property('Patient', 'gender')?.element.binding).toEqual({ strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/administrative-gender' });
  });
});
