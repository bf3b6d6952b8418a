import type { Deps } from '../adapters';
import {
  type Audience,
  type NewEvent,
  type NoticeRecord,
  type OutgoingEmail,
  type ReferralRecord,
  SYSTEM_ACTOR as SYSTEM,
} from '../adapters/ports';
import { logger } from '../logger';
import { metrics } from '../observability';
import {
  consoleLinkTo,
  failureAlert,
  inviteDescription,
  noticeFailedAlert,
  patientEmail,
  physicianEmail,
  slaAlert,
  urgentAlert,
  waitlistReviewAlert,
  type Lang,
  type PatientNotice,
  type PhysicianNotice,
  type ScheduleInfo,
} from '../domain/messages';
import { buildInvite, closuresBetween, sessionDates } from '../domain/schedule';
import type { Intake } from '../schemas/intake';
import type { CohortRecord } from '../adapters/ports';

// The transactional outbox. A change that should tell someone writes NOTICE items in its own
// transaction (`noticesFor`); nothing is sent unless that change commits. After the commit the
// table stream hands each new notice to send-notices (`deliverNotice`); a send that fails is
// recorded (NOTICE_FAILED, error name only) and retried with backoff by sweep (`deliverDue`) for
// NOTICE_RETRY_HOURS, then given up with the program told. A notice is rendered when it is sent,
// from the referral's stored data and the status it reports, so the outbox holds no PHI.
// Each (referral, key) exists once; the send is at-least-once only across a sender that dies
// between SES accepting the email and the notice being marked sent (its lease runs out).

export type ProgramAlert =
  | { kind: 'urgent' }
  | { kind: 'sla'; step: string; ageHours: number; breaches: number; gateOpenedAt: string }
  | { kind: 'failure'; errorCode: string }
  | { kind: 'notice-failed'; audience: Audience; milestone: string; errorCode: string }
  | { kind: 'waitlist-review'; review: number; waitingDays: number; seatsFree: number };

export interface NoticePlan {
  patient?: PatientNotice;
  physician?: PhysicianNotice;
  program?: ProgramAlert;
  /** PHI-free parameters the messages need (enrolment: cohortId for the schedule, startDate) */
  params?: Record<string, string | number>;
}

/**
 * whether the referring physician may be told anything: consent given at intake, an address, and
 * no revocation recorded since (read again at send time, so a revocation stops what is queued)
 */
export const physicianMayBeTold = (intake: Intake, r: Pick<ReferralRecord, 'consentRevoked'>): boolean =>
  !!intake.referringPhysician?.email && intake.consent.shareWithReferrer && !r.consentRevoked;

const programKey = (r: ReferralRecord, a: ProgramAlert): string => {
  switch (a.kind) {
    case 'urgent':
      return 'urgent:program';
    case 'sla':
      return `sla:${a.step}:${a.gateOpenedAt}:${a.breaches}:program`;
    case 'failure':
      return `failure:${r.version}:program`;
    case 'notice-failed':
      return `notice-failed:${a.milestone}:${a.audience}:program`;
    case 'waitlist-review':
      return `waitlist-review:${a.review}:program`;
  }
};

const programParams = (a: ProgramAlert): Record<string, string | number> => {
  const { kind: _k, ...rest } = a;
  return rest;
};

/**
 * The notices one change causes, as outbox records to write in that change's transaction: the
 * patient when they gave an email, the referring physician only with consent, the program team.
 * `r` is the referral as the change leaves it (its status is what the notices report).
 */
export const noticesFor = (r: ReferralRecord, intake: Intake | undefined, milestone: string, plan: NoticePlan): NoticeRecord[] => {
  const base = {
    referralId: r.referralId,
    milestone,
    status: r.status,
    state: 'pending' as const,
    attempts: 0,
    createdAt: r.updatedAt,
    dueAt: r.updatedAt,
  };
  const out: NoticeRecord[] = [];
  const params = plan.params ? { params: plan.params } : {};
  if (plan.patient && intake?.patient.email)
    out.push({ ...base, key: `${milestone}:patient`, audience: 'patient', notice: plan.patient, ...params });
  if (plan.physician && intake && physicianMayBeTold(intake, r))
    out.push({ ...base, key: `${milestone}:physician`, audience: 'physician', notice: plan.physician, ...params });
  if (plan.program)
    out.push({
      ...base,
      key: programKey(r, plan.program),
      audience: 'program',
      notice: plan.program.kind,
      params: programParams(plan.program),
    });
  return out;
};

