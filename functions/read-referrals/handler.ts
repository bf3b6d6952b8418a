import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { STATUSES } from '#lib/schemas/views';
import { dashboard, listReferrals, referralDetail } from '#lib/services/views';
import { validate } from '#lib/validate';

// GET /api/staff/referrals, /api/staff/referrals/{id}, /api/staff/dashboard

const ListQuery = z.object({
  status: z.enum(STATUSES).optional(),
  q: z.string().trim().min(1).max(60).optional(),
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export const handler = api(async (req) => {
  const deps = getDeps();
  switch (req.routeKey) {
    case 'GET /api/staff/referrals/{id}':
      return { statusCode: 200, body: await referralDetail(deps, referralIdOf(req)) };
    case 'GET /api/staff/dashboard':
      return { statusCode: 200, body: await dashboard(deps) };
    default:
      return { statusCode: 200, body: await listReferrals(deps, validate(ListQuery, req.query)) };
  }
});
