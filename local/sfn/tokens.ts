/** Callback task tokens: the open ones by token, how a client's token is checked, and the wait for a restored one's attempt. */
import { randomUUID } from 'node:crypto';
import { SfnServiceError } from './errors';
import type { TaskAttempt, TokenRecord } from './execution';
import { nextMacrotask } from './timers';

/** the tokens ./tasks mints: 160 URL-safe characters */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{160}$/;

export class TaskTokens {
  /** every token minted (or restored) in this process, open or not */
  readonly byToken = new Map<string, TokenRecord>();
  /** what `$$.Task.Token` reads in the interpreter; ./tasks puts a fresh token in its place per attempt */
  readonly placeholder = `__localSfnTaskToken_${randomUUID()}`;

  /** the record of an open token; `InvalidToken`, `TaskDoesNotExist` or `TaskTimedOut` otherwise */
  open(token: string): TokenRecord {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
      throw new SfnServiceError('InvalidToken', 'Invalid Token: the task token is malformed');
    }
    const record = this.byToken.get(token);
    if (!record || record.status === 'closed') {
      throw new SfnServiceError('TaskDoesNotExist', 'Task Does Not Exist: no open task has this token');
    }
    if (record.status === 'timedOut') throw new SfnServiceError('TaskTimedOut', 'Task Timed Out: the task or its execution is closed');
    return record;
  }

  /** an open token with its attempt (a restored token gets it a moment after `restore()`) */
  async parked(token: string): Promise<TokenRecord & { attempt: TaskAttempt }> {
    for (let turn = 0; ; turn++) {
      const record = this.open(token);
      if (record.attempt) return record as TokenRecord & { attempt: TaskAttempt };
      if (turn > 1000) throw new SfnServiceError('ServiceUnavailable', 'the task of this token is still being restored');
      await nextMacrotask();
    }
  }
}
