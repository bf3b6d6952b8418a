import type { ReferralDetail, ReferralEvent } from '../../../../functions/lib/schemas/views';
import { FINAL_STATUSES } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { h, mount, type Child } from '../dom';
import { ageOf, ageYears, calendarDay, dateTime, STATUS_LABEL, STEP_LABEL, words, yesNo } from '../format';
import { defs, loading, problem, slaBadge, statusBadge, urgentBadge, waitFor, type ViewContext } from './common';
import { decisionForm } from './decisions';
import { progressView } from './progress';
import { tabForStatus, QUEUE_TABS } from './queues';
import { resumePanel } from './resume';
import { withdrawControl } from './withdraw';

// one referral: the intake (PHI, signed-in staff only), screening, insurance check, the decision
// form for the pending step, the workflow progress, the timeline and the disclosures sent.
// Every patient-supplied string goes through text nodes (dom.ts); nothing is parsed as HTML.

export function detailView(ctx: ViewContext, id: string): HTMLElement {
  const el = h('article', { class: 'detail', 'aria-labelledby': 'page-h' }, h('h1', { id: 'page-h', tabindex: '-1' }, 'Referral'), loading('the referral'));
  void (async () => {
    const res = await api.referral(id);
    if (!ctx.alive()) return;
    if (!res.ok) {
      mount(el, h('h1', { id: 'page-h', tabindex: '-1' }, 'Referral'), problem(res.error, res.status, h('a', { href: '#/queue/evaluation' }, 'Back to the queues')));
      return;
    }
    mount(el, ...render(ctx, res.data));
    document.title = `Referral ${res.data.reference} — IOP console`;
    // between two gates (an automatic step is running): show the next gate as soon as it opens
    if (!res.data.pendingStep && !FINAL_STATUSES.includes(res.data.status)) {
      const next = await waitFor(async () => {
        if (!ctx.alive()) return null; // navigated away: stop polling
        const d = await api.referral(id);
        return d.ok && (d.data.pendingStep || FINAL_STATUSES.includes(d.data.status)) ? d.data : undefined;
      }, 30_000, 1000);
      if (next && ctx.alive()) ctx.reload();
    }
  })();
  return el;
}

const ACTOR = (e: ReferralEvent): string =>
  e.actor.kind === 'staff' ? `Staff: ${e.actor.username ?? e.actor.sub ?? 'unknown'}` : e.actor.kind === 'patient' ? 'Patient / web form' : 'System';

const detailText = (v: unknown): string => {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length ? v.map(detailText).join(', ') : '—';
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => `${k}: ${detailText(x)}`)
      .join(', ');
  }
  return String(v);
};

const eventDetails = (d: Record<string, unknown> | undefined): Child =>
  d && Object.keys(d).length ? h('ul', { class: 'kv' }, Object.entries(d).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => h('li', null, h('span', { class: 'k' }, `${words(k)}: `), detailText(v)))) : '—';

/** "Cohort: Morning A — morning track, starts Dec 1, 2025" once the cohorts answer */
function cohortLine(ctx: ViewContext, cohortId: string): HTMLElement {
  const p = h('p', { class: 'cohort-line' }, 'Cohort: ', h('a', { href: '#/cohorts' }, cohortId));
  void api.cohorts().then((res) => {
    const c = res.ok ? res.data.items.find((x) => x.cohortId === cohortId) : undefined;
    if (c && ctx.alive()) p.replaceChildren('Cohort: ', h('a', { href: '#/cohorts' }, c.name), ` — ${c.track} track, starts ${calendarDay(c.startDate)}`);
  });
  return p;
}

