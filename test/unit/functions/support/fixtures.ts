import type { Context, DynamoDBRecord } from 'aws-lambda';
import type { ApiEvent } from '../../../../functions/lib/http';
import type { Intake } from '../../../../functions/lib/schemas/intake';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { CohortRecord, NoticeRecord } from '../../../../functions/lib/adapters/ports';
import { nowMs, pinClock } from '../../../../functions/lib/clock';

// shared test data: a valid intake, API Gateway v2 events, stored items as DynamoDB returns them

/** the environment functions/lib/config.ts reads; set before any handler is imported */
export const TEST_ENV = {
  TABLE_NAME: 'iop-test-table',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:referral',
  MAIL_FROM: 'program@iop.example.org',
  PROGRAM_EMAIL: 'escalations@iop.example.org',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
} as const;

export const setTestEnv = (): void => {
  Object.assign(process.env, TEST_ENV);
};

/**
 * Unit tests never read the real clock: the application's clock is frozen at a Wednesday (so
 * "today + 7" is a session day of the fixture cohort, and the cohort's start is still ahead).
 */
export const TEST_NOW = '2026-12-30T15:00:00.000Z';
pinClock(TEST_NOW, { frozen: true });

/** YYYY-MM-DD `days` from the pinned today (UTC) */
export const dayFromToday = (days: number): string => new Date(nowMs() + days * 86_400_000).toISOString().slice(0, 10);

export const isoAgo = (ms: number): string => new Date(nowMs() - ms).toISOString();

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** a complete, valid intake body; every test copies it and changes one thing */
export const validIntake = (): Intake => ({
  patient: {
    firstName: 'Jordan',
    lastName: 'Quintana',
    dateOfBirth: '1988-04-12',
    phone: '(555) 201-3344',
    email: 'jordan.quintana@example.com',
    preferredLanguage: 'en',
    postalCode: '02139',
  },
  substances: [{ substance: 'alcohol', lastUse: '2025-06-01' }, { substance: 'benzodiazepines' }],
  withdrawal: { currentSymptoms: false, detoxStatus: 'not-needed' },
  screening: { selfHarmThoughtsPastMonth: false, suicideAttemptPastThreeMonths: false },
  coOccurring: ['depression'],
  insurance: { type: 'commercial', payer: 'Acme Health', memberId: 'ABC-12345', groupNumber: 'G-77' },
  referringPhysician: { name: 'Dr. Ana Lopez', npi: '1234567893', email: 'alopez@clinic.example.com', practice: 'Harbor Clinic' },
  consent: { shareWithReferrer: true, signature: 'Jordan Quintana', signedAt: '2025-06-02T14:00:00Z' },
  schedulePreference: 'morning',
  notes: 'Prefers a call after 5 pm.',
});

export const CASE_WORKER = { sub: 'sub-cw-1', username: 'casey', token_use: 'access', 'cognito:groups': ['case-workers'] };
export const SUPERVISOR = { sub: 'sub-sup-1', username: 'sam', token_use: 'access', 'cognito:groups': ['supervisors'] };

export interface EventOptions {
  body?: unknown;
  /** raw body string, sent as-is (wins over body) */
  rawBody?: string;
  headers?: Record<string, string>;
  claims?: Record<string, unknown>;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
}

/** an API Gateway HTTP API (payload 2.0) event as the JWT-authorized route delivers it */
export const apiEvent = (routeKey: string, o: EventOptions = {}): ApiEvent => {
  const [method, path] = routeKey.split(' ') as [string, string];
  const body = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(o.headers ?? {}) },
    ...(o.queryStringParameters ? { queryStringParameters: o.queryStringParameters } : {}),
    ...(o.pathParameters ? { pathParameters: o.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234',
      domainName: 'api.example.org',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'jest' },
      requestId: 'req-test-1',
      routeKey,
      stage: '$default',
      time: '25/Nov/2026:12:00:00 +0000',
      timeEpoch: 0,
      ...(o.claims ? { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: o.claims, scopes: null } } } : {}),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  } as unknown as ApiEvent;
};

/** a Lambda context without getRemainingTimeInMillis, so middy sets no early-timeout timer */
export const lambdaContext = { functionName: 'unit-test', awsRequestId: 'aws-req-1' } as unknown as Context;

/** the HTTP result's JSON body */
export const bodyOf = (res: { body?: string }): Record<string, unknown> => JSON.parse(res.body ?? '') as Record<string, unknown>;

