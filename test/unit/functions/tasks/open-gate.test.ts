import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { answerDefaults, eventItems, mocks, noticeEvents, plainPuts, resetMocks, sentEmails, transactions } from '../support/aws';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DAY, intakeItem, isoAgo, lambdaContext, metaItem, referral, REFERRAL_ID, setTestEnv, validIntake } from '../support/fixtures';
import { PART2_NOTICE } from '../../../../functions/lib/domain/messages';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { handler as Handler } from '../../../../functions/open-gate/handler';

let handler: typeof Handler;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/open-gate/handler'));
});

const stored = (r: ReferralRecord) => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
};

beforeEach(() => {
  answerDefaults(m);
  m.sfn.on(SendTaskSuccessCommand).resolves({});
});

afterEach(() => {
  resetMocks(m);
});

describe('open-gate task', () => {
  test('stores the task token, the step and gateDueAt = opened + timeoutSeconds in one conditional put (no status change, no event)', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 2 }));

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'EVALUATION', taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAA-token', timeoutSeconds: 172_800 }, lambdaContext);

    // Assess
    expect(transactions(m)).toEqual([]);
    const put = m.ddb.commandCalls(PutCommand)[0]!.args[0].input;
    const item = put.Item!;
    expect(item).toMatchObject({ status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAA-token', breaches: 0, version: 3 });
    expect(item.gateOpenedAt).toBe(item.updatedAt);
    expect(Date.parse(item.gateDueAt as string) - Date.parse(item.gateOpenedAt as string)).toBe(172_800_000);
    expect(put.ConditionExpression).toBe('version = :prev');
  });

  test('entering detox records when detox started', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', version: 4 }));

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'DETOX', taskToken: 'tt', timeoutSeconds: 1_209_600 }, lambdaContext);

    // Assess
    const item = plainPuts(m)[0]!;
    expect(item).toMatchObject({ pendingStep: 'detox-confirmation', detoxSince: item.updatedAt });
  });

  test('a gate reopened after a breach keeps its opening time and breach count, takes the new token and due time', async () => {
    // Prepare
    const openedAt = isoAgo(2 * DAY);
    stored(referral({ status: 'EVALUATION', pendingStep: 'evaluation', version: 7, breaches: 1, gateOpenedAt: openedAt }));

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'EVALUATION', taskToken: 'tt-2', timeoutSeconds: 172_800 }, lambdaContext);

    // Assess
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({ taskToken: 'tt-2', breaches: 1, gateOpenedAt: openedAt });
    expect(eventItems(save!)).toEqual([expect.objectContaining({ type: 'GATE_REOPENED' })]);
  });

  test('a referral in NEEDS_ATTENTION stays there while its gate reopens', async () => {
    // Prepare
    stored(referral({ status: 'NEEDS_ATTENTION', pendingStep: 'evaluation', version: 7, breaches: 2, gateOpenedAt: isoAgo(4 * DAY) }));

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'EVALUATION', taskToken: 'tt-3', timeoutSeconds: 172_800 }, lambdaContext);

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ status: 'NEEDS_ATTENTION', taskToken: 'tt-3', pendingStep: 'evaluation' });
  });

  test('a decision whose resume lost the race with the timer resumes at once and stores no token', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', pendingStep: undefined, version: 9, lastDecision: { step: 'evaluation', route: { next: 'DETOX', timeoutSeconds: 1_209_600 }, unresumed: true } }));

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'EVALUATION', taskToken: 'tt-late', timeoutSeconds: 60 }, lambdaContext);

    // Assess
    expect(m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([{ taskToken: 'tt-late', output: '{"next":"DETOX","timeoutSeconds":1209600}' }]);
    const saved = plainPuts(m);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ lastDecision: { unresumed: false } });
    expect(saved[0]!.taskToken).toBeUndefined();
  });

  test('after an ordinary decision (e.g. detox extended) the next gate opens normally', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', pendingStep: undefined, version: 9, lastDecision: { step: 'detox-confirmation', route: { next: 'DETOX', timeoutSeconds: 600 } } }));

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'DETOX', taskToken: 'tt-new', timeoutSeconds: 600 }, lambdaContext);

    // Assess
    expect(m.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(plainPuts(m)[0]).toMatchObject({ pendingStep: 'detox-confirmation', taskToken: 'tt-new' });
  });

  test('after an accepted evaluation the consenting physician gets status only, with the Part 2 notice, recorded as a DISCLOSURE', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLMENT', pendingStep: undefined, version: 5, lastDecision: { step: 'evaluation', route: { next: 'ENROLLMENT', timeoutSeconds: 600 } } }));
    m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(REFERRAL_ID, validIntake()) });

    // Act
    await handler({ referralId: REFERRAL_ID, status: 'ENROLLMENT', taskToken: 'tt-enrol', timeoutSeconds: 600 }, lambdaContext);

    // Assess
    const [mail, ...more] = await sentEmails(m);
    expect(more).toEqual([]);
    expect(mail!.to).toEqual(['alopez@clinic.example.com']);
    expect(mail!.parsed.subject).toBe('Referral update (IOP-7KQ4-M3TD)');
    expect(mail!.parsed.text).toContain('accepted the referral');
    expect(mail!.parsed.text!.replace(/\s+/g, ' ')).toContain(PART2_NOTICE);
    expect(mail!.mime).not.toMatch(/alcohol|benzodiazepine|1988-04-12|201-3344|jordan\.quintana|Quintana|withdrawal/i);
    const disclosure = noticeEvents(m).find((e) => e.type === 'DISCLOSURE');
    expect(disclosure).toMatchObject({ detail: { audience: 'referring-physician', recipientNpi: '1234567893', notice: 'accepted' } });
    const sent = m.ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input).find((u) => u.Key?.sk === disclosure!.sk);
    expect(sent?.ExpressionAttributeValues).toMatchObject({ ':sent': 'sent', ':id': 'ses-message-1' });
  });

  test('a status that is not a gate is rejected as invalid task input', async () => {
    await expect(handler({ referralId: REFERRAL_ID, status: 'ENROLLED', taskToken: 'tt' }, lambdaContext)).rejects.toMatchObject({ name: 'TaskInputError', message: expect.stringContaining('status') });
  });
});
