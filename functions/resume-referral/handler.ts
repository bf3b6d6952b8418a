import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { ResumeSchema } from '#lib/schemas/decisions';
import { resume } from '#lib/services/referrals';
import { validate } from '#lib/validate';

// POST /api/staff/referrals/{id}/resume — restart a NEEDS_ATTENTION referral at the step that failed

export const handler = api(async (req) => {
  const { note } = validate(ResumeSchema, req.json);
  return { statusCode: 200, body: await resume(getDeps(), referralIdOf(req), req.actor, note) };
});
