import type { CohortView, ReferralDetail } from '../../../../functions/lib/schemas/views';
import { FINAL_STATUSES } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { h, mount, type Child } from '../dom';
import { ageOf, ageYears, calendarDay, dateTime, phone, STATUS_LABEL, STEP_LABEL, words, yesNo } from '../format';
import { consentPanel, followUpPanel } from './caseload';
import { defs, loading, personName, problem, slaBadge, statusBadge, urgentBadge, waitFor, type ViewContext } from './common';
import { decisionForm } from './decisions';
import { eligibilityFacts, insuranceReviewPanel } from './insurance-review';
import { progressView } from './progress';
import { tabForStatus, QUEUE_TABS } from './queues';
import { resumePanel } from './resume';
import { disclosuresTable, timelineSection, type TimelineLookup } from './timeline';
import { withdrawControl } from './withdraw';

// one referral: the intake (PHI, signed-in staff only), screening, insurance check, the decision
// form for the pending step, the workflow progress, the timeline and the disclosures sent.
// Every patient-supplied string goes through text nodes (dom.ts); nothing is parsed as HTML.

export function detailView(ctx: ViewContext, id: string): HTMLElement {
  const el = h(
    'article',
    { class: 'detail', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Referral'),
    loading('the referral'),
  );
  void (async () => {
    // the cohorts give names to the cohort ids decisions carry (the timeline never shows an id)
    const [res, cohorts] = await Promise.all([api.referral(id), api.cohorts()]);
    if (!ctx.alive()) return;
    if (!res.ok) {
      mount(
        el,
        h('h1', { id: 'page-h', tabindex: '-1' }, 'Referral'),
        problem(res.error, res.status, h('a', { href: '#/queue/evaluation' }, 'Back to the queues')),
      );
      return;
    }
    mount(el, ...render(ctx, res.data, cohorts.ok ? cohorts.data.items : undefined));
    document.title = `Referral ${res.data.reference} — IOP console`;
    // between two gates (an automatic step is running): show the next gate as soon as it opens
    if (!res.data.pendingStep && !FINAL_STATUSES.includes(res.data.status)) {
      const next = await waitFor(
        async () => {
          if (!ctx.alive()) return null; // navigated away: stop polling
          const d = await api.referral(id);
          return d.ok && (d.data.pendingStep || FINAL_STATUSES.includes(d.data.status)) ? d.data : undefined;
        },
        30_000,
        1000,
      );
      if (next && ctx.alive()) ctx.reload();
    }
  })();
  return el;
}

/** "Cohort: Morning A — morning track, starts Dec 1, 2025" */
function cohortLine(cohortId: string, cohorts: readonly CohortView[]): HTMLElement {
  const c = cohorts.find((x) => x.cohortId === cohortId);
  return c
    ? h(
        'p',
        { class: 'cohort-line' },
        'Cohort: ',
        h('a', { href: '#/cohorts' }, c.name),
        ` — ${c.track} track, starts ${calendarDay(c.startDate)}`,
      )
    : h('p', { class: 'cohort-line' }, h('a', { href: '#/cohorts' }, 'See the cohorts'));
}

/** a phone number as people read it, dialable */
const phoneLink = (typed: string): HTMLElement => {
  const p = phone(typed);
  return h('a', { href: `tel:${p.tel}`, class: 'phone' }, p.text);
};

/** `cohorts` is undefined when they could not be loaded */
function render(ctx: ViewContext, r: ReferralDetail, cohorts: readonly CohortView[] | undefined): Child[] {
  const lookup: TimelineLookup = { cohortName: (id) => cohorts?.find((c) => c.cohortId === id)?.name };
  const i = r.intake;
  const final = FINAL_STATUSES.includes(r.status);
  const positive = i.screening.selfHarmThoughtsPastMonth || i.screening.suicideAttemptPastThreeMonths;
  const backTab =
    tabForStatus(r.status) ?? (r.pendingStep ? QUEUE_TABS.find((t) => t.id === r.pendingStep)?.id : undefined) ?? 'evaluation';
  const years = ageYears(i.patient.dateOfBirth);

  const header = h(
    'header',
    { class: 'detail-head' },
    h('p', { class: 'crumbs' }, h('a', { href: `#/queue/${backTab}` }, '← Back to the queue')),
    h(
      'h1',
      { id: 'page-h', tabindex: '-1' },
      h('span', { class: 'patient-name' }, personName(i.patient.firstName, i.patient.lastName)),
      ' ',
      h('span', { class: 'ref' }, `Ref. ${r.reference}`),
    ),
    h(
      'p',
      { class: 'badges' },
      h('span', { class: 'visually-hidden' }, 'Status: '),
      statusBadge(r.status),
      r.pendingStep && !final ? h('span', { class: 'badge step' }, `Pending: ${STEP_LABEL[r.pendingStep]}`) : null,
      r.urgent ? urgentBadge() : null,
      !final ? slaBadge(r) : null,
      r.assignment
        ? h('span', { class: 'badge owner' }, `Assigned: ${r.assignment.username === ctx.session.username ? 'you' : r.assignment.username}`)
        : null,
      h(
        'span',
        { class: 'muted' },
        `${r.channel === 'phone' ? 'Phone' : 'Web'} intake ${ageOf(r.receivedAt)} ago (${dateTime(r.receivedAt)})`,
      ),
    ),
    !final ? withdrawControl(ctx, r) : null,
    resumePanel(ctx, r),
  );

  const crisis = positive
    ? h(
        'section',
        { class: 'crisis-screen', 'aria-labelledby': 'crisis-h' },
        h('h2', { id: 'crisis-h' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Positive suicide-risk screen'),
        h(
          'p',
          null,
          'The 988 Suicide & Crisis Lifeline (call or text 988) was shown to this person at intake. Follow the program’s safety protocol before any other step; in an emergency call 911.',
        ),
        h(
          'ul',
          null,
          h('li', null, `Thoughts of self-harm in the past month: ${yesNo(i.screening.selfHarmThoughtsPastMonth)}`),
          h('li', null, `Suicide attempt in the past three months: ${yesNo(i.screening.suicideAttemptPastThreeMonths)}`),
        ),
      )
    : null;

  const elig = r.eligibility;
  const intake = h(
    'section',
    { class: 'panel intake', 'aria-labelledby': 'intake-h' },
    h('h2', { id: 'intake-h' }, 'Intake'),
    h('p', { class: 'phi-note' }, 'Protected health information (42 CFR Part 2). Do not copy it outside this console.'),
    h('h3', null, 'Person'),
    defs([
      ['Name', personName(i.patient.firstName, i.patient.lastName)],
      ['Date of birth', `${calendarDay(i.patient.dateOfBirth)}${years !== null ? ` (${years} years)` : ''}`],
      ['Phone', phoneLink(i.patient.phone)],
      ['Email', i.patient.email ?? ''],
      ['Preferred language', i.patient.preferredLanguage === 'es' ? 'Spanish' : 'English'],
      ['ZIP code', i.patient.postalCode ?? ''],
      ['Schedule preference', words(i.schedulePreference)],
    ]),
    h('h3', null, 'Screening'),
    h(
      'p',
      { class: positive ? 'screen positive' : 'screen negative' },
      positive
        ? [h('span', { 'aria-hidden': 'true' }, '⚠ '), h('strong', null, 'Positive screen'), ' — 988 shown at intake']
        : 'Negative screen',
    ),
    defs([
      ['Self-harm thoughts, past month', yesNo(i.screening.selfHarmThoughtsPastMonth)],
      ['Suicide attempt, past 3 months', yesNo(i.screening.suicideAttemptPastThreeMonths)],
    ]),
    h('h3', null, 'Substances'),
    h(
      'ul',
      { class: 'plain' },
      i.substances.map((s) =>
        h('li', null, words(s.substance), s.lastUse ? ` — last use ${calendarDay(s.lastUse)}` : ' — last use not given'),
      ),
    ),
    h('h3', null, 'Withdrawal and detox'),
    defs([
      ['Current withdrawal symptoms', yesNo(i.withdrawal.currentSymptoms)],
      ['Detox status', words(i.withdrawal.detoxStatus)],
      ['Detox completed on', i.withdrawal.detoxCompletedOn ? calendarDay(i.withdrawal.detoxCompletedOn) : ''],
    ]),
    h('h3', null, 'Co-occurring conditions'),
    i.coOccurring?.length
      ? h(
          'ul',
          { class: 'plain' },
          i.coOccurring.map((c) => h('li', null, c)),
        )
      : h('p', { class: 'muted' }, 'None recorded'),
    h('h3', null, 'Insurance'),
    defs([
      ['Type', words(i.insurance.type)],
      ['Payer', i.insurance.payer ?? ''],
      ['Payer ID', i.insurance.payerId ?? ''],
      ['Member ID', i.insurance.memberId ?? ''],
      ['Group number', i.insurance.groupNumber ?? ''],
    ]),
    // at the insurance review the result shows once, in the review panel beside its re-check
    r.status === 'INSURANCE_REVIEW'
      ? null
      : h(
          'div',
          { class: `eligibility ${elig?.outcome ?? 'none'}`, 'aria-labelledby': 'elig-h', role: 'group' },
          h('h3', { id: 'elig-h' }, 'Insurance check result'),
          elig ? eligibilityFacts(elig) : h('p', { class: 'muted' }, 'No check recorded yet.'),
        ),
    h('h3', null, 'Referring physician and consent'),
    defs([
      ['Physician', i.referringPhysician?.name ?? 'None given'],
      ['NPI', i.referringPhysician?.npi ?? ''],
      ['Physician email', i.referringPhysician?.email ?? ''],
      ['Practice', i.referringPhysician?.practice ?? ''],
      [
        'Share updates with the physician',
        r.consentRevoked ? `Revoked ${dateTime(r.consentRevoked.at)} (given at intake)` : yesNo(i.consent.shareWithReferrer),
      ],
      ['Signed by', i.consent.signature],
      ['Signed at', dateTime(i.consent.signedAt)],
    ]),
    h('h3', null, 'Notes from the intake'),
    i.notes ? h('p', { class: 'notes' }, i.notes) : h('p', { class: 'muted' }, 'No notes'),
  );

  const timeline = timelineSection(r.events, lookup);

  const disclosures = [...r.events].sort((a, b) => a.at.localeCompare(b.at)).filter((e) => e.type === 'DISCLOSURE');
  const disclosed = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'disc-h' },
    h('h2', { id: 'disc-h' }, 'Disclosures sent (42 CFR Part 2)'),
    disclosures.length
      ? disclosuresTable(disclosures, lookup)
      : h(
          'p',
          { class: 'muted' },
          i.consent.shareWithReferrer ? 'No disclosure sent yet.' : 'None: the person did not consent to share updates with a physician.',
        ),
  );

  const decision = r.pendingStep && !final ? decisionForm(ctx, r, cohorts, lookup) : null;

  return [
    header,
    crisis,
    progressView(r),
    h(
      'div',
      { class: 'detail-grid' },
      h(
        'div',
        { class: 'col-main' },
        r.status === 'INSURANCE_REVIEW' ? insuranceReviewPanel(ctx, r) : null,
        decision ??
          h(
            'section',
            { class: 'panel', 'aria-labelledby': 'nodec-h' },
            h('h2', { id: 'nodec-h' }, 'Decision'),
            h(
              'p',
              { class: 'muted' },
              final
                ? `Closed: ${STATUS_LABEL[r.status]}.`
                : 'No human step is pending right now: an automatic step is running. This page updates when the next step opens.',
            ),
            r.cohortId ? cohortLine(r.cohortId, cohorts ?? []) : null,
          ),
        followUpPanel(ctx, r),
        consentPanel(ctx, r),
      ),
      h('div', { class: 'col-side' }, intake),
    ),
    timeline,
    disclosed,
  ];
}
