import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { exportFhir } from '#lib/services/fhir-export';

// GET /api/staff/referrals/{id}/fhir: a FHIR R4 Bundle (collection), recorded on the referral's timeline

export const handler = api(async (req) => ({
  statusCode: 200,
  body: await exportFhir(getDeps(), referralIdOf(req), req.actor),
  headers: { 'content-type': 'application/fhir+json; charset=utf-8' },
}));
