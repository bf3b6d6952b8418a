import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// the local runtime killed the hard way: `local/start.ts` in a child process, SIGKILLed.
// 1. no orphan: killing the Node process alone (not its group) takes the DynamoDB Local JVM with it.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT = 90_000;

// ---- a runtime in a child process ----------------------------------------------------------------

interface ChildRuntime {
  child: ChildProcess;
  pid: number;
  appUrl: string;
  mailUrl: string;
  /** everything it printed so far */
  output(): string;
  /** resolves when the process has exited */
  exited: Promise<void>;
}

/** starts `node --import tsx local/start.ts <args>` and resolves once it printed that it is ready */
const startChildRuntime = (args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<ChildRuntime> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--port', '0', '--mail-port', '0', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the test can kill the whole group
    });
    let text = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => reject(new Error(`the child runtime did not get ready in ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const app = /Intake form\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(text)?.[1];
      const mail = /Mailbox\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      if (app && mail && text.includes('Ctrl-C stops everything.')) {
        clearTimeout(timer);
        resolvePromise({ child, pid: child.pid!, appUrl: app, mailUrl: mail, output: () => text, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the child runtime exited during start (${code ?? signal}):\n${text}`));
    });
  });

/** a process that exists and is not a zombie */
const isRunning = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** pids of DynamoDB Local JVMs whose parent is `parentPid` */
const dynamoChildrenOf = (parentPid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === parentPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal');
      } catch {
        return false;
      }
    })
    .map(Number);

/** polls until `ok()` holds */
const waitUntil = async (ok: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const started: ChildRuntime[] = [];
afterAll(() => {
  // whatever a failed test left: the group of each child it started
  for (const c of started) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('no orphan', () => {
  test.each(['setpriv', 'watchdog'])('kill -9 of the Node process alone (%s): the DynamoDB Local JVM goes too', async (guard) => {
    // Prepare
    const rt = await startChildRuntime([], { LOCAL_ORPHAN_GUARD: guard });
    started.push(rt);
    const [jvm] = dynamoChildrenOf(rt.pid);
    expect(jvm).toEqual(expect.any(Number));

    // Act: SIGKILL to the Node process only, not its group
    process.kill(rt.pid, 'SIGKILL');
    await rt.exited;

    // Assess
    await waitUntil(() => !isRunning(jvm!), `the JVM (pid ${jvm}) to be gone`);
  }, START_TIMEOUT);
});
