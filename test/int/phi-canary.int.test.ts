import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { cohortBody, intakeBody } from '../support/fixtures';
import { type CapturedOutput, captureOutput } from '../support/output';
import { runtimeSuite } from '../support/runtime-suite';

// PHI canaries (issue 12, item 6): referrals carry distinctive values in every PHI field and run
// through intake, decisions, enrolment, a withdrawal and bad requests. Then every place PHI must
// never reach is searched for them: everything the runtime and the handlers logged (stdout and
// stderr, including the gateway's request lines with their URLs), the executions' input, output
// and whole history, the error bodies, the program team's emails and the physician's emails
// (which may carry the display name — first name and last initial — and nothing else).

const CANARY = {
  firstName: 'Zqvfirstcanary',
  lastName: 'Zqvlastcanary',
  email: 'zqv.mail.canary@example.org',
  phone: '(555) 319-8642',
  dateOfBirth: '1971-02-03',
  postalCode: '80302',
  notes: 'ZQVNOTESCANARY about my situation',
  signature: 'Zqv Signature Canary',
  memberId: 'ZQVMEMBER77',
  groupNumber: 'ZQVGROUP88',
  payer: 'Zqvpayercanary Health',
  coOccurring: 'zqvconditioncanary',
  decisionNote: 'ZQVDECISIONNOTE',
  withdrawReason: 'ZQVWITHDRAWREASON',
};
/** what may appear in a physician email: the display name only */
const DISPLAY_NAME = `${CANARY.firstName} ${CANARY.lastName[0]}.`;

const everyCanary = Object.values(CANARY);
const found = (text: string, canaries = everyCanary): string[] => canaries.filter((c) => text.toLowerCase().includes(c.toLowerCase()));

let sfn: SFNClient;
let output: CapturedOutput;

beforeAll(() => {
  // before the runtime: everything it logs is captured
  output = captureOutput();
});
// not quiet: the gateway logs every request line, the handlers log at DEBUG
const suite = runtimeSuite({ quiet: false, timeScale: 100, env: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
beforeAll(() => {
  sfn = new SFNClient({ region: 'us-east-1', endpoint: suite.rt.sfnUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(() => {
  sfn?.destroy();
  output?.stop();
});

const canaryIntake = (tag: string) =>
  intakeBody({
    patient: {
      firstName: CANARY.firstName,
      lastName: CANARY.lastName,
      email: `${tag}.${CANARY.email}`,
      phone: CANARY.phone,
      dateOfBirth: CANARY.dateOfBirth,
      postalCode: CANARY.postalCode,
    } as never,
    lastName: CANARY.lastName,
    notes: CANARY.notes,
    coOccurring: [CANARY.coOccurring],
    insurance: { type: 'commercial', payer: CANARY.payer, memberId: CANARY.memberId, groupNumber: CANARY.groupNumber } as never,
    referringPhysician: { name: 'Dr. Safe Name', npi: '1234567893', email: `${tag}.doctor@clinic.example` },
    consent: { shareWithReferrer: true, signature: CANARY.signature } as never,
  });

const EVAL = {
  dimensions: { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 },
  recommendedLevel: '2.1',
  detoxRequired: false,
  decision: 'accept',
  note: CANARY.decisionNote,
};

test('no PHI canary reaches the logs, the executions, the error bodies or the program emails; physicians see the display name only', async () => {
  // Prepare
  const cohort = (await suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody(), as: 'sam' })).json as { cohortId: string };
  const errorBodies: string[] = [];

  // Act: one referral to enrolment, one withdrawn, one urgent, and bad requests full of canaries
  const enrolled = (await suite.api.intake(canaryIntake('a'))).json.referralId as string;
  const withdrawn = (await suite.api.intake(canaryIntake('b'))).json.referralId as string;
  const urgentBody = canaryIntake('c');
  urgentBody.screening.selfHarmThoughtsPastMonth = true;
  const urgent = (await suite.api.intake(urgentBody)).json.referralId as string;
  await suite.api.waitForGate(enrolled, 'evaluation');
  expect((await suite.api.decide(enrolled, 'evaluation', EVAL)).status).toBe(200);
  await suite.api.waitForGate(enrolled, 'enrollment');
  expect((await suite.api.decide(enrolled, 'enrollment', { cohortId: cohort.cohortId, note: CANARY.decisionNote })).status).toBe(200);
  await suite.api.waitForGate(withdrawn, 'evaluation');
  expect(
    (await suite.api.call('POST', `/api/staff/referrals/${withdrawn}/withdraw`, { body: { reason: CANARY.withdrawReason }, as: 'casey' }))
      .status,
  ).toBe(200);
  const bad = canaryIntake('d');
  (bad.patient as { dateOfBirth: string }).dateOfBirth = `${CANARY.dateOfBirth}x`;
  (bad.patient as { email: string }).email = `not-an-email ${CANARY.email}`;
  for (const res of [
    await suite.api.intake(bad),
    await suite.api.intake({ ...canaryIntake('e'), substances: [] }),
    await suite.api.call('POST', '/api/referrals', {
      raw: `{"patient":{"firstName":"${CANARY.firstName}"`,
      headers: { 'idempotency-key': 'k-canary-1' },
    }),
    await suite.api.decide(enrolled, 'evaluation', EVAL),
    await suite.api.call(
      'GET',
      `/api/staff/referrals?q=${encodeURIComponent(CANARY.lastName)}&cursor=${encodeURIComponent(CANARY.notes)}`,
      {
        as: 'casey',
      },
    ),
  ]) {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    errorBodies.push(res.text);
  }
  // every email has gone out (the outbox is drained) before anything is searched
  await suite.api.waitForEmails(`a.${CANARY.email}`, 2, () => true, 15_000);
  await suite.api.waitForEmails('a.doctor@clinic.example', 3, () => true, 15_000);
  await suite.api.waitForEmails('b.doctor@clinic.example', 2, () => true, 15_000);
  await suite.api.waitForEmails('intake-team@iop.example', 1, (e) => e.subject.startsWith('Urgent'), 15_000);

  // Assess: logs (every line the process wrote while the runtime ran)
  const logs = output.text();
  expect(logs).toContain(enrolled); // the capture sees the handlers' log lines (they carry IDs)
  expect(logs).toContain('/api/staff/referrals'); // and the gateway's request lines
  expect(found(logs)).toEqual([]);

  // Assess: executions — input, output and the whole history with its data
  const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: suite.rt.stateMachineArn, maxResults: 1000 }));
  const ours = (executions ?? []).filter((e) => [enrolled, withdrawn, urgent].some((id) => e.name?.startsWith(id)));
  expect(ours.length).toBeGreaterThanOrEqual(3);
  for (const e of ours) {
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: e.executionArn, includeExecutionData: true, maxResults: 1000 }),
    );
    expect(found(JSON.stringify(history.events))).toEqual([]);
  }

  // Assess: error bodies echo nothing
  expect(found(errorBodies.join('\n'))).toEqual([]);

  // Assess: program emails carry no PHI; physician emails the display name at most
  const emails = await suite.api.emails();
  const toProgram = emails.filter((m) => m.destination.to.includes('intake-team@iop.example'));
  expect(toProgram.length).toBeGreaterThan(0);
  expect(found(JSON.stringify(toProgram))).toEqual([]);
  const toDoctors = emails.filter((m) => m.destination.to.some((t) => t.endsWith('doctor@clinic.example')));
  expect(toDoctors.length).toBeGreaterThanOrEqual(5);
  const doctorText = JSON.stringify(toDoctors).split(DISPLAY_NAME).join('');
  expect(found(doctorText)).toEqual([]);
}, 90_000);
