import type { Deps } from '../adapters';
import type { NewEvent, OutgoingEmail, ReferralRecord } from '../adapters/ports';
import { logger } from '../logger';
import {
  failureAlert, patientEmail, physicianEmail, slaAlert, urgentAlert,
  type Email, type PatientContext, type PatientNotice, type PhysicianNotice,
} from '../domain/messages';
import type { Intake } from '../schemas/intake';

// sending a notice exactly once per (referral, key): claim its event, send, mark it sent — a
// retried task never sends twice. Physician emails need consent and a physician email, and each is recorded as a
// DISCLOSURE event (42 CFR Part 2).

const SYSTEM = { kind: 'system' } as const;

const sendOnce = async (deps: Deps, referralId: string, noticeKey: string, email: OutgoingEmail, event: NewEvent): Promise<boolean> => {
  if (!(await deps.repo.claimNotice(referralId, noticeKey, event))) return false;
  try {
    const { messageId } = await deps.mailer.send(email);
    await deps.repo.noticeSent(referralId, noticeKey, messageId);
    logger.info('notice sent', { referralId, noticeKey });
    return true;
  } catch (err) {
    await deps.repo.releaseNotice(referralId, noticeKey);
    throw err;
  }
};

const program = (deps: Deps) => ({ name: deps.config.PROGRAM_NAME, phone: deps.config.PROGRAM_PHONE });

const outgoing = (to: string, e: Email, calendar?: string): OutgoingEmail => ({ to: [to], ...e, ...(calendar ? { calendar } : {}) });

export interface NoticePlan {
  patient?: PatientNotice;
  physician?: PhysicianNotice;
  /** schedule details and a calendar invite (per recipient) for enrolment notices */
  schedule?: PatientContext['schedule'] & { startDate: string; invite: (attendee: string) => string };
}

/** sends the patient and (consented) physician notices of one milestone */
export const notifyPeople = async (deps: Deps, r: ReferralRecord, intake: Intake, plan: NoticePlan, milestone: string): Promise<void> => {
  if (plan.patient && intake.patient.email) {
    const e = patientEmail(plan.patient, {
      lang: intake.patient.preferredLanguage, firstName: intake.patient.firstName, reference: r.reference,
      urgent: r.urgent, program: program(deps), status: r.status, schedule: plan.schedule,
    });
    await sendOnce(deps, r.referralId, `${milestone}:patient`, outgoing(intake.patient.email, e, plan.schedule?.invite(intake.patient.email)), {
      type: 'NOTICE_SENT', actor: SYSTEM, detail: { audience: 'patient', notice: plan.patient, milestone },
    });
  }
  const doc = intake.referringPhysician;
  if (plan.physician && doc && intake.consent.shareWithReferrer) {
    const e = physicianEmail(plan.physician, {
      physicianName: doc.name, patientDisplayName: r.displayName, reference: r.reference,
      program: program(deps), status: r.status, startDate: plan.schedule?.startDate,
    });
    await sendOnce(deps, r.referralId, `${milestone}:physician`, outgoing(doc.email, e, plan.schedule?.invite(doc.email)), {
      type: 'DISCLOSURE', actor: SYSTEM,
      detail: {
        audience: 'referring-physician', recipientNpi: doc.npi, notice: plan.physician, milestone,
        disclosed: 'referral status only', basis: 'written patient consent (42 CFR 2.31)', consentSignedAt: intake.consent.signedAt,
      },
    });
  }
};

export type ProgramAlert =
  | { kind: 'urgent' }
  | { kind: 'sla'; step: string; ageHours: number; breaches: number; gateOpenedAt: string }
  | { kind: 'failure'; errorCode: string };

/** emails the program team (no PHI: reference, step, codes, age) */
export const alertProgram = async (deps: Deps, r: ReferralRecord, alert: ProgramAlert): Promise<void> => {
  const [key, e] =
    alert.kind === 'urgent' ? ['urgent:program', urgentAlert(r.reference, 'Open the staff console and search for the reference.')]
    : alert.kind === 'sla' ? [`sla:${alert.step}:${alert.gateOpenedAt}:${alert.breaches}:program`, slaAlert(r.reference, alert.step, alert.ageHours, alert.breaches)]
    : [`failure:${r.version}:program`, failureAlert(r.reference, alert.errorCode)];
  await sendOnce(deps, r.referralId, key, outgoing(deps.config.PROGRAM_EMAIL, e), {
    type: 'NOTICE_SENT', actor: SYSTEM, detail: { audience: 'program', notice: alert.kind },
  });
};
