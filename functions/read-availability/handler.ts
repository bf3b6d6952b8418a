import { getDeps } from '#lib/adapters/index';
import { api } from '#lib/http';
import { availability } from '#lib/services/views';

// GET /api/availability (public): open seats per track, cached for a minute (catalog publicCacheSeconds)

export const handler = api(async () => ({ statusCode: 200, body: await availability(getDeps()) }));
