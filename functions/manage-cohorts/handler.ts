import { getDeps } from '#lib/adapters/index';
import { api } from '#lib/http';
import { CohortSchema } from '#lib/schemas/cohort';
import { createCohort, listCohorts } from '#lib/services/views';
import { validate } from '#lib/validate';

// GET /api/staff/cohorts (staff), POST /api/staff/cohorts (supervisors): sessions must match the
// track (EVENING_TRACK_FROM), the start date may not be past, a name is unique per start date (409)

export const handler = api(async (req) => {
  const deps = getDeps();
  if (req.routeKey === 'POST /api/staff/cohorts') {
    const input = validate(CohortSchema(deps.config.PROGRAM_TIME_ZONE, { eveningFrom: deps.config.EVENING_TRACK_FROM }), req.json);
    return { statusCode: 201, body: await createCohort(deps, input, req.actor) };
  }
  return { statusCode: 200, body: await listCohorts(deps) };
});
