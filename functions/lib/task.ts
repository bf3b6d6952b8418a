import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from './logger';
import { observability } from './observability';

// the edge of every workflow task: validate the state machine's input (IDs and codes only, so it
// may be logged), log failures by name, let Step Functions Retry/Catch see the error

class TaskInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskInputError';
  }
}

export const task = <S extends z.ZodType, R>(schema: S, main: (input: z.infer<S>, context: Context) => Promise<R>) =>
  middy<unknown, R>()
    .use(observability())
    .handler(async (event, context) => {
      const parsed = schema.safeParse(event);
      if (!parsed.success) throw new TaskInputError(`Invalid task input: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      const referralId = (parsed.data as { referralId?: string }).referralId;
      logger.resetKeys();
      logger.appendKeys({ referralId, function: context?.functionName });
      try {
        return await main(parsed.data, context);
      } catch (err) {
        const errorName = (err as Error).name;
        // a referral closed meanwhile is an expected end (the ASL catches it), not a failure
        if (errorName === 'ReferralClosed') logger.info('referral closed meanwhile; the workflow ends', { errorName });
        else logger.error('task failed', { errorName });
        throw err;
      }
    });