// ---- rendering (at send time, from stored data) ---------------------------------------------

interface Rendered {
  email: OutgoingEmail;
  event: NewEvent;
}

const program = (deps: Deps) => ({ name: deps.config.PROGRAM_NAME, phone: deps.config.PROGRAM_PHONE });

/**
 * The person's schedule in a cohort, from its first session still ahead (someone may join a cohort
 * that has already started), closure days left out; throws CohortOver when no session is left.
 */
export const scheduleFor = (cohort: CohortRecord, now: Date, cfg: Deps['config'], lang: Lang): ScheduleInfo => {
  const closed = cfg.CLOSURE_DATES;
  const all = sessionDates(cohort, closed);
  const left = all.filter((s) => Date.parse(s.startsAt) > now.getTime());
  const first = left[0];
  const last = left[left.length - 1];
  if (!first || !last) throw Object.assign(new Error('no session left'), { name: 'CohortOver' });
  return {
    group: cohort.name,
    timeZone: cohort.timeZone,
    first: { date: first.date, start: first.start },
    lastDate: last.date,
    remaining: left.length,
    late: left.length < all.length,
    weekly: cohort.sessions,
    ...(cohort.location ? { location: cohort.location } : {}),
    closures: closuresBetween(cohort, closed, first.date, last.date),
    whatToBring: lang === 'es' ? cfg.WHAT_TO_BRING_ES : cfg.WHAT_TO_BRING_EN,
  };
};

/** why a notice may no longer be sent (recorded on its NOTICE_CANCELLED event) */
type Cancelled = { cancel: 'no recipient' | 'no consent' | 'consent revoked' };

