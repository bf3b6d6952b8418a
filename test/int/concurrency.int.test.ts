import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import type { StoredEmail } from '../support/api';
import { cohortBody, evalAccept, intakeBody, REFER_OUT } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// Concurrency (issue 12, item 2), over HTTP against the local runtime, each race many requests at
// once: seats, Idempotency-Keys, identical decisions, withdrawals racing decisions at every gate and
// each other. Then the same races with fast-check's scheduler choosing the interleaving of the
// services' reads and writes (../soak/races.ts; many more runs in `npm run test:soak`).
// test/int/workflow.int.test.ts and trust.int.test.ts hold the first, smaller versions of these.

const suite = runtimeSuite({ env: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
let outbox: DynamoDbReferralRepository;
let ddb: DynamoDBClient;

beforeAll(() => {
  ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: suite.rt.dynamoUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  outbox = new DynamoDbReferralRepository(ddb, suite.rt.tableName);
});
afterAll(() => {
  ddb?.destroy();
});

const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
/** 12 letters, unique: a last name no other referral's starts with (the staff search is by prefix) */
const tagged = () =>
  `c${randomUUID()
    .replace(/-/g, '')
    .slice(0, 11)
    .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`;

const person = (tag: string, over: Parameters<typeof intakeBody>[0] = {}) => ({
  tag,
  patient: `pt.${tag}@example.org`,
  doctor: `dr.${tag}@clinic.example`,
  body: intakeBody({
    lastName: `Race${tag}`,
    patient: { email: `pt.${tag}@example.org` } as never,
    referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: `dr.${tag}@clinic.example` },
    ...over,
  }),
});

const newCohort = async (capacity: number) => {
  const res = await suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody({ capacity }), as: 'sam' });
  expect(res.status).toBe(201);
  return res.json.cohortId as string;
};

/** a referral waiting at `step` (decided up to there) */
const at = async (step: 'insurance-review' | 'evaluation' | 'detox-confirmation' | 'enrollment') => {
  const p = person(tagged(), step === 'insurance-review' ? { insurance: { type: 'commercial', payer: 'Acme', memberId: 'REVIEW-1' } } : {});
  const res = await suite.api.intake(p.body);
  expect(res.status).toBe(201);
  const { referralId, reference } = res.json as { referralId: string; reference: string };
  if (step !== 'insurance-review') {
    await suite.api.waitForGate(referralId, 'evaluation');
    if (step !== 'evaluation')
      expect((await suite.api.decide(referralId, 'evaluation', evalAccept(step === 'detox-confirmation'))).status).toBe(200);
  }
  await suite.api.waitForGate(referralId, step);
  return { ...p, referralId, reference };
};

