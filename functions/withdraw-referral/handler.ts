import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { WithdrawSchema } from '#lib/schemas/decisions';
import { withdraw } from '#lib/services/referrals';
import { validate } from '#lib/validate';

// POST /api/staff/referrals/{id}/withdraw (its closing notices go out through the outbox after the commit)

export const handler = api(async (req) => {
  const { reason } = validate(WithdrawSchema, req.json);
  return { statusCode: 200, body: await withdraw(getDeps(), referralIdOf(req), reason, req.actor) };
});
