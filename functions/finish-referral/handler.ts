import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { sesMailer } from '#lib/adapters/ses-mailer';
import { task } from '#lib/task';
import { finishReferral } from '#lib/services/referrals';
import { STATUSES } from '#lib/schemas/views';

// workflow task: notices (and the schedule) of the final status

export const handler = task(z.object({ referralId: z.string().min(1), outcome: z.enum(STATUSES) }), (input) =>
  finishReferral(getDeps({ mailer: sesMailer }), input.referralId, input.outcome));