/** the referral's notices once none is pending or being sent */
const settled = async (referralId: string, timeoutMs = 20_000) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const notices = await outbox.notices(referralId);
    if (notices.every((n) => n.state !== 'pending' && n.state !== 'sending')) return notices;
    if (Date.now() > until)
      throw new Error(`notices of ${referralId} still pending: ${JSON.stringify(notices.map((n) => [n.key, n.state]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** the closing email: the patient's "An update on your request", the physician's "The referral was closed" */
const closing = (mails: StoredEmail[]) =>
  mails.filter((m) => m.subject.startsWith('An update on your request') || /The referral was closed/.test(m.body.text ?? ''));

describe('over HTTP, many at once', () => {
  test('twelve enrolments at once into a cohort of three: exactly three seats taken, nine CohortFull still at their gate, schedules only to the three', async () => {
    // Prepare
    const cohortId = await newCohort(3);
    const people = await Promise.all(Array.from({ length: 12 }, () => at('enrollment')));

    // Act
    const answers = await Promise.all(people.map((p) => suite.api.decide(p.referralId, 'enrollment', { cohortId })));

    // Assess
    const won = people.filter((_, i) => answers[i]!.status === 200);
    expect(answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${a.json.error}`)).sort()).toEqual([
      200,
      200,
      200,
      ...Array(9).fill('409 CohortFull'),
    ]);
    const stored = await outbox.getCohort(cohortId);
    const roster = (await outbox.roster(cohortId)).map((s) => s.referralId).sort();
    expect([stored?.seats, roster]).toEqual([3, won.map((p) => p.referralId).sort()]);
    for (const p of people) {
      const r = await suite.api.referral(p.referralId);
      const winner = won.includes(p);
      expect([r.status, r.pendingStep ?? r.status]).toEqual(winner ? ['ENROLLED', expect.anything()] : ['ENROLLMENT', 'enrollment']);
      await settled(p.referralId);
      const schedules = (await suite.api.emailsTo(p.patient)).filter((m) => m.subject === `Your group schedule (${p.reference})`);
      expect(schedules).toHaveLength(winner ? 1 : 0);
    }
  });

  test('one Idempotency-Key and body ×10 at once: ten 201s naming one referral, one INTAKE item, one execution', async () => {
    // Prepare
    const p = person(tagged());
    const key = `idem-${randomUUID()}`;

    // Act
    const answers = await Promise.all(Array.from({ length: 10 }, () => suite.api.intake(p.body, key)));

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    const ids = new Set(answers.map((a) => a.json.referralId as string));
    expect(ids.size).toBe(1);
    const [referralId] = [...ids];
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    const doc = DynamoDBDocumentClient.from(ddb);
    const { Items = [] } = await doc.send(
      new ScanCommand({
        TableName: suite.rt.tableName,
        FilterExpression: 'entity = :e AND searchName = :n',
        ExpressionAttributeValues: { ':e': 'referral', ':n': p.body.patient.lastName.toLowerCase() },
      }),
    );
    expect(Items.map((i) => i.referralId)).toEqual([referralId]);
    const intakes = await doc.send(
      new ScanCommand({
        TableName: suite.rt.tableName,
        FilterExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': `REFERRAL#${referralId}`, ':sk': 'INTAKE' },
      }),
    );
    expect(intakes.Items).toHaveLength(1);
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: suite.rt.sfnUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: suite.rt.stateMachineArn, maxResults: 1000 }));
      expect((listed.executions ?? []).filter((e) => e.name!.startsWith(referralId!)).map((e) => e.name)).toEqual([referralId]);
    } finally {
      sfn.destroy();
    }
    await suite.api.waitForGate(referralId!, 'evaluation');
    await settled(referralId!);
    expect((await suite.api.emailsTo(p.patient)).map((m) => m.subject)).toEqual([
      `We received your request (${answers[0]!.json.reference})`,
    ]);
  });

  test('one Idempotency-Key with ten different bodies at once: one 201, nine 409 IdempotencyKeyInUse, only the winner stored', async () => {
    // Prepare
    const key = `idem-${randomUUID()}`;
    const people = Array.from({ length: 10 }, () => person(tagged()));

    // Act
    const answers = await Promise.all(people.map((p) => suite.api.intake(p.body, key)));

    // Assess
    expect(answers.map((a) => (a.status === 201 ? 201 : `${a.status} ${a.json.error}`)).sort()).toEqual([
      201,
      ...Array(9).fill('409 IdempotencyKeyInUse'),
    ]);
    const winner = people[answers.findIndex((a) => a.status === 201)]!;
    for (const p of people) {
      const found = await suite.api.call('GET', `/api/staff/referrals?q=${encodeURIComponent(p.body.patient.lastName)}`, { as: 'casey' });
      expect(found.json.items).toHaveLength(p === winner ? 1 : 0);
    }
    // and later: the winner's body replays, any other is refused
    expect((await suite.api.intake(winner.body, key)).json.referralId).toBe(answers.find((a) => a.status === 201)!.json.referralId);
    expect((await suite.api.intake(people.find((p) => p !== winner)!.body, key)).status).toBe(409);
  });

  test('ten identical decisions at once, by two users: one 200, nine 409, one STEP_DECIDED, one acceptance email to the physician', async () => {
    // Prepare
    const p = await at('evaluation');

    // Act
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => suite.api.decide(p.referralId, 'evaluation', evalAccept(false), i % 2 ? 'sam' : 'casey')),
    );

    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    const r = await suite.api.waitForGate(p.referralId, 'enrollment');
    expect(r.events.filter((e) => e.type === 'STEP_DECIDED')).toHaveLength(1);
    const notices = await settled(p.referralId);
    expect(notices.filter((n) => n.key === 'accepted:physician')).toHaveLength(1);
    expect(await suite.api.emailsTo(p.doctor)).toHaveLength(2); // received + accepted
  });

  // every gate, a withdrawal and a decision at once: either order is a consistent outcome
  const races = [
    { gate: 'insurance-review', decision: { decision: 'not-covered' }, closes: 'NOT_COVERED', what: 'not covered' },
    { gate: 'insurance-review', decision: { decision: 'covered' }, closes: undefined, what: 'covered' },
    { gate: 'evaluation', decision: REFER_OUT, closes: 'REFERRED_OUT', what: 'refer out' },
    { gate: 'evaluation', decision: evalAccept(true), closes: undefined, what: 'accept, detox first' },
    { gate: 'detox-confirmation', decision: { completed: false, decision: 'refer-out' }, closes: 'REFERRED_OUT', what: 'refer out' },
    { gate: 'detox-confirmation', decision: { completed: true, completedOn: yesterday() }, closes: undefined, what: 'completed' },
  ] as const;
  test.each(races)(
    "withdraw racing the $gate decision ($what): one outcome, the closing email once per recipient and true, the decision's own email only if it committed",
    async ({ gate, decision, closes }) => {
      // Prepare: three referrals at the gate, so both orders are likely
      const people = await Promise.all(Array.from({ length: 3 }, () => at(gate)));

      // Act
      const outcomes = await Promise.all(
        people.map(async (p) => {
          const [d, w] = await Promise.all([
            suite.api.decide(p.referralId, gate, decision),
            suite.api.call('POST', `/api/staff/referrals/${p.referralId}/withdraw`, { body: { reason: 'Race test' }, as: 'casey' }),
          ]);
          return { ...p, decision: d.status, withdrawal: w.status };
        }),
      );

      // Assess
      for (const o of outcomes) {
        const notices = await settled(o.referralId);
        const r = await suite.api.referral(o.referralId);
        // a closing decision and a withdrawal: exactly one wins; otherwise the withdrawal always stands
        if (closes) expect([o.decision, o.withdrawal].sort()).toEqual([200, 409]);
        else expect([o.withdrawal, [200, 409]]).toEqual([200, expect.arrayContaining([o.decision])]);
        const status = closes && o.decision === 200 ? closes : 'WITHDRAWN';
        expect(r.status).toBe(status);
        const toPatient = closing(await suite.api.emailsTo(o.patient));
        const toDoctor = closing(await suite.api.emailsTo(o.doctor));
        expect([toPatient.length, toDoctor.length]).toEqual([1, 1]);
        expect(toDoctor[0]!.body.text).toContain(status === 'WITHDRAWN' ? 'withdrawn' : status === 'NOT_COVERED' ? 'coverage' : 'referred');
        // an acceptance is told only when it committed (at the detox gate it did, before the race)
        expect(notices.some((n) => n.key === 'accepted:physician')).toBe(
          gate === 'detox-confirmation' || (gate === 'evaluation' && !closes && o.decision === 200),
        );
        expect(r.events.filter((e) => e.type === 'STEP_DECIDED' && e.step === gate)).toHaveLength(o.decision === 200 ? 1 : 0);
        expect(r.events.filter((e) => e.type === 'DISCLOSURE')).toHaveLength((await suite.api.emailsTo(o.doctor)).length);
      }
    },
  );

  test('ten withdrawals at once of an enrolled person: one 200, the seat given back once, one closing email per recipient', async () => {
    // Prepare
    const cohortId = await newCohort(2);
    const p = await at('enrollment');
    expect((await suite.api.decide(p.referralId, 'enrollment', { cohortId })).status).toBe(200);
    await suite.api.waitFor(p.referralId, (r) => r.status === 'ENROLLED');

    // Act
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        suite.api.call('POST', `/api/staff/referrals/${p.referralId}/withdraw`, { body: { reason: 'Moved away' }, as: 'casey' }),
      ),
    );

    // Assess
    expect(answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${a.json.error}`)).sort()).toEqual([
      200,
      ...Array(9).fill('409 AlreadyClosed'),
    ]);
    await settled(p.referralId);
    const r = await suite.api.referral(p.referralId);
    expect([
      r.status,
      r.events.filter((e) => e.type === 'SEAT_RELEASED').length,
      r.events.filter((e) => e.type === 'WITHDRAWN').length,
    ]).toEqual(['WITHDRAWN', 1, 1]);
    expect([(await outbox.getCohort(cohortId))?.seats, (await outbox.roster(cohortId)).length]).toEqual([0, 0]);
    expect(closing(await suite.api.emailsTo(p.patient))).toHaveLength(1);
    expect(closing(await suite.api.emailsTo(p.doctor))).toHaveLength(1);
  });
});

describe("interleavings chosen by fast-check's scheduler (../soak/races.ts)", () => {
  const seed = process.env.RACE_SEED ? Number(process.env.RACE_SEED) : undefined;
  // imported once the runtime has set the handlers' environment: the services' logger reads it when first loaded
  const races = () => import('../soak/races');

  test('k enrolments into c < k seats: exactly c, whatever the order of their reads and writes (20 interleavings)', async () => {
    await (await races()).seatRace({ dynamoUrl: suite.rt.dynamoUrl }, { numRuns: 20, seed });
  });

  test('a gate opening or open, the same decision twice, 0–2 withdrawals: one consistent outcome and only true notices (80 interleavings)', async () => {
    const seen = await (await races()).gateRace({ dynamoUrl: suite.rt.dynamoUrl }, { numRuns: 80, seed });
    // the decision was applied both ways: by itself at the open gate, and by the gate as it opened
    expect(Object.keys(seen)).toEqual(expect.arrayContaining(['decided at the open gate', 'decided while the gate opened, applied by it']));
  });
});
