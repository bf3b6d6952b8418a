/** DynamoDB Local ready for the handlers: the JVM (./process) with the table (./table), one retry without the class cache */
import { rmSync } from 'node:fs';
import { type DynamoLocal, spawnDynamo, stopDynamo } from './process';
import { createTableWhenUp } from './table';

export interface DynamoLocalStart {
  /** the port both attempts use: the handlers' endpoint variable is set before the table is ready */
  port: number;
  /** --persist: DynamoDB's files; in memory when absent */
  dbPath: string | undefined;
  /** the JVM's working directory (it writes a metadata file there) */
  cwd: string;
  tableName: string;
  /** true once the runtime is stopping: nothing may start after that */
  stopping: () => boolean;
  mark: (what: string) => void;
  /** progress for the developer (nothing when quiet) */
  say: (line: string) => void;
  printErr: (line: string) => void;
}

export interface DynamoLocalRun {
  /** the table's stream ARN once it exists (rejects when DynamoDB Local could not start) */
  tableReady: Promise<string | undefined>;
  /** the JVM now running (a second one after a failed class-sharing start) */
  current: () => DynamoLocal;
  stop: () => Promise<void>;
}

/** spawns the JVM and creates the table as soon as it answers; `tableReady` is already caught (no unhandled rejection) */
export const startDynamoLocal = (o: DynamoLocalStart): DynamoLocalRun => {
  const launch = (useCds: boolean) => {
    const d = spawnDynamo(o.port, o.dbPath, o.cwd, useCds);
    o.mark(`DynamoDB Local spawned (class sharing: ${d.cds})`);
    return d;
  };
  const first = launch(true);
  let running = first;
  const tableReady = createTableWhenUp(first, o.tableName)
    .catch(async (error: unknown) => {
      // a JVM that died with class sharing on: forget that cache entry and start the plain way
      // (not when it was stopped: a failed start stops everything, and nothing may start after that)
      const stillRunning = first.child.exitCode === null && first.child.signalCode === null;
      if (first.cds === 'off' || stillRunning || o.stopping()) throw error;
      if (first.cacheDir) rmSync(first.cacheDir, { recursive: true, force: true });
      o.printErr('local runtime: DynamoDB Local did not start with class sharing; starting it without');
      running = launch(false);
      return createTableWhenUp(running, o.tableName);
    })
    .then((streamArn) => {
      o.mark('DynamoDB Local answers, table ready');
      return streamArn;
    });
  tableReady.catch(() => undefined); // awaited by the caller; avoid an unhandled rejection meanwhile
  return { tableReady, current: () => running, stop: () => stopDynamo(running, o.say) };
};
