import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pinClock, resetClock } from '../../functions/lib/clock';
import { MAX_BODY_BYTES } from '../../functions/lib/http';
import { IntakeSchema, SUBSTANCES, type Intake } from '../../functions/lib/schemas/intake';
import { COMMON_RULES_COUNTED, INTAKE_PATH } from '../../infra/constructs/protection';
import { onlyOne, templateFor } from './helpers';

// WAF must admit every intake the API accepts: the API's own limit (MAX_BODY_BYTES, a JSON 413)
// is the rule, not the common rule set's 8 KB SizeRestrictions_BODY (a bare 403 page). The test
// builds the largest intake the schema accepts and checks it against the size rules of the
// synthesized web ACL.

/** body-size rules inside AWS managed rule groups (AWS WAF developer guide, baseline rule groups) */
const MANAGED_BODY_SIZE_LIMITS: Record<string, Record<string, number>> = {
  AWSManagedRulesCommonRuleSet: { SizeRestrictions_BODY: 8 * 1024 },
};
/** how much of a body WAF sees behind CloudFront unless the ACL's AssociationConfig raises it */
const CLOUDFRONT_DEFAULT_INSPECTION = 16 * 1024;
const INSPECTION_LIMITS: Record<string, number> = { KB_16: 16 * 1024, KB_32: 32 * 1024, KB_48: 48 * 1024, KB_64: 64 * 1024 };

type Rule = Record<string, any>;
type Acl = { Rules: Rule[]; AssociationConfig?: { RequestBody?: Record<string, { DefaultSizeInspectionLimit: string }> } };

const compare = (op: string, a: number, b: number): boolean =>
  ({ EQ: a === b, NE: a !== b, LE: a <= b, LT: a < b, GE: a >= b, GT: a > b })[op] ?? false;

/**
 * The rules of a web ACL that would block a request body of `bytes` bytes, by body size alone.
 * Throws on a body-size rule shape it does not understand, so it cannot quietly pass one.
 */
export const rulesBlockingBodyOf = (acl: Acl, bytes: number): string[] => {
  const inspection =
    INSPECTION_LIMITS[acl.AssociationConfig?.RequestBody?.CLOUDFRONT?.DefaultSizeInspectionLimit ?? ''] ?? CLOUDFRONT_DEFAULT_INSPECTION;
  const blocked: string[] = [];
  for (const rule of acl.Rules) {
    const managed = rule.Statement?.ManagedRuleGroupStatement;
    if (managed) {
      if (rule.OverrideAction?.Count) continue;
      for (const [name, limit] of Object.entries(MANAGED_BODY_SIZE_LIMITS[managed.Name] ?? {})) {
        const override = (managed.RuleActionOverrides ?? []).find((o: Rule) => o.Name === name);
        if (override && !override.ActionToUse?.Block) continue;
        if (bytes > limit) blocked.push(`${managed.Name}/${name}`);
      }
      continue;
    }
    const size = rule.Statement?.SizeConstraintStatement;
    if (size && (size.FieldToMatch?.Body || size.FieldToMatch?.JsonBody)) {
      if (!rule.Action?.Block) continue;
      const oversize = (size.FieldToMatch.Body ?? size.FieldToMatch.JsonBody).OversizeHandling ?? 'CONTINUE';
      const matches =
        bytes > inspection && oversize !== 'CONTINUE'
          ? oversize === 'MATCH'
          : compare(size.ComparisonOperator, Math.min(bytes, inspection), size.Size);
      if (matches) blocked.push(rule.Name);
      continue;
    }
    if (JSON.stringify(rule.Statement).includes('SizeConstraintStatement')) {
      throw new Error(`rule ${rule.Name} nests a size constraint: teach rulesBlockingBodyOf to evaluate it`);
    }
  }
  return blocked;
};

// --- the largest valid intake --------------------------------------------------------------------

const PINNED = '2026-03-04T15:00:00.000Z';

/** every optional field present, fixed dates (the clock is pinned) */
const fullIntake = (): Intake => ({
  patient: {
    firstName: 'Alex',
    lastName: 'Rivera',
    dateOfBirth: '1990-04-12',
    phone: '(555) 123-4567',
    email: 'alex@example.org',
    preferredLanguage: 'es',
    postalCode: '02139-1234',
  },
  substances: SUBSTANCES.map((substance) => ({ substance, lastUse: '2026-03-01' })),
  withdrawal: { currentSymptoms: true, detoxStatus: 'completed', detoxCompletedOn: '2026-02-20' },
  screening: { selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: true },
  coOccurring: ['anxiety'],
  insurance: { type: 'commercial', payer: 'Acme Health', memberId: 'M1234567', groupNumber: 'G-100' },
  referringPhysician: { name: 'Dr. Dana Lee', npi: '1234567893', email: 'dr.lee@clinic.example', practice: 'Main St Clinic' },
  consent: { shareWithReferrer: true, signature: 'Alex Rivera', signedAt: '2026-03-04T14:55:00Z' },
  schedulePreference: 'evening',
  notes: 'Prefers text messages.',
});

