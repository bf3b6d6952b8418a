import * as z from 'zod';
import { nowMs } from '../clock';
import { trimmed } from './common';

// staff bodies about the person rather than a workflow step: consent revocation (42 CFR 2.31)

/** how the program received a patient's revocation of consent */
export const REVOCATION_CHANNELS = ['phone', 'in-person', 'letter', 'email'] as const;
export type RevocationChannel = (typeof REVOCATION_CHANNELS)[number];

/** an ISO 8601 instant with its offset, not in the future (a few minutes of clock skew allowed) */
const pastInstant = () =>
  z.iso
    .datetime({ offset: true, error: 'Enter a date and time' })
    .refine((s) => Date.parse(s) <= nowMs() + 5 * 60_000, 'Cannot be in the future');

/** POST /api/staff/referrals/{id}/consent-revocation: when and how the revocation reached the program */
export const RevokeConsentSchema = z.object({
  receivedVia: z.enum(REVOCATION_CHANNELS),
  /** when it was received; default now */
  receivedAt: pastInstant().optional(),
  note: trimmed(500).optional(),
});
export type RevokeConsent = z.infer<typeof RevokeConsentSchema>;

/** how a contact attempt was made, and what came of it */
export const CONTACT_CHANNELS = ['phone', 'text', 'email'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];
export const CONTACT_OUTCOMES = ['reached', 'left-message', 'no-answer', 'wrong-number', 'declined'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

/** POST /api/staff/referrals/{id}/contacts: one attempt to reach the person */
export const ContactSchema = z.object({
  channel: z.enum(CONTACT_CHANNELS),
  outcome: z.enum(CONTACT_OUTCOMES),
  /** when the attempt was made; default now */
  at: pastInstant().optional(),
  note: trimmed(1000).optional(),
});
export type ContactAttempt = z.infer<typeof ContactSchema>;

/** a staff username as the token carries it (Cognito usernames: letters, digits and . _ @ + -) */
export const USERNAME_RE = /^[\p{L}\p{M}\p{N}._@+-]{1,128}$/u;

/**
 * POST /api/staff/referrals/{id}/assignment: who follows the referral up. `assignee` is a staff
 * username, or null to release it; `expected` is the owner the caller saw (null: nobody), so a
 * change made meanwhile by someone else is a 409 rather than overwritten.
 */
export const AssignSchema = z.object({
  assignee: z.string().trim().regex(USERNAME_RE, 'Enter a staff username').nullable(),
  expected: z.string().trim().max(128).nullable().optional(),
});
export type Assign = z.infer<typeof AssignSchema>;