/** the email and its timeline event, or why it may no longer be sent (no address, no consent, revoked) */
const render = async (deps: Deps, n: NoticeRecord, r: ReferralRecord): Promise<Rendered | Cancelled> => {
  const p = n.params ?? {};
  if (n.audience === 'program') {
    // staff open the referral from the email: a link with its id (never PHI), when the console's address is configured
    const link = consoleLinkTo(deps.config.CONSOLE_URL, r.referralId);
    const e =
      n.notice === 'urgent'
        ? urgentAlert(r.reference, link)
        : n.notice === 'sla'
          ? slaAlert(r.reference, String(p.step), Number(p.ageHours), Number(p.breaches), link)
          : n.notice === 'failure'
            ? failureAlert(r.reference, String(p.errorCode), link)
            : n.notice === 'waitlist-review'
              ? waitlistReviewAlert(r.reference, Number(p.waitingDays), Number(p.seatsFree), link)
              : noticeFailedAlert(r.reference, String(p.audience), String(p.milestone), String(p.errorCode), link);
    return {
      email: { to: [deps.config.PROGRAM_EMAIL], ...e },
      event: { type: 'NOTICE_SENT', actor: SYSTEM, detail: { audience: 'program', notice: n.notice } },
    };
  }
  const intake = await deps.repo.getIntake(n.referralId);
  if (!intake) throw Object.assign(new Error('intake missing'), { name: 'IntakeMissing' });
  if (n.audience === 'patient') {
    const to = intake.patient.email;
    if (!to) return { cancel: 'no recipient' };
    const lang = intake.patient.preferredLanguage;
    let schedule: ScheduleInfo | undefined;
    let calendar: string | undefined;
    if (n.notice === 'schedule') {
      const cohort = await deps.repo.getCohort(String(p.cohortId));
      if (!cohort) throw Object.assign(new Error('cohort missing'), { name: 'CohortMissing' });
      const now = deps.now();
      schedule = scheduleFor(cohort, now, deps.config, lang);
      const where = cohort.location?.kind === 'in-person' ? cohort.location.address : cohort.location?.url;
      calendar = buildInvite({
        cohortId: cohort.cohortId,
        cohort,
        referralId: n.referralId,
        // a neutral title: it shows on a lock screen
        summary: lang === 'es' ? deps.config.INVITE_TITLE_ES : deps.config.INVITE_TITLE_EN,
        ...(where ? { location: where } : {}),
        description: inviteDescription(schedule, lang, program(deps)),
        organizer: { name: deps.config.PROGRAM_NAME, email: deps.config.MAIL_FROM },
        attendee: to,
        now,
        closed: deps.config.CLOSURE_DATES,
      });
    }
    const e = patientEmail(n.notice as PatientNotice, {
      lang,
      firstName: intake.patient.firstName,
      reference: r.reference,
      urgent: r.urgent,
      program: program(deps),
      status: n.status,
      schedule,
      // a missed first session: the next one, as its local date and time (an ISO with the group's offset)
      ...(n.notice === 'missed'
        ? { nextSession: { date: String(p.sessionAt).slice(0, 10), start: String(p.sessionAt).slice(11, 16) } }
        : {}),
    });
    return {
      email: { to: [to], ...e, ...(calendar ? { calendar } : {}) },
      event: { type: 'NOTICE_SENT', actor: SYSTEM, detail: { audience: 'patient', notice: n.notice, milestone: n.milestone } },
    };
  }
  // the referring physician: status only (42 CFR Part 2 minimum necessary), and only while consent stands
  const doc = intake.referringPhysician;
  if (r.consentRevoked) return { cancel: 'consent revoked' };
  if (!doc?.email) return { cancel: 'no recipient' };
  if (!physicianMayBeTold(intake, r)) return { cancel: 'no consent' };
  const e = physicianEmail(n.notice as PhysicianNotice, {
    physicianName: doc.name,
    patientDisplayName: r.displayName,
    reference: r.reference,
    program: program(deps),
    status: n.status,
    ...(p.startDate ? { startDate: String(p.startDate) } : {}),
  });
  return {
    email: { to: [doc.email], ...e },
    event: {
      type: 'DISCLOSURE',
      actor: SYSTEM,
      detail: {
        audience: 'referring-physician',
        recipientNpi: doc.npi,
        notice: n.notice,
        milestone: n.milestone,
        disclosed: 'referral status only',
        basis: 'written patient consent (42 CFR 2.31)',
        consentSignedAt: intake.consent.signedAt,
      },
    },
  };
};

// ---- delivery --------------------------------------------------------------------------------

/** the error's name only (a provider's message may quote an address) */
const errorCode = (err: unknown): string =>
  String((err as Error)?.name ?? 'Error')
    .replace(/[^\w.-]/g, '')
    .slice(0, 80) || 'Error';

/** delay before the next try: exponential from the base, capped, with full jitter (at least 1 s) */
export const retryDelayMs = (attempts: number, cfg: Deps['config'], random = Math.random): number => {
  const ceiling = Math.min(cfg.NOTICE_RETRY_MAX_SECONDS, cfg.NOTICE_RETRY_BASE_SECONDS * 2 ** Math.max(0, attempts - 1)) * 1000;
  return Math.max(1000, Math.round(ceiling * (0.5 + random() / 2)));
};

export type DeliveryOutcome = 'sent' | 'retrying' | 'given-up' | 'cancelled' | 'not-due';

/**
 * Sends one notice if it is due and nobody else holds it: claim (lease), render, send, then mark it
 * sent with its timeline event (a DISCLOSURE for the physician) in one transaction. A failure is
 * recorded and retried later; it never throws for a send error (only when the table itself fails).
 */
