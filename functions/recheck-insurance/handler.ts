import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { RecheckSchema } from '#lib/schemas/recheck';
import { recheckInsurance } from '#lib/services/recheck';
import { validate } from '#lib/validate';

// POST /api/staff/referrals/{id}/insurance/recheck — at the insurance review, correct the member ID
// or the payer and check eligibility again (the referral stays at its gate)

export const handler = api(async (req) => {
  const correction = validate(RecheckSchema, req.json);
  return { statusCode: 200, body: await recheckInsurance(getDeps(), referralIdOf(req), correction, req.actor) };
});
