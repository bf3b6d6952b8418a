import type { ReferralEvent, Status } from '../../../../functions/lib/schemas/views';
import type { Step } from '../../../../functions/lib/schemas/decisions';
import { h, type Child } from '../dom';
import { calendarDay, dateTime, hours, STATUS_LABEL, STEP_LABEL, words } from '../format';

// the timeline in words: each audit event says what happened as a person would put it ("Assigned
// to sam (was casey)", "Phone — left a message", "Evaluation: accepted into IOP, detox first"),
// never raw codes or ids. Staff notes and reasons are shown as typed, as text nodes (dom.ts).

/** what the timeline needs besides the events: cohort names for the cohort ids decisions carry */
export interface TimelineLookup {
  cohortName(cohortId: string): string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** "casey (staff)", "the patient (web form)", "System" */
export const actorText = (e: Pick<ReferralEvent, 'actor'>): string =>
  e.actor.kind === 'staff'
    ? `${e.actor.username || e.actor.sub || 'unknown'} (staff)`
    : e.actor.kind === 'patient'
      ? 'Patient (web form)'
      : 'System';

const EVENT_TITLE: Record<string, string> = {
  RECEIVED: 'Referral received',
  INSURANCE_CHECKED: 'Insurance checked',
  ELIGIBILITY_RECHECKED: 'Insurance checked again',
  STATUS_CHANGED: 'Status changed',
  SLA_BREACHED: 'Timer passed',
  GATE_REOPENED: 'Step reopened',
  DISCLOSURE: 'Status update to the physician',
  NOTICE_SENT: 'Email sent',
  NOTICE_FAILED: 'Email not delivered',
  NOTICE_CANCELLED: 'Email not sent',
  WITHDRAWN: 'Withdrawn',
  TASK_FAILED: 'Automatic step failed',
  RESUMED: 'Resumed',
  ASSIGNED: 'Assignment',
  CONTACT_LOGGED: 'Contact attempt',
  CONSENT_REVOKED: 'Consent revoked',
  RECORD_EXPORTED: 'Record exported',
  CONTACT_REMINDER: 'Reminder: contact the person',
  WAITLIST_REVIEW_DUE: 'Waitlist review due',
  SEAT_RELEASED: 'Seat given back',
};

/** the insurance fields a re-check corrected, by name (never their values) */
const CORRECTED: Record<string, string> = { memberId: 'member ID', payer: 'insurance company', payerId: 'payer ID' };

const eventTitle = (e: ReferralEvent): string =>
  e.type === 'STEP_DECIDED' && e.step ? `Decided: ${STEP_LABEL[e.step] ?? words(e.step)}` : (EVENT_TITLE[e.type] ?? words(e.type));

const AUDIENCE: Record<string, string> = {
  patient: 'the patient',
  physician: 'the referring physician',
  'referring-physician': 'the referring physician',
  program: 'the program team',
};

const NOTICE: Record<string, string> = {
  received: '“We received your request”',
  accepted: '“Accepted after evaluation”',
  enrolled: '“Enrolled, with the start date”',
  schedule: 'The group schedule (with the calendar invitation)',
  closed: '“Your request is closed”',
  waitlisted: '“You are on our waitlist”',
  missed: '“Your next group session”',
  started: '“Started treatment”',
  urgent: 'Urgent-referral alert',
  sla: 'Overdue-step alert',
  failure: 'Needs-attention alert',
  'notice-failed': 'Undelivered-email alert',
  'waitlist-review': 'Waitlist review reminder',
};

const noticeText = (d: Record<string, unknown>): string => {
  const what = NOTICE[String(d.notice)] ?? `The ${words(String(d.notice ?? 'notice')).toLowerCase()} email`;
  const to = AUDIENCE[String(d.audience)] ?? words(String(d.audience ?? ''));
  return `${what} to ${to}`;
};

export const CONTACT_CHANNEL: Record<string, string> = { phone: 'Phone call', text: 'Text message', email: 'Email' };
export const CONTACT_OUTCOME: Record<string, string> = {
  reached: 'reached the person',
  'left-message': 'left a message',
  'no-answer': 'no answer',
  'wrong-number': 'wrong number or address',
  declined: 'the person declined',
};
export const RECEIVED_VIA: Record<string, string> = { phone: 'by phone', 'in-person': 'in person', letter: 'by letter', email: 'by email' };

const REVIEW: Record<string, string> = {
  covered: 'Covered (other coverage or state-funded)',
  'self-pay': 'Self-pay',
  'not-covered': 'Not covered: the referral closes',
};

/** a decision in words: what was decided, then its particulars */
export function decisionText(step: Step | undefined, d: Record<string, unknown>, lookup: TimelineLookup): string[] {
  const lines: string[] = [];
  switch (step) {
    case 'insurance-review':
      lines.push(REVIEW[String(d.decision)] ?? words(String(d.decision)));
      break;
    case 'evaluation': {
      if (d.decision === 'refer-out') lines.push(`Referred out${str(d.referOutTo) ? ` to ${String(d.referOutTo)}` : ''}`);
      else
        lines.push(
          `Accepted into IOP${d.detoxRequired === true ? ': detox first' : d.detoxRequired === false ? ' (no detox needed)' : ''}`,
        );
      const dims = d.dimensions && typeof d.dimensions === 'object' ? (d.dimensions as Record<string, number>) : undefined;
      lines.push(
        `Recommended ASAM level ${String(d.recommendedLevel ?? '—')}${dims ? ` · risk ratings D1–D6: ${['d1', 'd2', 'd3', 'd4', 'd5', 'd6'].map((k) => dims[k] ?? '—').join(', ')}` : ''}`,
      );
      break;
    }
    case 'detox-confirmation':
      if (d.completed === true) {
        const score =
          d.withdrawalScore && typeof d.withdrawalScore === 'object'
            ? (d.withdrawalScore as { instrument?: string; score?: number })
            : undefined;
        lines.push(
          `Detox completed${str(d.completedOn) ? ` on ${calendarDay(String(d.completedOn))}` : ''}${str(d.facility) ? ` at ${String(d.facility)}` : ''}`,
        );
        if (score?.instrument) lines.push(`${score.instrument} at discharge: ${score.score ?? '—'}`);
      } else {
        lines.push(d.decision === 'extend' ? 'Detox not completed yet: keep waiting' : 'Detox not completed: referred out');
      }
      break;
    case 'enrollment':
      if (d.waitlist === true) lines.push('Put on the waitlist (every group of the person’s track is full)');
      else if (str(d.cohortId)) lines.push(`Enrolled in ${lookup.cohortName(String(d.cohortId)) ?? 'a cohort'}`);
      break;
    case 'waitlist':
      if (str(d.cohortId)) lines.push(`A seat was found: enrolled in ${lookup.cohortName(String(d.cohortId)) ?? 'a cohort'}`);
      break;
    case 'first-session':
      if (d.attended === true) lines.push(`Attended the first session${str(d.on) ? ` on ${calendarDay(String(d.on))}` : ''}: started`);
      else
        lines.push(
          d.next === 'retry'
            ? 'Missed the first session: wait for the next one'
            : 'Missed the first session: closed as a no-show (the seat is given back)',
        );
      break;
    default:
      lines.push(...genericLines(d, ['note']));
  }
  if (str(d.note)) lines.push(`Note: ${String(d.note)}`);
  return lines;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const YMD = /^\d{4}-\d{2}-\d{2}$/;

const valueText = (v: unknown): string => {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'string') return ISO_INSTANT.test(v) ? dateTime(v) : YMD.test(v) ? calendarDay(v) : v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.length ? v.map(valueText).join(', ') : '—';
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${words(k)} ${valueText(x)}`)
      .join(', ');
  return String(v);
};

/** any other detail as "Label: value" lines, ids and internal codes left out */
function genericLines(d: Record<string, unknown>, skip: string[] = []): string[] {
  return Object.entries(d)
    .filter(([k]) => !skip.includes(k) && !/(^|[a-z])(Id|Key|Token)$/.test(k) && k !== 'id')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${words(k)}: ${valueText(v)}`);
}

