import { expect, test } from '@jest/globals';
import { cohortBody, intakeBody } from '../support/fixtures';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import { consoleUrl, openReferral, signIn } from './support/console-helpers';

// hostile text (issue 12, item 7) in every free-text field a person or a case worker can fill:
// inert in the console (no dialog, no element made from it) and in every email (escaped HTML, no
// CR/LF in a header, no extra recipient)

const SLOW = 120_000;
const MARKUP = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
const HEADER = 'x\r\nBcc: evil@attacker.example';
/** at most 100 characters (the names' limit): markup, a header injection and a right-to-left override */
const hostile = (field: string) => `${field}${MARKUP}${HEADER}\u202e`;

const e2e = e2eSuite({ runtime: { timeScale: 100 } });
const { api, newPage } = e2e;

test(
  'hostile text in names, notes, practice, signature, conditions, decision notes and reasons is shown as text and escaped in every email',
  async () => {
    // Prepare: an intake with hostile text in every free-text field, decided and enrolled with hostile notes
    const { client } = e2e;
    const cohort = (await client.call('POST', '/api/staff/cohorts', { body: cohortBody({ name: hostile('Cohort') }), as: 'sam' })).json as {
      cohortId: string;
    };
    const body = intakeBody({
      patient: { firstName: hostile('First'), email: 'hostile.patient@example.org' } as never,
      lastName: hostile('Last'),
      notes: hostile('Notes'),
      coOccurring: [hostile('Condition')],
      insurance: { type: 'commercial', payer: hostile('Payer'), memberId: 'M-1' } as never,
      referringPhysician: {
        name: hostile('Doctor'),
        npi: '1234567893',
        email: 'hostile.doctor@clinic.example',
        practice: hostile('Practice'),
      },
      consent: { shareWithReferrer: true, signature: hostile('Signature') } as never,
    });
    const created = await client.intake(body);
    expect(created.status).toBe(201);
    const { referralId } = created.json as { referralId: string };
    await client.waitForGate(referralId, 'evaluation');
    const evaluation = {
      dimensions: { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 },
      recommendedLevel: '2.1',
      detoxRequired: false,
      decision: 'accept',
      note: hostile('Decision'),
    };
    expect((await client.decide(referralId, 'evaluation', evaluation)).status).toBe(200);
    await client.waitForGate(referralId, 'enrollment');
    expect((await client.decide(referralId, 'enrollment', { cohortId: cohort.cohortId, note: hostile('Enrol') })).status).toBe(200);
    const mails = [
      ...(await client.waitForEmails('hostile.patient@example.org', 2)),
      ...(await client.waitForEmails('hostile.doctor@clinic.example', 3)),
    ];

    // Act: a case worker opens it in the console
    const { page, context, problems } = await newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(consoleUrl(api));
    await signIn(page, 'casey');
    await openReferral(page, api, referralId);
    await page.locator('.notes').waitFor();

    // Assess: the console shows every value as text; nothing was made from it
    const text = (await page.locator('main').textContent()) ?? '';
    for (const field of ['First', 'Last', 'Notes', 'Condition', 'Payer', 'Doctor', 'Practice', 'Signature', 'Decision']) {
      expect(text).toContain(`${field}"><img src=x onerror=alert(1)><script>alert(2)</script>`);
    }
    expect(await page.locator('main img[src="x"], main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // the right-to-left override at the end of the first name reorders neither the last name nor the
    // reference after it: each name part is laid out in isolation (as the browser computes it)
    const parts = await page
      .locator('.patient-name bdi')
      .evaluateAll((els) => els.map((e) => ({ text: e.textContent, bidi: getComputedStyle(e).unicodeBidi })));
    expect(parts).toEqual([
      { text: body.patient.firstName, bidi: 'isolate' },
      { text: body.patient.lastName, bidi: 'isolate' },
    ]);
    await shot(page, 'console-j-hostile-text');
    await context.close();
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);

    // Assess: every email — one recipient, no header injected, HTML escaped
    expect(mails.length).toBeGreaterThanOrEqual(5);
    for (const m of mails) {
      expect(m.destination.to).toHaveLength(1);
      expect(JSON.stringify(m.destination)).not.toContain('attacker');
      expect(m.subject).not.toMatch(/[\r\n]|Bcc/);
      expect(m.body.html ?? '').not.toMatch(/<img|<script/i);
    }
    const raw = await (await fetch(`${api.mailUrl}/store`)).text();
    expect(raw).not.toMatch(/"bcc":\["[^\]]/);
  },
  SLOW,
);
