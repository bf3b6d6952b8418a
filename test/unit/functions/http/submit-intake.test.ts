import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { cancelled, mocks, noticeItems, noticeKeys, putItems, transactions } from '../support/aws';
import { apiEvent, bodyOf, CASE_WORKER, lambdaContext, setTestEnv, TEST_ENV, TEST_NOW, validIntake } from '../support/fixtures';
import { nowMs } from '../../../../functions/lib/clock';
import { REFERENCE_RE } from '../../../../functions/lib/domain/reference';
import type { handler as Handler } from '../../../../functions/submit-intake/handler';

let handler: typeof Handler;
let MAX_BODY_BYTES: number;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/submit-intake/handler'));
  ({ MAX_BODY_BYTES } = await import('../../../../functions/lib/http'));
});

beforeEach(() => {
  m.ddb.on(GetCommand).resolves({});
  m.ddb.on(TransactWriteCommand).resolves({});
  m.sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
});

afterEach(() => {
  m.ddb.reset();
  m.sfn.reset();
  m.ses.reset();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  handler(apiEvent('POST /api/referrals', { body, headers }), lambdaContext);

describe('POST /api/referrals: a valid intake', () => {
  test('answers 201 with the referral id, a phone-friendly reference and status RECEIVED', async () => {
    // Act
    const res = await post(validIntake());

    // Assess
    expect(res.statusCode).toBe(201);
    expect(res.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const body = bodyOf(res);
    expect(body).toEqual({
      referralId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reference: expect.stringMatching(REFERENCE_RE),
      status: 'RECEIVED',
      urgent: false,
    });
  });

  test('a positive crisis screen answers urgent with the 988 crisis resources at once', async () => {
    // Prepare
    const intake = { ...validIntake(), screening: { selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: false } };

    // Act
    const res = await post(intake);

    // Assess
    expect(res.statusCode).toBe(201);
    expect(bodyOf(res)).toMatchObject({ urgent: true, crisisResources: { call: '988', text: '988', emergency: '911' } });
  });

  test('writes META, INTAKE, REFERENCE, the RECEIVED event, the idempotency record and the received notices in one transaction', async () => {
    // Prepare
    const intake = validIntake();

    // Act
    const res = await post(intake, { 'idempotency-key': 'form-key-0001' });

    // Assess
    const { referralId, reference } = bodyOf(res) as { referralId: string; reference: string };
    const txs = transactions(m);
    expect(txs).toHaveLength(1);
    const [meta, intakeItem, ref, event, idem, ...notices] = putItems(txs[0]!);
    expect(notices.map((n) => n.sk)).toEqual(['NOTICE#received:patient', 'NOTICE#received:physician']);
    expect(meta).toMatchObject({
      pk: `REFERRAL#${referralId}`,
      sk: 'META',
      status: 'RECEIVED',
      reference,
      version: 1,
      urgent: false,
      channel: 'web',
      displayName: 'Jordan Q.',
      searchName: 'quintana',
      gsi1pk: 'STATUS#RECEIVED',
      gsi2pk: 'REFERRALS',
    });
    expect(intakeItem).toEqual({ pk: `REFERRAL#${referralId}`, sk: 'INTAKE', entity: 'intake', intake });
    expect(ref).toEqual({ pk: `REFERENCE#${reference}`, sk: 'META', entity: 'reference', referralId });
    expect(event).toMatchObject({
      pk: `REFERRAL#${referralId}`,
      sk: expect.stringMatching(/^EVENT#\d{4}-.*Z#1\.0$/),
      type: 'RECEIVED',
      to: 'RECEIVED',
      actor: { kind: 'patient' },
      detail: { channel: 'web', urgent: false },
    });
    expect(idem).toMatchObject({
      pk: 'IDEMPOTENCY#form-key-0001',
      sk: 'META',
      referralId,
      bodyHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const ttl = (idem as { expiresAt: number }).expiresAt - nowMs() / 1000;
    expect(ttl).toBeGreaterThan(23 * 3600);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
  });

  test('each new item is conditional on not existing yet, so nothing is overwritten', async () => {
    // Act
    await post(validIntake(), { 'idempotency-key': 'form-key-0002' });

    // Assess
    const conditions = transactions(m)[0]!.map((i) => [String(i.Put?.Item?.sk).replace(/#.*/, ''), i.Put?.ConditionExpression]);
    expect(conditions).toEqual([
      ['META', 'attribute_not_exists(pk)'],
      ['INTAKE', undefined],
      ['META', 'attribute_not_exists(pk)'],
      ['EVENT', 'attribute_not_exists(pk)'],
      ['META', 'attribute_not_exists(pk)'],
      ['NOTICE', 'attribute_not_exists(pk)'],
      ['NOTICE', 'attribute_not_exists(pk)'],
    ]);
  });

  test('the META item holds no PHI beyond the display name and the search key', async () => {
    // Prepare
    const intake = validIntake();

    // Act
    await post(intake);

    // Assess
    const meta = putItems(transactions(m)[0]!)[0]!;
    const stored = JSON.stringify(meta);
    for (const phi of [
      intake.patient.dateOfBirth,
      intake.patient.phone,
      intake.patient.email!,
      intake.patient.postalCode!,
      intake.notes!,
      intake.insurance.memberId!,
      intake.referringPhysician!.npi,
      intake.referringPhysician!.email,
      'alcohol',
      'benzodiazepines',
      'depression',
      'Acme',
    ]) {
      expect(stored).not.toContain(phi);
    }
    expect(Object.keys(meta)).not.toEqual(expect.arrayContaining(['intake']));
    expect(stored.match(/Jordan/g)).toEqual(['Jordan']); // only inside displayName
  });

  test('the "received" notices of the patient and the consenting physician are pending outbox items of that commit; nothing is sent', async () => {
    // Act
    const res = await post(validIntake());

    // Assess
    const { referralId } = bodyOf(res) as { referralId: string };
    const [tx] = transactions(m);
    expect(noticeItems(tx!)).toEqual([
      {
        pk: `REFERRAL#${referralId}`,
        sk: 'NOTICE#received:patient',
        gsi1pk: 'NOTICES#DUE',
        gsi1sk: `${TEST_NOW}#${referralId}#received:patient`,
        entity: 'notice',
        referralId,
        key: 'received:patient',
        audience: 'patient',
        notice: 'received',
        milestone: 'received',
        status: 'RECEIVED',
        state: 'pending',
        attempts: 0,
        createdAt: TEST_NOW,
        dueAt: TEST_NOW,
      },
      {
        pk: `REFERRAL#${referralId}`,
        sk: 'NOTICE#received:physician',
        gsi1pk: 'NOTICES#DUE',
        gsi1sk: `${TEST_NOW}#${referralId}#received:physician`,
        entity: 'notice',
        referralId,
        key: 'received:physician',
        audience: 'physician',
        notice: 'received',
        milestone: 'received',
        status: 'RECEIVED',
        state: 'pending',
        attempts: 0,
        createdAt: TEST_NOW,
        dueAt: TEST_NOW,
      },
    ]);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('the outbox holds no PHI: the notices carry ids, codes and the status only', async () => {
    // Prepare
    const intake = validIntake();

    // Act
    await post(intake);

    // Assess
    const notices = JSON.stringify(noticeItems(transactions(m)[0]!));
    for (const phi of [
      intake.patient.firstName,
      intake.patient.lastName,
      intake.patient.email!,
      intake.patient.phone,
      intake.referringPhysician!.email,
      intake.referringPhysician!.npi,
    ]) {
      expect(notices).not.toContain(phi);
    }
  });

  test('an urgent intake also writes urgent:program', async () => {
    // Act
    await post({ ...validIntake(), screening: { selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: false } });

    // Assess
    const [tx] = transactions(m);
    expect(noticeKeys(tx!)).toEqual(['received:patient', 'received:physician', 'urgent:program']);
    expect(noticeItems(tx!).find((n) => n.key === 'urgent:program')).toMatchObject({ audience: 'program', notice: 'urgent', params: {} });
  });

  test('without consent to share, the physician is not to be told', async () => {
    // Act
    await post({ ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } });

    // Assess
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['received:patient']);
  });

  test('without a referring physician, only the patient is to be told', async () => {
    // Prepare
    const { referringPhysician: _doc, ...intake } = validIntake();

    // Act
    const res = await post({ ...intake, consent: { ...intake.consent, shareWithReferrer: false } });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['received:patient']);
  });

  test('without a patient email, the patient is not to be told', async () => {
    // Prepare
    const intake = validIntake();
    const { email: _email, ...patient } = intake.patient;

    // Act
    const res = await post({ ...intake, patient });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['received:physician']);
  });

  test('a replayed intake writes no notice again', async () => {
    // Prepare
    await post(validIntake(), { 'idempotency-key': 'notice-key-0001' });
    const [first] = transactions(m);
    const [meta, , , , idem] = putItems(first!);
    m.ddb.reset();
    m.ddb.on(GetCommand, { Key: { pk: 'IDEMPOTENCY#notice-key-0001', sk: 'META' } }).resolves({ Item: idem });
    m.ddb.on(GetCommand, { Key: { pk: meta!.pk, sk: 'META' } }).resolves({ Item: { ...meta, status: 'EVALUATION' } });

    // Act
    const res = await post(validIntake(), { 'idempotency-key': 'notice-key-0001' });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(transactions(m)).toEqual([]);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('starts the workflow with exactly {"referralId"} as input and the referral id as execution name', async () => {
    // Act
    const res = await post(validIntake());

    // Assess
    const { referralId } = bodyOf(res) as { referralId: string };
    const starts = m.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toEqual([{ stateMachineArn: TEST_ENV.STATE_MACHINE_ARN, name: referralId, input: JSON.stringify({ referralId }) }]);
    expect(JSON.parse(starts[0]!.input!)).toEqual({ referralId });
  });

  test('a reference that is already taken is drawn again and the referral still answers 201', async () => {
    // Prepare
    const collision = cancelled('None', 'None', 'ConditionalCheckFailed', 'None');
    m.ddb.on(TransactWriteCommand).rejectsOnce(collision).resolves({});

    // Act
    const res = await post(validIntake());

    // Assess
    expect(res.statusCode).toBe(201);
    const [first, second] = transactions(m);
    const refOf = (items: typeof first) => putItems(items!)[2]!.pk;
    expect(refOf(second)).toBe(`REFERENCE#${bodyOf(res).reference}`);
    expect(refOf(second)).not.toBe(refOf(first));
  });
});

describe('POST /api/referrals: Idempotency-Key', () => {
  /** a first request stores its records; the table then answers them as GetItem would */
  const stored = async (key: string, status = 'EVALUATION') => {
    await post(validIntake(), { 'idempotency-key': key });
    const idem = putItems(transactions(m)[0]!)[4]!;
    const meta = putItems(transactions(m)[0]!)[0]!;
    m.ddb.reset();
    m.sfn.reset();
    m.ddb.on(GetCommand, { Key: { pk: `IDEMPOTENCY#${key}`, sk: 'META' } }).resolves({ Item: idem });
    m.ddb.on(GetCommand, { Key: { pk: meta.pk, sk: 'META' } }).resolves({ Item: { ...meta, status } });
    return meta;
  };

  test('the same key and the same body answer the same referral without writing again', async () => {
    // Prepare
    const meta = await stored('retry-key-0001');

    // Act
    const res = await post(validIntake(), { 'idempotency-key': 'retry-key-0001' });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(res.headers).toMatchObject({ 'idempotent-replayed': 'true' });
    expect(bodyOf(res)).toMatchObject({ referralId: meta.referralId, reference: meta.reference });
    expect(transactions(m)).toEqual([]);
  });

  test('the same key with another body is a 409 IdempotencyKeyInUse', async () => {
    // Prepare
    await stored('retry-key-0002');
    const other = { ...validIntake(), schedulePreference: 'evening' };

    // Act
    const res = await post(other, { 'idempotency-key': 'retry-key-0002' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'IdempotencyKeyInUse' });
  });

  test("two requests racing with one key: the one that loses the write answers the winner's referral", async () => {
    // Prepare: the winner's records land between the loser's read and its write
    const winner = { referralId: 'winner-0000-0000-0000-000000000001', reference: 'IOP-WWWW-9999' };
    m.ddb.on(TransactWriteCommand).callsFake(async (input: { TransactItems: Array<{ Put?: { Item: Record<string, unknown> } }> }) => {
      const idem = input.TransactItems[4]!.Put!.Item;
      m.ddb
        .on(GetCommand, { Key: { pk: 'IDEMPOTENCY#race-key-0001', sk: 'META' } })
        .resolves({ Item: { ...idem, referralId: winner.referralId } });
      m.ddb
        .on(GetCommand, { Key: { pk: `REFERRAL#${winner.referralId}`, sk: 'META' } })
        .resolves({ Item: { ...input.TransactItems[0]!.Put!.Item, ...winner } });
      throw cancelled('None', 'None', 'None', 'None', 'ConditionalCheckFailed');
    });

    // Act
    const res = await post(validIntake(), { 'idempotency-key': 'race-key-0001' });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(res.headers).toMatchObject({ 'idempotent-replayed': 'true' });
    expect(bodyOf(res)).toMatchObject(winner);
  });

  test('a key that is not 8–128 safe characters is a 400 naming Idempotency-Key', async () => {
    const res = await post(validIntake(), { 'idempotency-key': 'bad key!' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ error: 'ValidationError', fields: { 'Idempotency-Key': [expect.any(String)] } });
  });

  test('a replay of a referral still RECEIVED starts its workflow again, and an execution that already exists is fine', async () => {
    // Prepare
    const meta = await stored('retry-key-0003', 'RECEIVED');
    m.sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    // Act
    const res = await post(validIntake(), { 'idempotency-key': 'retry-key-0003' });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(bodyOf(res)).toMatchObject({ referralId: meta.referralId, status: 'RECEIVED' });
    expect(m.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([meta.referralId]);
  });
});

describe('the HTTP edge (functions/lib/http.ts) through submit-intake', () => {
  test('an invalid body is a 400 ValidationError naming each field, without echoing the submitted PHI', async () => {
    // Prepare
    const intake = validIntake();
    const body = { ...intake, patient: { ...intake.patient, phone: 'Quintana-Jordan', dateOfBirth: '2025-02-30' } };

    // Act
    const res = await post(body);

    // Assess
    expect(res.statusCode).toBe(400);
    const out = bodyOf(res);
    expect(out).toEqual({
      error: 'ValidationError',
      message: expect.any(String),
      fields: { 'patient.phone': [expect.any(String)], 'patient.dateOfBirth': [expect.any(String)] },
    });
    expect(res.body).not.toMatch(/Jordan|Quintana|2025-02-30|201-3344/);
    expect(transactions(m)).toEqual([]);
  });

  test('a body sent as something other than JSON is a 415', async () => {
    // Act
    const res = await handler(
      apiEvent('POST /api/referrals', { body: validIntake(), headers: { 'content-type': 'text/plain' } }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(415);
    expect(bodyOf(res)).toMatchObject({ error: 'UnsupportedMediaType' });
  });

  test('application/json with a charset parameter is accepted', async () => {
    const res = await handler(
      apiEvent('POST /api/referrals', { body: validIntake(), headers: { 'content-type': 'application/json; charset=UTF-8' } }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(201);
  });

  test('a body over 32 KiB is a 413 and nothing is stored', async () => {
    // Prepare
    const rawBody = JSON.stringify({ ...validIntake(), padding: 'x'.repeat(MAX_BODY_BYTES) });

    // Act
    const res = await handler(apiEvent('POST /api/referrals', { rawBody }), lambdaContext);

    // Assess
    expect(MAX_BODY_BYTES).toBe(32 * 1024);
    expect(res.statusCode).toBe(413);
    expect(bodyOf(res)).toMatchObject({ error: 'PayloadTooLarge' });
    expect(transactions(m)).toEqual([]);
  });

  test('a base64-encoded body is decoded before it is parsed', async () => {
    // Prepare
    const event = apiEvent('POST /api/referrals', { rawBody: Buffer.from(JSON.stringify(validIntake())).toString('base64') });
    event.isBase64Encoded = true;

    // Act
    const res = await handler(event, lambdaContext);

    // Assess
    expect(res.statusCode).toBe(201);
  });

  test('malformed JSON is a 400, not a 500', async () => {
    // Act
    const res = await handler(apiEvent('POST /api/referrals', { rawBody: '{"patient": {"firstName": "Jordan",' }), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toEqual({ error: 'ValidationError', message: 'The body is not valid JSON' });
  });

  test('an empty body is a 400', async () => {
    const res = await handler(apiEvent('POST /api/referrals'), lambdaContext);
    expect(res.statusCode).toBe(400);
  });

  test('the staff intake route without JWT claims is a 401', async () => {
    // Act
    const res = await handler(apiEvent('POST /api/staff/referrals', { body: validIntake() }), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(401);
    expect(bodyOf(res)).toMatchObject({ error: 'Unauthorized' });
    expect(transactions(m)).toEqual([]);
  });

  test('the staff intake route with claims but no staff group is a 403', async () => {
    // Act
    const res = await handler(
      apiEvent('POST /api/staff/referrals', {
        body: validIntake(),
        claims: { sub: 'sub-x', token_use: 'access', 'cognito:groups': ['patients'] },
      }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(403);
    expect(bodyOf(res)).toMatchObject({ error: 'Forbidden' });
  });

  test('cognito:groups flattened to the string "[case-workers]" is accepted, and the phone channel and staff user are recorded', async () => {
    // Prepare
    const claims = { sub: 'sub-cw-1', username: 'casey', token_use: 'access', 'cognito:groups': '[case-workers]' };

    // Act
    const res = await handler(apiEvent('POST /api/staff/referrals', { body: validIntake(), claims }), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(201);
    const [meta, , , event] = putItems(transactions(m)[0]!);
    expect(meta).toMatchObject({ channel: 'phone' });
    expect(event).toMatchObject({
      type: 'RECEIVED',
      actor: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' },
      detail: { channel: 'phone' },
    });
  });

  test('the public route ignores the caller and records the patient as actor', async () => {
    // Act
    await handler(apiEvent('POST /api/referrals', { body: validIntake(), claims: CASE_WORKER }), lambdaContext);

    // Assess
    expect(putItems(transactions(m)[0]!)[3]).toMatchObject({ actor: { kind: 'patient' }, detail: { channel: 'web' } });
  });

  test('an unknown routeKey is a 404', async () => {
    const res = await handler(apiEvent('DELETE /api/referrals', { body: validIntake() }), lambdaContext);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res)).toMatchObject({ error: 'NotFound' });
  });

  test('an SDK failure is a 500 with a generic message: no stack, no error text, no data', async () => {
    // Prepare
    const failure = new Error('ProvisionedThroughputExceeded for item with dateOfBirth 1988-04-12 Jordan');
    failure.name = 'ProvisionedThroughputExceededException';
    m.ddb.on(TransactWriteCommand).rejects(failure);

    // Act
    const res = await post(validIntake());

    // Assess
    expect(res.statusCode).toBe(500);
    expect(bodyOf(res)).toEqual({ error: 'InternalError', message: expect.any(String) });
    expect(res.body).not.toMatch(/Provisioned|1988|Jordan|at |\.ts/);
    expect(m.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
