import middy from '@middy/core';
import { getDeps } from '#lib/adapters/index';
import { sesMailer } from '#lib/adapters/ses-mailer';
import { logger } from '#lib/logger';
import { observability } from '#lib/observability';
import { deliverDue } from '#lib/services/notices';
import { restartStranded } from '#lib/services/workflow-tasks';

// every minute (EventBridge Scheduler; locally also once at start): retry notices whose send failed
// or whose sender died, and restart workflows that were lost (an intake whose start never happened)

export const handler = middy<unknown, { notices: Record<string, number>; restarted: number }>()
  .use(observability())
  .handler(async () => {
    const deps = getDeps({ mailer: sesMailer });
    logger.resetKeys();
    const notices = await deliverDue(deps);
    const restarted = await restartStranded(deps);
    if (restarted || notices.sent || notices.retrying || notices['given-up']) logger.info('sweep', { ...notices, restarted });
    return { notices, restarted };
  });
