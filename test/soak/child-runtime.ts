import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The local runtime in a child process of its own process group, to be killed the hard way
// (test/int/crash.int.test.ts, test/soak/crash.soak.test.ts), and what is left of it afterwards.

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ChildRuntime {
  child: ChildProcess;
  pid: number;
  appUrl: string;
  mailUrl: string;
  dynamoUrl: string;
  /** everything it printed so far (the last 200 KB) */
  output(): string;
  /** resolves when the process has exited */
  exited: Promise<void>;
}

/**
 * Starts `node --import tsx <entry> --port 0 --mail-port 0 <args>` (default entry: local/start.ts, as
 * `npm start` runs) and resolves once it printed that it is ready.
 */
export const startChildRuntime = (
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 90_000,
  entry = 'local/start.ts',
): Promise<ChildRuntime> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, '--port', '0', '--mail-port', '0', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the test can kill the whole group
    });
    let text = '';
    let ready = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(
      () => reject(new Error(`the child runtime did not get ready in ${timeoutMs} ms:\n${text.slice(-4000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      text = (text + chunk.toString('utf8')).slice(-200_000);
      if (ready) return;
      const app = /Intake form\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(text)?.[1];
      const mail = /Mailbox\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      const dynamo = /DynamoDB\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      if (app && mail && dynamo && text.includes('Ctrl-C stops everything.')) {
        ready = true;
        clearTimeout(timer);
        resolvePromise({ child, pid: child.pid!, appUrl: app, mailUrl: mail, dynamoUrl: dynamo, output: () => text, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`the child runtime exited during start (${code ?? signal}):\n${text.slice(-4000)}`));
    });
  });

const statOf = (pid: number | string): string[] | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp …: the fields after the command's closing parenthesis
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
};

/** a process that exists and is not a zombie */
export const isRunning = (pid: number): boolean => {
  const f = statOf(pid);
  return !!f && f[0] !== 'Z';
};

/** pids of DynamoDB Local JVMs whose parent is `parentPid` */
export const dynamoChildrenOf = (parentPid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return Number(statOf(pid)?.[1]) === parentPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal');
      } catch {
        return false;
      }
    })
    .map(Number);

/** live (non-zombie) processes in the process group `pgid` */
export const processGroup = (pgid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      const f = statOf(pid);
      return !!f && Number(f[2]) === pgid && f[0] !== 'Z';
    })
    .map(Number);

/** polls until `ok()` holds */
export const waitUntil = async (ok: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * kill -9 of the child's whole process group (the runtime, tsx, DynamoDB Local's JVM, any watchdog);
 * resolves once the runtime has exited and nothing of the group — above all no JVM — is left
 */
export const killHard = async (rt: ChildRuntime): Promise<{ jvms: number[] }> => {
  const jvms = dynamoChildrenOf(rt.pid);
  process.kill(-rt.pid, 'SIGKILL');
  await rt.exited;
  await waitUntil(
    () => jvms.every((p) => !isRunning(p)) && processGroup(rt.pid).length === 0,
    `the process group ${rt.pid} (JVMs ${jvms.join(', ')}) to be gone`,
  );
  return { jvms };
};
