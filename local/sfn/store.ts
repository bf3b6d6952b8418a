/**
 * Executions on disk (the runtime's `--persist`): one JSON file per execution under `<dir>`, rewritten
 * after every change (each history event, token, due time) by writing a temporary file and renaming
 * it over the old one — a rename is atomic, so a kill -9 at any moment leaves either the previous
 * or the new version, never a torn one. The write is synchronous: when an API call answers (e.g.
 * SendTaskSuccess), or before a function is invoked with a token, what it changed is on disk.
 * (Durable against the process dying; a power cut may lose the last writes, there is no fsync.)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionStatus, HistoryEvent } from '@aws-sdk/client-sfn';
import type { CurrentTask, ExecutionRecord, TokenRecord } from './execution';

const FORMAT = 1;

/** an execution as stored: dates as epoch ms */
export interface StoredExecution {
  format: typeof FORMAT;
  arn: string;
  name: string;
  stateMachineArn: string;
  input: string;
  startDate: number;
  stopDate?: number;
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  events: Array<Omit<HistoryEvent, 'timestamp'> & { timestamp: number }>;
  position?: { state: string; input: unknown };
  current?: CurrentTask;
  deadlineAt?: number;
  tokens: Array<{ token: string; status: TokenRecord['status'] }>;
}

function toStored(execution: ExecutionRecord): StoredExecution {
  return {
    format: FORMAT,
    arn: execution.arn,
    name: execution.name,
    stateMachineArn: execution.machine.arn,
    input: execution.input,
    startDate: execution.startDate.getTime(),
    stopDate: execution.stopDate?.getTime(),
    status: execution.status,
    output: execution.output,
    error: execution.error,
    cause: execution.cause,
    events: execution.events.map((e) => ({ ...e, timestamp: (e.timestamp ?? new Date(0)).getTime() })),
    position: execution.position,
    current: execution.current,
    deadlineAt: execution.deadlineAt,
    tokens: [...execution.tokens].map((t) => ({ token: t.token, status: t.status })),
  };
}

export function eventsFromStored(stored: StoredExecution): HistoryEvent[] {
  return stored.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }) as HistoryEvent);
}

export type ExecutionStoreLog = (message: string) => void;

export class ExecutionStore {
  constructor(
    readonly dir: string,
    private readonly log: ExecutionStoreLog = () => undefined,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private fileOf(arn: string): string {
    return join(this.dir, `${createHash('sha256').update(arn).digest('hex').slice(0, 32)}.json`);
  }

  /** writes the execution's file (atomically: temporary file, then rename) */
  save(execution: ExecutionRecord): void {
    const file = this.fileOf(execution.arn);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(toStored(execution)));
    renameSync(tmp, file);
  }

  /** every stored execution; leftovers of writes cut short are removed, unreadable files set aside */
  loadAll(): StoredExecution[] {
    const out: StoredExecution[] = [];
    for (const name of readdirSync(this.dir)) {
      const file = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        rmSync(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredExecution;
        if (stored.format !== FORMAT || typeof stored.arn !== 'string') throw new Error(`unknown format ${String(stored.format)}`);
        out.push(stored);
      } catch (error) {
        renameSync(file, `${file}.unreadable`);
        this.log(`stored execution ${name} could not be read (${(error as Error).message}); set aside as ${name}.unreadable`);
      }
    }
    return out.sort((a, b) => a.startDate - b.startDate);
  }
}
