import * as z from 'zod';
import { nowMs } from '../clock';
import { trimmed } from './common';

// staff bodies about the person rather than a workflow step: consent revocation (42 CFR 2.31)

/** how the program received a patient's revocation of consent */
export const REVOCATION_CHANNELS = ['phone', 'in-person', 'letter', 'email'] as const;
export type RevocationChannel = (typeof REVOCATION_CHANNELS)[number];

/** an ISO 8601 instant with its offset, not in the future (a few minutes of clock skew allowed) */
const pastInstant = () =>
  z.iso.datetime({ offset: true, error: 'Enter a date and time' })
    .refine((s) => Date.parse(s) <= nowMs() + 5 * 60_000, 'Cannot be in the future');

/** POST /api/staff/referrals/{id}/consent-revocation: when and how the revocation reached the program */
export const RevokeConsentSchema = z.object({
  receivedVia: z.enum(REVOCATION_CHANNELS),
  /** when it was received; default now */
  receivedAt: pastInstant().optional(),
  note: trimmed(500).optional(),
});
export type RevokeConsent = z.infer<typeof RevokeConsentSchema>;
