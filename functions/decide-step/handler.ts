import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { STEPS } from '#lib/schemas/decisions';
import { decideStep } from '#lib/services/referrals';
import { validate } from '#lib/validate';

// POST /api/staff/referrals/{id}/steps/{step}

const Params = z.object({ step: z.enum(STEPS) });

export const handler = api(async (req) => {
  const id = referralIdOf(req);
  const { step } = validate(Params, req.params);
  return { statusCode: 200, body: await decideStep(getDeps(), id, step, req.json, req.actor) };
});
