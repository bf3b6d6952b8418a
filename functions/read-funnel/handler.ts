import { getDeps } from '#lib/adapters/index';
import { api } from '#lib/http';
import { FunnelQuerySchema } from '#lib/schemas/reports';
import { funnelReport } from '#lib/services/views';
import { validate } from '#lib/validate';

// GET /api/staff/dashboard/funnel?from=YYYY-MM-DD&to=YYYY-MM-DD&channel=all|web|phone

export const handler = api(async (req) => ({
  statusCode: 200,
  body: await funnelReport(getDeps(), validate(FunnelQuerySchema, req.query)),
}));
