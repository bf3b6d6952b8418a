import { getDeps } from '#lib/adapters/index';
import { api } from '#lib/http';

// GET /api/health: 200 when the table answers, 503 otherwise

export const handler = api(async () => {
  try {
    await getDeps().repo.ping();
    return { statusCode: 200, body: { status: 'ok' } };
  } catch {
    return { statusCode: 503, body: { status: 'unavailable', dependency: 'table' } };
  }
});