function render(ctx: ViewContext, r: ReferralDetail): Child[] {
  const i = r.intake;
  const final = FINAL_STATUSES.includes(r.status);
  const positive = i.screening.selfHarmThoughtsPastMonth || i.screening.suicideAttemptPastThreeMonths;
  const backTab = tabForStatus(r.status) ?? (r.pendingStep ? QUEUE_TABS.find((t) => t.id === r.pendingStep)?.id : undefined) ?? 'evaluation';
  const years = ageYears(i.patient.dateOfBirth);

  const header = h(
    'header',
    { class: 'detail-head' },
    h('p', { class: 'crumbs' }, h('a', { href: `#/queue/${backTab}` }, '← Back to the queue')),
    h('h1', { id: 'page-h', tabindex: '-1' }, h('span', { class: 'patient-name' }, `${i.patient.firstName} ${i.patient.lastName}`), ' ', h('span', { class: 'ref' }, `Ref. ${r.reference}`)),
    h(
      'p',
      { class: 'badges' },
      h('span', { class: 'visually-hidden' }, 'Status: '),
      statusBadge(r.status),
      r.pendingStep && !final ? h('span', { class: 'badge step' }, `Pending: ${STEP_LABEL[r.pendingStep]}`) : null,
      r.urgent ? urgentBadge() : null,
      !final ? slaBadge(r) : null,
      h('span', { class: 'muted' }, `${r.channel === 'phone' ? 'Phone' : 'Web'} intake ${ageOf(r.receivedAt)} ago (${dateTime(r.receivedAt)})`),
    ),
    !final ? withdrawControl(ctx, r) : null,
    resumePanel(ctx, r),
  );

  const crisis = positive
    ? h(
        'section',
        { class: 'crisis-screen', 'aria-labelledby': 'crisis-h' },
        h('h2', { id: 'crisis-h' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Positive suicide-risk screen'),
        h('p', null, 'The 988 Suicide & Crisis Lifeline (call or text 988) was shown to this person at intake. Follow the program’s safety protocol before any other step; in an emergency call 911.'),
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
      ['Name', `${i.patient.firstName} ${i.patient.lastName}`],
      ['Date of birth', `${calendarDay(i.patient.dateOfBirth)}${years !== null ? ` (${years} years)` : ''}`],
      ['Phone', i.patient.phone],
      ['Email', i.patient.email ?? ''],
      ['Preferred language', i.patient.preferredLanguage === 'es' ? 'Spanish' : 'English'],
      ['ZIP code', i.patient.postalCode ?? ''],
      ['Schedule preference', words(i.schedulePreference)],
    ]),
    h('h3', null, 'Screening'),
    h(
      'p',
      { class: positive ? 'screen positive' : 'screen negative' },
      positive ? [h('span', { 'aria-hidden': 'true' }, '⚠ '), h('strong', null, 'Positive screen'), ' — 988 shown at intake'] : 'Negative screen',
    ),
    defs([
      ['Self-harm thoughts, past month', yesNo(i.screening.selfHarmThoughtsPastMonth)],
      ['Suicide attempt, past 3 months', yesNo(i.screening.suicideAttemptPastThreeMonths)],
    ]),
    h('h3', null, 'Substances'),
    h('ul', { class: 'plain' }, i.substances.map((s) => h('li', null, words(s.substance), s.lastUse ? ` — last use ${calendarDay(s.lastUse)}` : ' — last use not given'))),
    h('h3', null, 'Withdrawal and detox'),
    defs([
      ['Current withdrawal symptoms', yesNo(i.withdrawal.currentSymptoms)],
      ['Detox status', words(i.withdrawal.detoxStatus)],
      ['Detox completed on', i.withdrawal.detoxCompletedOn ? calendarDay(i.withdrawal.detoxCompletedOn) : ''],
    ]),
    h('h3', null, 'Co-occurring conditions'),
    i.coOccurring?.length ? h('ul', { class: 'plain' }, i.coOccurring.map((c) => h('li', null, c))) : h('p', { class: 'muted' }, 'None recorded'),
    h('h3', null, 'Insurance'),
    defs([
      ['Type', words(i.insurance.type)],
      ['Payer', i.insurance.payer ?? ''],
      ['Member ID', i.insurance.memberId ?? ''],
      ['Group number', i.insurance.groupNumber ?? ''],
    ]),
    h(
      'div',
      { class: `eligibility ${elig?.outcome ?? 'none'}`, 'aria-labelledby': 'elig-h', role: 'group' },
      h('h3', { id: 'elig-h' }, 'Insurance check result'),
      elig
        ? defs([
            ['Outcome', words(elig.outcome)],
            ['Checked', dateTime(elig.checkedAt)],
            ['Summary', elig.summary],
          ])
        : h('p', { class: 'muted' }, 'No check recorded yet.'),
    ),
    h('h3', null, 'Referring physician and consent'),
    defs([
      ['Physician', i.referringPhysician?.name ?? 'None given'],
      ['NPI', i.referringPhysician?.npi ?? ''],
      ['Physician email', i.referringPhysician?.email ?? ''],
      ['Practice', i.referringPhysician?.practice ?? ''],
      ['Share updates with the physician', yesNo(i.consent.shareWithReferrer)],
      ['Signed by', i.consent.signature],
      ['Signed at', dateTime(i.consent.signedAt)],
    ]),
    h('h3', null, 'Notes from the intake'),
    i.notes ? h('p', { class: 'notes' }, i.notes) : h('p', { class: 'muted' }, 'No notes'),
  );

  const events = [...r.events].sort((a, b) => a.at.localeCompare(b.at));
  const timeline = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'timeline-h' },
    h('h2', { id: 'timeline-h' }, 'Timeline'),
    events.length
      ? h(
          'table',
          { class: 'timeline' },
          h('caption', { class: 'visually-hidden' }, 'Audit events, oldest first'),
          h('thead', null, h('tr', null, ['When', 'Who', 'What', 'Change', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            null,
            events.map((e) =>
              h(
                'tr',
                { class: `ev ev-${e.type.toLowerCase()}` },
                h('td', null, h('time', { datetime: e.at }, dateTime(e.at))),
                h('td', null, ACTOR(e)),
                h('td', null, words(e.type), e.step ? ` — ${STEP_LABEL[e.step] ?? e.step}` : ''),
                h('td', null, e.from || e.to ? `${e.from ? STATUS_LABEL[e.from] : '—'} → ${e.to ? STATUS_LABEL[e.to] : '—'}` : ''),
                h('td', null, eventDetails(e.detail)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No events yet.'),
  );

  const disclosures = events.filter((e) => e.type === 'DISCLOSURE');
  const disclosed = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'disc-h' },
    h('h2', { id: 'disc-h' }, 'Disclosures sent (42 CFR Part 2)'),
    disclosures.length
      ? h(
          'table',
          { class: 'timeline' },
          h('caption', { class: 'visually-hidden' }, 'Disclosures to the referring physician'),
          h('thead', null, h('tr', null, ['When', 'By', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, disclosures.map((e) => h('tr', null, h('td', null, h('time', { datetime: e.at }, dateTime(e.at))), h('td', null, ACTOR(e)), h('td', null, eventDetails(e.detail))))),
        )
      : h('p', { class: 'muted' }, i.consent.shareWithReferrer ? 'No disclosure sent yet.' : 'None: the person did not consent to share updates with a physician.'),
  );

  const decision = r.pendingStep && !final ? decisionForm(ctx, r) : null;

  return [
    header,
    crisis,
    progressView(r),
    h('div', { class: 'detail-grid' }, h('div', { class: 'col-main' }, decision ?? h('section', { class: 'panel', 'aria-labelledby': 'nodec-h' }, h('h2', { id: 'nodec-h' }, 'Decision'), h('p', { class: 'muted' }, final ? `Closed: ${STATUS_LABEL[r.status]}.` : 'No human step is pending right now: an automatic step is running. This page updates when the next step opens.'), r.cohortId ? cohortLine(ctx, r.cohortId) : null)), h('div', { class: 'col-side' }, intake)),
    timeline,
    disclosed,
  ];
}