/** the lines that explain one event (empty: nothing beyond its title and status change) */
function eventLines(e: ReferralEvent, lookup: TimelineLookup): string[] {
  const d = e.detail ?? {};
  switch (e.type) {
    case 'RECEIVED': {
      const flags = Array.isArray(d.flags) ? (d.flags as string[]).filter((f) => f !== 'suicide-risk') : [];
      return [
        `${d.channel === 'phone' ? 'Phone' : 'Web'} intake`,
        ...(d.urgent === true ? ['Urgent: positive suicide-risk screen (988 shown)'] : []),
        ...(flags.length ? [`Flags: ${flags.map((f) => words(f).toLowerCase()).join(', ')}`] : []),
      ];
    }
    case 'INSURANCE_CHECKED':
      return [`${words(String(d.outcome ?? ''))}${str(d.summary) ? `: ${String(d.summary)}` : ''}`];
    case 'ELIGIBILITY_RECHECKED': {
      const changed = Array.isArray(d.changed)
        ? (d.changed as unknown[]).map((f) => CORRECTED[String(f)] ?? words(String(f)).toLowerCase())
        : [];
      return [
        `${words(String(d.outcome ?? ''))}${str(d.summary) ? `: ${String(d.summary)}` : ''}`,
        ...(str(d.reason) ? [`Reason code ${String(d.reason)}`] : []),
        changed.length ? `Corrected: ${changed.join(', ')}` : 'Checked again as stored (nothing corrected)',
      ];
    }
    case 'STATUS_CHANGED':
      return [];
    case 'STEP_DECIDED':
      return decisionText(e.step, d, lookup);
    case 'SLA_BREACHED':
      return d.expired === true
        ? [`Detox waited its full ${num(d.maxDays) ?? 30} days: the referral expired`]
        : [
            `Waited ${num(d.ageHours) !== undefined ? hours(num(d.ageHours)!) : '—'} at ${e.step ? (STEP_LABEL[e.step] ?? e.step) : 'this step'}${num(d.breach) ? ` (timer passed ${d.breach === 1 ? 'once' : `${d.breach} times`})` : ''}`,
          ];
    case 'GATE_REOPENED':
      return [`${e.step ? (STEP_LABEL[e.step] ?? e.step) : 'The step'} opened again with a fresh timer`];
    case 'DISCLOSURE':
      return [
        `Referral status only, to the referring physician${str(d.recipientNpi) ? ` (NPI ${String(d.recipientNpi)})` : ''}: ${noticeText({ ...d, audience: 'physician' }).replace(/ to the referring physician$/, '')}`,
        `Basis: written patient consent (42 CFR 2.31)${str(d.consentSignedAt) ? `, signed ${dateTime(String(d.consentSignedAt))}` : ''}`,
      ];
    case 'NOTICE_SENT':
      return [noticeText(d)];
    case 'NOTICE_FAILED':
      return [
        noticeText(d),
        `Not delivered (${String(d.error ?? 'error')}, try ${num(d.attempt) ?? 1})${str(d.retryAt) ? `; tried again ${dateTime(String(d.retryAt))}` : d.final === true ? '; given up: the program was told' : ''}`,
      ];
    case 'NOTICE_CANCELLED':
      return [
        noticeText(d),
        `Not sent: ${d.reason === 'consent revoked' ? 'the patient revoked consent' : d.reason === 'no consent' ? 'no consent to share' : d.reason === 'no recipient' ? 'no address to send it to' : String(d.reason ?? 'no longer due')}`,
      ];
    case 'WITHDRAWN':
      return str(d.reason) ? [`Reason: ${String(d.reason)}`] : [];
    case 'TASK_FAILED':
      return [`Error ${String(d.error ?? 'unknown')}; Resume restarts it at ${STATUS_LABEL[d.resumeAt as Status] ?? '—'}`];
    case 'RESUMED':
      return [
        `Restarted at ${STATUS_LABEL[d.resumeAt as Status] ?? '—'} after ${String(d.error ?? 'an error')}`,
        ...(str(d.note) ? [`Note: ${String(d.note)}`] : []),
      ];
    case 'ASSIGNED': {
      const to = str(d.to);
      const from = str(d.from);
      if (!to) return [`Released${from ? ` (was ${from})` : ''}: nobody follows it up now`];
      return [from ? `Reassigned to ${to} (was ${from})` : `Assigned to ${to}`];
    }
    case 'CONTACT_LOGGED': {
      const at = str(d.attemptedAt);
      return [
        `${CONTACT_CHANNEL[String(d.channel)] ?? words(String(d.channel))}: ${CONTACT_OUTCOME[String(d.outcome)] ?? words(String(d.outcome))}`,
        ...(at && at.slice(0, 16) !== e.at.slice(0, 16) ? [`Attempted ${dateTime(at)}`] : []),
        ...(str(d.note) ? [`Note: ${String(d.note)}`] : []),
      ];
    }
    case 'CONTACT_REMINDER':
      return [
        `First session missed (retry ${num(d.retry) ?? '—'} of ${num(d.of) ?? 2}): call the person before the next session${str(d.nextSessionAt) ? `, ${dateTime(String(d.nextSessionAt))}` : ''}`,
      ];
    case 'WAITLIST_REVIEW_DUE': {
      const free = num(d.seatsFree) ?? 0;
      return [
        `On the waitlist for ${num(d.waitingDays) ?? '—'} days; ${free ? `${free} seat${free === 1 ? '' : 's'} free in the person’s track now` : 'no seat free in the person’s track yet'}`,
      ];
    }
    case 'SEAT_RELEASED':
      return [
        `The seat in ${str(d.cohortId) ? (lookup.cohortName(String(d.cohortId)) ?? 'the cohort') : 'the cohort'} is free again for the waitlist`,
      ];
    case 'CONSENT_REVOKED': {
      const n = num(d.cancelledNotices) ?? 0;
      return [
        `Received ${RECEIVED_VIA[String(d.receivedVia)] ?? String(d.receivedVia)}${str(d.receivedAt) ? ` on ${dateTime(String(d.receivedAt))}` : ''}`,
        `No email goes to the physician from now on${n ? `; ${n} waiting email${n === 1 ? ' was' : 's were'} cancelled` : ''}`,
        ...(str(d.note) ? [`Note: ${String(d.note)}`] : []),
      ];
    }
    default:
      return genericLines(d);
  }
}

