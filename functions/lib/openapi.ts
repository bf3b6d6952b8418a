import * as z from 'zod';
import { functions, type HttpRoute } from '../catalog';
import { AssignSchema, ContactSchema, RevokeConsentSchema } from './schemas/caseload';
import { MAX_BODY_BYTES } from './http';
import { PROGRAM_DEFAULTS } from './program';
import { CohortSchema } from './schemas/cohort';
import { IDEMPOTENCY_KEY_PATTERN } from './schemas/common';
import { DecisionSchemas, ResumeSchema, STEPS, WithdrawSchema } from './schemas/decisions';
import { IntakeSchema } from './schemas/intake';
import { RecheckSchema } from './schemas/recheck';
import { FunnelQuerySchema } from './schemas/reports';
import { STATUSES } from './schemas/views';

// the OpenAPI 3.0 document of the HTTP API, generated from the catalog's routes and the same zod
// schemas the handlers and the web forms use (cross-field rules live in the schemas' refinements and
// are described, not expressed, here)

/** the request body schema of every POST route; a test checks that no POST route is missing */
export const REQUEST_BODIES: Record<string, z.ZodType> = {
  'POST /api/referrals': IntakeSchema,
  'POST /api/staff/referrals': IntakeSchema,
  'POST /api/staff/referrals/{id}/steps/{step}': z.union(
    Object.values(DecisionSchemas) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
  ),
  'POST /api/staff/referrals/{id}/withdraw': WithdrawSchema,
  'POST /api/staff/referrals/{id}/resume': ResumeSchema,
  'POST /api/staff/cohorts': CohortSchema(PROGRAM_DEFAULTS.timeZone),
  'POST /api/staff/referrals/{id}/assignment': AssignSchema,
  'POST /api/staff/referrals/{id}/contacts': ContactSchema,
  'POST /api/staff/referrals/{id}/consent-revocation': RevokeConsentSchema,
  'POST /api/staff/referrals/{id}/insurance/recheck': RecheckSchema,
};

/** the query parameters of GET routes that validate them with a zod object schema */
const QUERY_PARAMETERS: Record<string, z.ZodObject> = {
  'GET /api/staff/dashboard/funnel': FunnelQuerySchema as unknown as z.ZodObject,
};

/** what a 200 answer is, where it is not plain JSON or is cacheable */
const OK_RESPONSES: Record<string, Record<string, unknown>> = {
  'GET /api/staff/referrals/{id}/fhir': {
    description:
      "A FHIR R4 Bundle (type collection): Patient, Practitioner, Organization, ServiceRequest, Task, Coverage, Consent, QuestionnaireResponse, a Provenance per disclosure. Each export is recorded on the referral's timeline (RECORD_EXPORTED).",
    content: { 'application/fhir+json': { schema: { type: 'object', required: ['resourceType', 'type', 'entry'] } } },
  },
  'GET /api/availability': {
    description:
      'Per track (morning, evening) the next cohorts with a seat and a session left. No PHI. Cacheable for 60 s (cache-control: public, max-age=60).',
  },
  'GET /api/payers': {
    description:
      "`{ items: [{ name, payerId }] }`, sorted by name: the payer picker's list (PAYER_LIST, or a sample list). No PHI. Cacheable for 5 minutes (cache-control: public, max-age=300).",
  },
  'POST /api/staff/referrals/{id}/insurance/recheck': {
    description:
      '`{ referralId, status, eligibility, changed }`: the new check result (the referral stays in INSURANCE_REVIEW) and the names of the corrected fields. 409 NotInInsuranceReview outside the insurance review. Recorded as an ELIGIBILITY_RECHECKED event.',
  },
};

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });

const ERROR = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: {
      type: 'string',
      description:
        'a code: ValidationError, Unauthorized, Forbidden, NotFound, Conflict, NotPending, CohortFull, IdempotencyKeyInUse, PayloadTooLarge, UnsupportedMediaType, ...',
    },
    message: { type: 'string', description: 'plain words; never quotes submitted values' },
    fields: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'string' } },
      description: 'dotted paths, e.g. patient.dateOfBirth',
    },
  },
};

const errorResponses = (route: HttpRoute) => ({
  '400': {
    description: 'Invalid input: `fields` names each problem',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  ...(route.access === 'public'
    ? {}
    : {
        '401': { description: 'No valid bearer token' },
        '403': { description: route.access === 'supervisor' ? 'Not in the supervisors group' : 'Not in a staff group' },
      }),
  ...(route.path.includes('{id}') ? { '404': { description: 'No referral with that id' } } : {}),
  ...(route.method === 'POST'
    ? {
        '409': {
          description: 'Wrong state (step not pending, already closed), full cohort, or an Idempotency-Key reused with another body',
        },
        '413': { description: `Body larger than ${MAX_BODY_BYTES / 1024} KiB` },
        '415': { description: 'Body is not application/json' },
      }
    : {}),
  '429': { description: 'Rate limited' },
});

const queryParameters = (key: string) => {
  const schema = QUERY_PARAMETERS[key];
  if (!schema) return [];
  const props = (json(schema) as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
  return Object.entries(props).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
};

const parameters = (route: HttpRoute) => [
  ...queryParameters(`${route.method} ${route.path}`),
  ...(route.path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] : []),
  ...(route.path.includes('{step}') ? [{ name: 'step', in: 'path', required: true, schema: { type: 'string', enum: [...STEPS] } }] : []),
  ...(route.method === 'POST' && route.path.endsWith('/referrals')
    ? [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
          description: 'the same key and body answer the same referral',
        },
      ]
    : []),
  ...(route.method === 'GET' && route.path === '/api/staff/referrals'
    ? [
        { name: 'status', in: 'query', schema: { type: 'string', enum: [...STATUSES] } },
        { name: 'q', in: 'query', schema: { type: 'string' }, description: 'reference, or last-name prefix (case-insensitive)' },
        { name: 'cursor', in: 'query', schema: { type: 'string' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
      ]
    : []),
];

export const openApiDocument = () => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const f of functions) {
    for (const route of f.routes ?? []) {
      const key = `${route.method} ${route.path}`;
      const body = REQUEST_BODIES[key];
      (paths[route.path] ??= {})[route.method.toLowerCase()] = {
        operationId: `${f.name}:${route.method.toLowerCase()}:${route.path}`,
        summary: f.description,
        tags: [route.access === 'public' ? 'public' : 'staff'],
        ...(route.access === 'public' ? { security: [] } : {}),
        parameters: parameters(route),
        ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: json(body) } } } } : {}),
        responses: {
          [route.method === 'POST' && !route.path.startsWith('/api/staff/referrals/{id}/') ? '201' : '200']: OK_RESPONSES[key] ?? {
            description: 'OK',
          },
          ...errorResponses(route),
        },
      };
    }
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'IOP intake and referral API',
      version: '1',
      description: 'Same paths locally and on AWS. Staff routes need a Cognito access token (group case-workers or supervisors).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { staff: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: ERROR },
    },
    security: [{ staff: [] }],
    paths,
  };
};