export const REFERRAL_ID = '6f1c2f7e-3a5b-4c1d-9e8f-0a1b2c3d4e5f';

/** a stored referral record (META), in the state a test needs */
export const referral = (over: Partial<ReferralRecord> = {}): ReferralRecord => ({
  referralId: REFERRAL_ID,
  reference: 'IOP-7KQ4-M3TD',
  status: 'RECEIVED',
  urgent: false,
  flags: [],
  channel: 'web',
  receivedAt: isoAgo(3 * DAY),
  updatedAt: isoAgo(2 * DAY),
  version: 3,
  displayName: 'Jordan Q.',
  searchName: 'quintana',
  language: 'en',
  breaches: 0,
  reached: { RECEIVED: isoAgo(3 * DAY) },
  ...over,
});

/** the META item as GetItem returns it (record plus keys) */
export const metaItem = (r: ReferralRecord): Record<string, unknown> => ({
  pk: `REFERRAL#${r.referralId}`,
  sk: 'META',
  gsi1pk: `STATUS#${r.status}`,
  gsi1sk: `1#${r.receivedAt}#${r.referralId}`,
  entity: 'referral',
  ...r,
});

export const intakeItem = (referralId: string, intake: Intake): Record<string, unknown> => ({
  pk: `REFERRAL#${referralId}`,
  sk: 'INTAKE',
  entity: 'intake',
  intake,
});

export const cohort = (over: Partial<CohortRecord> = {}): CohortRecord => ({
  cohortId: 'cohort-morning-a',
  name: 'Morning A',
  track: 'morning',
  population: 'adult',
  startDate: dayFromToday(7),
  timeZone: 'America/New_York',
  capacity: 10,
  weeks: 8,
  sessions: [
    { weekday: 'MO', start: '09:00', minutes: 180 },
    { weekday: 'WE', start: '09:00', minutes: 180 },
    { weekday: 'FR', start: '09:00', minutes: 180 },
  ],
  location: { kind: 'in-person', address: '12 Harbor St, Suite 3, Boston, MA 02110' },
  seats: 4,
  createdAt: isoAgo(10 * DAY),
  createdBy: { kind: 'staff', sub: 'sub-sup-1', username: 'sam' },
  ...over,
});

export const cohortItem = (c: CohortRecord): Record<string, unknown> => ({
  pk: `COHORT#${c.cohortId}`,
  sk: 'META',
  entity: 'cohort',
  ...c,
});

/** an outbox notice as a change wrote it (pending, due at once) */
export const notice = (over: Partial<NoticeRecord> = {}): NoticeRecord => ({
  referralId: REFERRAL_ID,
  key: 'received:patient',
  audience: 'patient',
  notice: 'received',
  milestone: 'received',
  status: 'RECEIVED',
  state: 'pending',
  attempts: 0,
  createdAt: isoAgo(60_000),
  dueAt: isoAgo(60_000),
  ...over,
});

/** the NOTICE item as the table holds it (record plus its keys; the due index while it waits) */
export const noticeItem = (n: NoticeRecord): Record<string, unknown> => ({
  pk: `REFERRAL#${n.referralId}`,
  sk: `NOTICE#${n.key}`,
  ...(n.state === 'pending' || n.state === 'sending' ? { gsi1pk: 'NOTICES#DUE', gsi1sk: `${n.dueAt}#${n.referralId}#${n.key}` } : {}),
  entity: 'notice',
  ...n,
});

/** a DynamoDB stream record (INSERT, NEW_IMAGE) of a NOTICE item, as send-notices receives it */
export const noticeStreamRecord = (n: Pick<NoticeRecord, 'referralId' | 'key'>, sequenceNumber: string): DynamoDBRecord => ({
  eventID: `event-${sequenceNumber}`,
  eventName: 'INSERT',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  dynamodb: {
    Keys: { pk: { S: `REFERRAL#${n.referralId}` }, sk: { S: `NOTICE#${n.key}` } },
    NewImage: {
      pk: { S: `REFERRAL#${n.referralId}` },
      sk: { S: `NOTICE#${n.key}` },
      entity: { S: 'notice' },
      referralId: { S: n.referralId },
      key: { S: n.key },
      state: { S: 'pending' },
    },
    SequenceNumber: sequenceNumber,
    StreamViewType: 'NEW_IMAGE',
  },
});
