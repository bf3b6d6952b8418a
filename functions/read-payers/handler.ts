import { config } from '#lib/config';
import { api } from '#lib/http';

// GET /api/payers (public): the payer picker's list, name → payer ID (PAYER_LIST, or the sample in
// functions/lib/payers.ts). No PHI; cached (catalog publicCacheSeconds)

export const handler = api(async () => ({ statusCode: 200, body: { items: config().PAYER_LIST } }));
