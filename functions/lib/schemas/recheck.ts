import * as z from 'zod';
import { MemberIdSchema, PayerIdSchema } from './intake';
import { trimmed } from './common';

// the insurance re-check's body (POST /api/staff/referrals/{id}/insurance/recheck): what a case
// worker corrects before the check runs again, each field validated as the intake validates it.
// Every field is optional: an empty body checks again with the insurance as stored (a busy payer).

export const RecheckSchema = z.object({
  /** the corrected member ID */
  memberId: MemberIdSchema.optional(),
  /** the payer's ID from the payer list; a payer given by name without it is checked by hand (no request sent) */
  payerId: PayerIdSchema.optional(),
  /** the payer's name; given without `payerId`, the stored payer ID is dropped (it named another payer) */
  payer: trimmed(100).optional(),
});

export type Recheck = z.infer<typeof RecheckSchema>;
