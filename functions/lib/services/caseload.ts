import type { Deps } from '../adapters';
import { type Actor, type NewEvent, type NoticeRecord, type ReferralRecord, SYSTEM_ACTOR } from '../adapters/ports';
import { decodeCursor, encodeCursor } from '../cursor';
import { ConflictError, NotFoundError } from '../errors';
import { isFinal } from '../domain/workflow';
import { logger } from '../logger';
import type { Assign, ContactAttempt, RevokeConsent } from '../schemas/caseload';
import type { ReferralSummary } from '../schemas/views';
import { bump, load, retryOnConflict } from './change';
import { summary } from './views';

// the caseload: who follows a referral up (assign to self or another, reassign, release), "My
// referrals", the contact log (each attempt by phone, text or email, with its outcome) and a
// patient's revocation of consent to share with the referring physician (42 CFR 2.31). Each change
// is one conditional write of the referral (its version) with its timeline event; a revocation also
// cancels, in the same transaction, the physician notices still waiting in the outbox. None of
// these changes the referral's status or touches its workflow.

const who = (a: Actor): string => a.username || a.sub || 'unknown';

// ---- assignment ------------------------------------------------------------------------------

export interface AssignmentResult {
  referralId: string;
  assignedTo: ReferralRecord['assignedTo'] | null;
}

/**
 * Assigns the referral to a staff member (the caller or another), reassigns it, or releases it
 * (assignee null). Any case worker may do any of these; taking over someone else's referral needs
 * `expected` to name the owner the caller saw, so an assignment made meanwhile is a 409 instead of
 * being overwritten. A closed referral cannot be assigned. The ASSIGNED event names both owners.
 */
export const assign = async (deps: Deps, referralId: string, body: Assign, actor: Actor): Promise<AssignmentResult> =>
  retryOnConflict(async () => {
    const r = await load(deps, referralId);
    const current = r.assignedTo?.username ?? null;
    if (body.expected !== undefined && (body.expected || null) !== current) {
      throw new ConflictError(
        current
          ? `This referral is now assigned to ${current}; reload and try again`
          : 'This referral is no longer assigned; reload and try again',
        'AssignmentChanged',
      );
    }
    if (body.assignee === current) return { referralId, assignedTo: r.assignedTo ?? null };
    if (body.assignee && isFinal(r.status))
      throw new ConflictError(`This referral is closed (${r.status}): there is nothing to follow up`, 'AlreadyClosed');
    if (current && current !== who(actor) && body.expected === undefined) {
      throw new ConflictError(`This referral is assigned to ${current}: confirm that you take it over from them`, 'AlreadyAssigned');
    }
    const now = deps.now();
    const assignedTo = body.assignee
      ? { username: body.assignee, ...(body.assignee === actor.username && actor.sub ? { sub: actor.sub } : {}), since: now.toISOString() }
      : undefined;
    const next = bump(r, now, { assignedTo });
    const event: NewEvent = { at: next.updatedAt, type: 'ASSIGNED', actor, detail: { to: body.assignee, from: current } };
    await deps.repo.save(next, [event]);
    logger.info('referral assigned', { referralId, assigned: !!body.assignee, takenOver: !!current });
    return { referralId, assignedTo: assignedTo ?? null };
  });

/** "My referrals": the open referrals assigned to `username`, urgent first then oldest first; the cursor is bound to the owner */
export const caseload = async (
  deps: Deps,
  q: { username: string; cursor?: string; limit: number },
): Promise<{ items: ReferralSummary[]; nextCursor?: string }> => {
  const binding = { owner: q.username };
  const secret = deps.config.CURSOR_SECRET ?? '';
  const page = await deps.repo.listByOwner(q.username, { limit: q.limit, startKey: decodeCursor(secret, q.cursor, binding) });
  const now = deps.now();
  const nextCursor = encodeCursor(secret, page.lastKey, binding);
  return { items: page.items.map((r) => summary(r, now)), ...(nextCursor ? { nextCursor } : {}) };
};