export const deliverNotice = async (deps: Deps, referralId: string, key: string): Promise<DeliveryOutcome> => {
  const started = deps.now();
  // held for NOTICE_LEASE_SECONDS: a sender that dies meanwhile leaves it to the next one after that
  const n = await deps.repo.claimNotice(
    referralId,
    key,
    started.toISOString(),
    new Date(started.getTime() + deps.config.NOTICE_LEASE_SECONDS * 1000).toISOString(),
  );
  if (!n) return 'not-due';
  // from here on, any failure is recorded (and retried with backoff), not left for the lease to run out
  let r: ReferralRecord | undefined;
  let rendered: Rendered | Cancelled | undefined;
  let messageId: string | undefined;
  let failure: unknown;
  try {
    r = await deps.repo.get(referralId);
    if (!r) throw Object.assign(new Error('referral missing'), { name: 'ReferralMissing' });
    rendered = await render(deps, n, r);
    if ('email' in rendered) ({ messageId } = await deps.mailer.send(rendered.email));
  } catch (err) {
    failure = err;
  }
  if (!failure && rendered && 'cancel' in rendered) {
    await deps.repo.noticeCancelled(n, {
      type: 'NOTICE_CANCELLED',
      actor: SYSTEM,
      detail: { audience: n.audience, notice: n.notice, milestone: n.milestone, reason: rendered.cancel },
    });
    logger.info('notice cancelled', { referralId, noticeKey: key, reason: rendered.cancel });
    return 'cancelled';
  }
  if (!failure) {
    // the email is out: were this write lost to a passing table error, the notice would stay claimed
    // and go out again once its lease ran out, so it is tried again (it holds only while the claim does)
    const sent = () => deps.repo.noticeSent(n, messageId!, (rendered as Rendered).event);
    await sent()
      .catch(() => new Promise((r) => setTimeout(r, 200)).then(sent))
      .catch(() => new Promise((r) => setTimeout(r, 800)).then(sent));
    metrics.count('NoticeSent');
    logger.info('notice sent', { referralId, noticeKey: key, attempts: n.attempts });
    return 'sent';
  }
  const code = errorCode(failure);
  const now = deps.now();
  const giveUp = now.getTime() - Date.parse(n.createdAt) >= deps.config.NOTICE_RETRY_HOURS * 3_600_000;
  const retryAt = giveUp ? undefined : new Date(now.getTime() + retryDelayMs(n.attempts, deps.config)).toISOString();
  await deps.repo.noticeFailed(n, code, retryAt, {
    type: 'NOTICE_FAILED',
    actor: SYSTEM,
    detail: {
      audience: n.audience,
      notice: n.notice,
      milestone: n.milestone,
      attempt: n.attempts,
      error: code,
      ...(retryAt ? { retryAt } : { final: true }),
    },
  });
  logger.warn('notice failed', { referralId, noticeKey: key, attempts: n.attempts, errorName: code, giveUp });
  metrics.count('NoticeFailed');
  // a person was not told: the program hears of it (best effort; an alert about an alert is not sent)
  if (giveUp && n.audience !== 'program' && r) {
    await deps.repo
      .enqueue(
        noticesFor({ ...r, updatedAt: now.toISOString() }, undefined, n.milestone, {
          program: { kind: 'notice-failed', audience: n.audience, milestone: n.milestone, errorCode: code },
        }),
      )
      .catch((err: Error) => logger.warn('could not queue the program alert', { referralId, errorName: err.name }));
  }
  return giveUp ? 'given-up' : 'retrying';
};

/** sweep: every notice due now (failed sends whose retry time came, senders that died) */
export const deliverDue = async (deps: Deps, limit = 100): Promise<Record<DeliveryOutcome, number>> => {
  const counts: Record<DeliveryOutcome, number> = { sent: 0, retrying: 0, 'given-up': 0, cancelled: 0, 'not-due': 0 };
  const due = await deps.repo.dueNotices(deps.now().toISOString(), limit);
  for (const d of due) {
    const outcome = await deliverNotice(deps, d.referralId, d.key).catch((err: Error) => {
      logger.error('notice delivery error', { referralId: d.referralId, noticeKey: d.key, errorName: err.name });
      return 'retrying' as const;
    });
    counts[outcome]++;
  }
  return counts;
};
