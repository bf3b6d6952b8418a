import { getDeps } from '#lib/adapters/index';
import { api } from '#lib/http';
import { logger } from '#lib/logger';

// GET /api/health: 200 when the table and the workflow answer, 503 naming the ones that do not

export const handler = api(async () => {
  const { repo, workflow } = getDeps();
  const checks = { table: () => repo.ping(), workflow: () => workflow.ping() };
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return [name, 'ok'] as const;
      } catch (err) {
        logger.warn('health check failed', { dependency: name, errorName: (err as Error).name });
        return [name, 'unavailable'] as const;
      }
    }),
  );
  const dependencies = Object.fromEntries(results);
  const ok = results.every(([, state]) => state === 'ok');
  return { statusCode: ok ? 200 : 503, body: { status: ok ? 'ok' : 'unavailable', dependencies } };
});