const linesCell = (lines: string[]): Child =>
  lines.length
    ? lines.length === 1
      ? lines[0]
      : h(
          'ul',
          { class: 'plain lines' },
          lines.map((l) => h('li', null, l)),
        )
    : '—';

/** the timeline table, oldest first */
export function timelineSection(events: readonly ReferralEvent[], lookup: TimelineLookup): HTMLElement {
  const sorted = [...events].sort((a, b) => a.at.localeCompare(b.at));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'timeline-h' },
    h('h2', { id: 'timeline-h' }, 'Timeline'),
    sorted.length
      ? h(
          'table',
          { class: 'timeline' },
          h('caption', { class: 'visually-hidden' }, 'Audit events, oldest first'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['When', 'Who', 'What', 'Status', 'Details'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            null,
            sorted.map((e) =>
              h(
                'tr',
                { class: `ev ev-${e.type.toLowerCase()}` },
                h('td', null, h('time', { datetime: e.at }, dateTime(e.at))),
                h('td', null, actorText(e)),
                h('td', null, eventTitle(e)),
                h(
                  'td',
                  null,
                  e.from || e.to ? `${e.from ? (STATUS_LABEL[e.from] ?? e.from) : '—'} → ${e.to ? (STATUS_LABEL[e.to] ?? e.to) : '—'}` : '',
                ),
                h('td', null, linesCell(eventLines(e, lookup))),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No events yet.'),
  );
}

/** the disclosures table (42 CFR Part 2 accounting): when, and what went to whom */
export function disclosuresTable(events: readonly ReferralEvent[], lookup: TimelineLookup): HTMLElement {
  return h(
    'table',
    { class: 'timeline' },
    h('caption', { class: 'visually-hidden' }, 'Disclosures to the referring physician'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['When', 'Sent by', 'What was disclosed'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      events.map((e) =>
        h(
          'tr',
          null,
          h('td', null, h('time', { datetime: e.at }, dateTime(e.at))),
          h('td', null, actorText(e)),
          h('td', null, linesCell(eventLines(e, lookup))),
        ),
      ),
    ),
  );
}