// ---- contact log -----------------------------------------------------------------------------

/**
 * Logs one attempt to reach the person (phone, text or email) and its outcome: a CONTACT_LOGGED
 * event, and the referral's `lastContact` when it is the latest attempt. The note is staff text,
 * shown only in the console's timeline.
 */
export const logContact = async (
  deps: Deps,
  referralId: string,
  body: ContactAttempt,
  actor: Actor,
): Promise<{ referralId: string; lastContact: ReferralRecord['lastContact'] }> =>
  retryOnConflict(async () => {
    const r = await load(deps, referralId);
    const now = deps.now();
    const attemptedAt = body.at ? new Date(body.at).toISOString() : now.toISOString();
    const attempt = { at: attemptedAt, channel: body.channel, outcome: body.outcome, by: actor };
    const latest = !r.lastContact || r.lastContact.at <= attemptedAt;
    const next = bump(r, now, latest ? { lastContact: attempt } : {});
    const event: NewEvent = {
      at: next.updatedAt,
      type: 'CONTACT_LOGGED',
      actor,
      detail: { channel: body.channel, outcome: body.outcome, attemptedAt, ...(body.note ? { note: body.note } : {}) },
    };
    await deps.repo.save(next, [event]);
    logger.info('contact logged', { referralId, channel: body.channel, outcome: body.outcome });
    return { referralId, lastContact: next.lastContact };
  });

// ---- consent revocation ----------------------------------------------------------------------

/**
 * Records that the patient revoked their consent to share with the referring physician: when it
 * reached the program and how, by whom. From this commit on no physician email is written, and the
 * physician notices still pending in the outbox are cancelled in the same transaction (a notice a
 * sender has already claimed re-checks the revocation before it sends). 409 when there is no
 * consent to revoke or it was revoked already.
 */
export const revokeConsent = async (
  deps: Deps,
  referralId: string,
  body: RevokeConsent,
  actor: Actor,
): Promise<{ referralId: string; consentRevoked: NonNullable<ReferralRecord['consentRevoked']>; cancelledNotices: number }> => {
  const intake = await deps.repo.getIntake(referralId);
  if (!intake) throw new NotFoundError('No referral with that id');
  return retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (r.consentRevoked) throw new ConflictError(`Consent was already revoked (recorded ${r.consentRevoked.at})`, 'AlreadyRevoked');
    if (!intake.consent.shareWithReferrer)
      throw new ConflictError('The person did not consent to share with a physician at intake: there is nothing to revoke', 'NoConsent');
    const now = deps.now();
    const receivedAt = body.receivedAt ? new Date(body.receivedAt).toISOString() : now.toISOString();
    const consentRevoked = { at: receivedAt, receivedVia: body.receivedVia, by: actor };
    const next = bump(r, now, { consentRevoked });
    const pending: NoticeRecord[] = (await deps.repo.notices(referralId)).filter(
      (n) => n.audience === 'physician' && n.state === 'pending',
    );
    const events: NewEvent[] = [
      {
        at: next.updatedAt,
        type: 'CONSENT_REVOKED',
        actor,
        detail: { receivedVia: body.receivedVia, receivedAt, ...(body.note ? { note: body.note } : {}), cancelledNotices: pending.length },
      },
      ...pending.map(
        (n): NewEvent => ({
          at: next.updatedAt,
          type: 'NOTICE_CANCELLED',
          actor: SYSTEM_ACTOR,
          detail: { audience: n.audience, notice: n.notice, milestone: n.milestone, reason: 'consent revoked' },
        }),
      ),
    ];
    await deps.repo.save(next, events, { cancelNotices: pending });
    logger.info('consent revoked', { referralId, receivedVia: body.receivedVia, cancelledNotices: pending.length });
    return { referralId, consentRevoked, cancelledNotices: pending.length };
  });
};
