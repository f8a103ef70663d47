import type { ExtensionDef, ProfileDef } from '../dsl.js';
import { allergyIntolerance } from './allergy-intolerance.js';
import { composition } from './composition.js';
import { condition } from './condition.js';
import { encounter } from './encounter.js';
import * as clinicalExtensions from './extensions/clinical.js';
import * as documentExtensions from './extensions/documents.js';
import * as encounterExtensions from './extensions/encounter.js';
import * as medicationExtensions from './extensions/medication.js';
import * as organisationExtensions from './extensions/organisation.js';
import * as patientExtensions from './extensions/patient.js';
import { immunization } from './immunization.js';
import { appointment, familyMemberHistory, flag, healthcareService, medicationDispense, schedule, slotProfile } from './later.js';
import { list } from './list.js';
import { location } from './location.js';
import { medication } from './medication.js';
import { medicationRequest } from './medication-request.js';
import { medicationStatement } from './medication-statement.js';
import { observation } from './observation.js';
import { organization } from './organization.js';
import { patient } from './patient.js';
import { practitioner } from './practitioner.js';
import { practitionerRole } from './practitioner-role.js';
import { procedure } from './procedure.js';

/** The 14 profiles of version 3, Composition and List, then the later ones: one per resource type. */
export const profiles: ProfileDef[] = [
  patient, practitioner, practitionerRole, organization, location, observation, encounter, condition, procedure,
  allergyIntolerance, immunization, medication, medicationRequest, medicationStatement,
  composition, list,
  appointment, familyMemberHistory, flag, healthcareService, medicationDispense, schedule, slotProfile,
];

/** Every extension the profiles use. */
export const extensions: ExtensionDef[] = [
  ...Object.values(patientExtensions),
  ...Object.values(encounterExtensions),
  ...Object.values(clinicalExtensions),
  ...Object.values(medicationExtensions),
  ...Object.values(organisationExtensions),
  ...Object.values(documentExtensions),
];
