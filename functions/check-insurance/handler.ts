import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { task } from '#lib/task';
import { checkInsurance } from '#lib/services/workflow-tasks';

// workflow task: eligibility check → route (next status + gate timer)

export const handler = task(z.object({ referralId: z.string().min(1) }), (input) => checkInsurance(getDeps(), input.referralId));