const valid = (body: unknown): boolean => IntakeSchema.safeParse(body).success;

type Path = Array<string | number>;
const getAt = (o: any, path: Path): any => path.reduce((x, k) => x?.[k], o);
const setAt = (o: any, path: Path, value: unknown): void => {
  const parent = getAt(o, path.slice(0, -1));
  parent[path.at(-1)!] = value;
};
const stringLeaves = (node: unknown, path: Path = []): Path[] =>
  typeof node === 'string'
    ? [path]
    : node && typeof node === 'object'
      ? Object.entries(node).flatMap(([k, v]) => stringLeaves(v, [...path, Array.isArray(node) ? Number(k) : k]))
      : [];

/** the longest run of `unit` the schema accepts at `path` (0 when it accepts none) */
const longestAt = (body: Intake, path: Path, unit: string): number => {
  const at = (n: number) => {
    const copy = structuredClone(body);
    setAt(copy, path, unit.repeat(n));
    return valid(copy);
  };
  if (!at(1)) return 0;
  let lo = 1;
  let hi = 2;
  while (at(hi) && hi < 100_000) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (at(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
};

/** a valid email of exactly `length` characters (RFC 5321: 64-character local part, 63-character labels) */
const longEmail = (length: number): string => {
  const local = 'a'.repeat(64);
  let domain = '';
  while (local.length + 1 + domain.length + 4 < length)
    domain += `${'b'.repeat(Math.min(63, length - local.length - 1 - domain.length - 5))}.`;
  return `${local}@${domain}${'c'.repeat(Math.max(2, length - local.length - 1 - domain.length))}`.slice(0, length);
};

/**
 * Every free-text field filled with the most `unit`s the schema takes, every list at its longest,
 * formatted fields (emails, phone) at their longest valid form. `unit` picks how many bytes each
 * character costs once the browser's JSON.stringify has encoded it as UTF-8.
 */
const largestIntake = (unit: string): Intake => {
  const body = fullIntake();
  // lists first: fill coOccurring to its maximum length
  while (valid({ ...body, coOccurring: [...body.coOccurring!, 'x'] })) body.coOccurring!.push('x');
  for (const path of stringLeaves(body)) {
    // codes (member id, group number) take letters and digits only: the longest run of those
    for (const u of [unit, 'A']) {
      const n = longestAt(body, path, u);
      if (n > 0) {
        setAt(body, path, u.repeat(n));
        break;
      }
    }
  }
  for (const path of [
    ['patient', 'email'],
    ['referringPhysician', 'email'],
  ] as Path[]) {
    for (let len = 254; len > 0; len--) {
      const copy = structuredClone(body);
      setAt(copy, path, longEmail(len));
      if (valid(copy)) {
        setAt(body, path, longEmail(len));
        break;
      }
    }
  }
  // the phone: 15 digits padded with the separators it allows, to its maximum length
  for (let len = 60; len >= 15; len--) {
    const phone = `+${'1'.repeat(14)}${' '.repeat(len - 15)}`.slice(0, len);
    const copy = structuredClone(body);
    setAt(copy, ['patient', 'phone'], `${phone.slice(0, -1)}9`);
    if (valid(copy)) {
      setAt(body, ['patient', 'phone'], `${phone.slice(0, -1)}9`);
      break;
    }
  }
  if (!valid(body)) throw new Error(`largest intake is not valid: ${JSON.stringify(IntakeSchema.safeParse(body).error?.issues)}`);
  return body;
};

const bytesOf = (body: unknown): number => Buffer.byteLength(JSON.stringify(body), 'utf8');

// --- tests ---------------------------------------------------------------------------------------

let acl: Acl;
beforeAll(() => {
  pinClock(PINNED, { frozen: true });
  acl = onlyOne(templateFor('prod'), 'AWS::WAFv2::WebACL', () => true)[1].Properties as Acl;
});
afterAll(() => resetClock());

describe('the largest valid intake', () => {
  // CJK and other BMP characters are 3 bytes each in UTF-8; control characters 6 once JSON-escaped
  const cases = [
    ['accented and CJK text (3 bytes a character)', '語'],
    ['emoji (4 bytes per 2 UTF-16 units)', '😀'],
    ['control characters (6 bytes each once JSON-escaped: the most bytes per character the schema lets through)', '\u0001'],
  ] as const;

  test.each(cases)('with %s is accepted by the schema, fits the API limit and passes WAF', (_name, unit) => {
    // Prepare
    const body = largestIntake(unit);
    const bytes = bytesOf(body);

    // Assess: it really is big (notes and the co-occurring list at their limits) ...
    expect(body.notes!.length).toBeGreaterThanOrEqual(1999);
    expect(body.coOccurring!.length).toBe(20);
    expect(bytes).toBeGreaterThan(8 * 1024);
    // ... the API takes it, and WAF blocks nothing of that size
    expect(bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(rulesBlockingBodyOf(acl, bytes)).toEqual([]);
  });

  test('WAF blocks no body the API itself would accept (up to MAX_BODY_BYTES)', () => {
    for (const bytes of [8 * 1024 + 1, 16 * 1024 + 1, MAX_BODY_BYTES])
      expect([bytes, rulesBlockingBodyOf(acl, bytes)]).toEqual([bytes, []]);
  });

  test('the check can fail: without the override the common rule set blocks the same intake', () => {
    // Prepare: the ACL as it was before (only CrossSiteScripting_BODY counted)
    const before = structuredClone(acl);
    for (const rule of before.Rules) {
      const overrides = rule.Statement?.ManagedRuleGroupStatement?.RuleActionOverrides as Rule[] | undefined;
      if (overrides)
        rule.Statement.ManagedRuleGroupStatement.RuleActionOverrides = overrides.filter((o) => o.Name !== 'SizeRestrictions_BODY');
    }

    // Act / Assess
    expect(rulesBlockingBodyOf(before, bytesOf(largestIntake('語')))).toEqual(['AWSManagedRulesCommonRuleSet/SizeRestrictions_BODY']);
    // and a custom size rule is evaluated too (blocks over 4 KB)
    const strict = {
      ...acl,
      Rules: [
        ...acl.Rules,
        {
          Name: 'Tiny',
          Action: { Block: {} },
          Statement: {
            SizeConstraintStatement: { FieldToMatch: { Body: { OversizeHandling: 'MATCH' } }, ComparisonOperator: 'GT', Size: 4096 },
          },
        },
      ],
    };
    expect(rulesBlockingBodyOf(strict, 5000)).toEqual(['Tiny']);
    expect(rulesBlockingBodyOf(strict, 4000)).toEqual([]);
  });

  test('the common rule set counts exactly the documented rules and still runs in block mode otherwise', () => {
    const crs = acl.Rules.find((r) => r.Statement?.ManagedRuleGroupStatement?.Name === 'AWSManagedRulesCommonRuleSet')!;
    expect(crs.OverrideAction).toEqual({ None: {} });
    const overrides = crs.Statement.ManagedRuleGroupStatement.RuleActionOverrides as Rule[];
    expect(overrides.map((o) => o.Name).sort()).toEqual([...COMMON_RULES_COUNTED].sort());
    for (const o of overrides) expect(o.ActionToUse).toEqual({ Count: {} });
    // the intake's rate limit still applies to the intake route
    expect(JSON.stringify(acl.Rules.find((r) => r.Name === 'IntakeRateLimit'))).toContain(INTAKE_PATH);
  });
});

describe('answers the edge gives itself', () => {
  test("a rate-limited intake gets the API's JSON error shape and Retry-After, like the local gateway", () => {
    // Act
    const rule = (acl.Rules as Rule[]).find((r) => r.Name === 'IntakeRateLimit')!;
    const custom = rule.Action.Block.CustomResponse;
    const bodies = (acl as unknown as { CustomResponseBodies: Record<string, { ContentType: string; Content: string }> })
      .CustomResponseBodies;

    // Assess
    expect(custom.ResponseCode).toBe(429);
    expect(custom.ResponseHeaders).toEqual([{ Name: 'retry-after', Value: '300' }]);
    const body = bodies[custom.CustomResponseBodyKey];
    expect(body!.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body!.Content)).toEqual({ error: 'TooManyRequests', message: expect.any(String) });
  });

  test("every /api answer is no-store unless it says otherwise (API Gateway's and WAF's own errors included)", () => {
    // Prepare
    const template = templateFor('prod');
    const [, distribution] = onlyOne(template, 'AWS::CloudFront::Distribution', () => true);
    const behaviors = (
      distribution.Properties!.DistributionConfig.CacheBehaviors as Array<{ PathPattern: string; ResponseHeadersPolicyId: { Ref: string } }>
    ).filter((b) => b.PathPattern.startsWith('/api/'));
    const policies = template.findResources('AWS::CloudFront::ResponseHeadersPolicy') as Record<
      string,
      { Properties: { ResponseHeadersPolicyConfig: Rule } }
    >;

    // Act
    const cacheHeaders = behaviors.map((b) => [
      b.PathPattern,
      (policies[b.ResponseHeadersPolicyId.Ref]!.Properties.ResponseHeadersPolicyConfig.CustomHeadersConfig?.Items ?? []).find(
        (h: Rule) => h.Header === 'Cache-Control',
      ),
    ]);

    // Assess
    expect(behaviors.length).toBeGreaterThanOrEqual(2);
    for (const [, header] of cacheHeaders) expect(header).toEqual({ Header: 'Cache-Control', Value: 'no-store', Override: false });
  });
});
