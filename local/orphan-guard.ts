/**
 * No child process survives its parent, even when the parent is killed with SIGKILL (no exit hook
 * runs then). Two ways, picked once per process:
 *
 * - `setpriv` (util-linux, Linux): the child is started as `setpriv --pdeathsig KILL -- <cmd>`;
 *   setpriv asks the kernel (PR_SET_PDEATHSIG) to SIGKILL it when its parent dies, then execs the
 *   command, so the child's pid is the command's. The signal follows the thread that spawned it: the
 *   runtime spawns from the main thread, which lives as long as the process.
 * - `watchdog` (no setpriv, e.g. macOS): a tiny Node process holding a pipe from the parent; when the
 *   pipe closes (the parent is gone, however it died) it SIGKILLs the child. It also leaves once the
 *   child has exited.
 *
 * `LOCAL_ORPHAN_GUARD=watchdog|setpriv` forces one (tests exercise both).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type GuardMode = 'setpriv' | 'watchdog';

let detected: GuardMode | undefined;

const onPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
};

/** setpriv when it is there and knows --pdeathsig (util-linux 2.33+), else the watchdog */
export const guardMode = (): GuardMode => {
  const forced = process.env.LOCAL_ORPHAN_GUARD;
  if (forced === 'setpriv' || forced === 'watchdog') return forced;
  if (!detected) {
    const setpriv = process.platform === 'linux' ? onPath('setpriv') : undefined;
    detected =
      setpriv && spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0
        ? 'setpriv'
        : 'watchdog';
  }
  return detected;
};

/** the command and arguments to spawn so that, in setpriv mode, the kernel kills the child with us */
export const guardedSpawnArgs = (mode: GuardMode, command: string, args: string[]): { command: string; args: string[] } =>
  mode === 'setpriv' ? { command: 'setpriv', args: ['--pdeathsig', 'KILL', '--', command, ...args] } : { command, args };

const WATCHDOG = `
const pid = Number(process.argv[1]);
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
const killIt = () => { try { process.kill(pid, 'SIGKILL'); } catch {} process.exit(0); };
process.stdin.on('end', killIt);
process.stdin.on('close', killIt);
process.stdin.on('error', killIt);
process.stdin.resume();
setInterval(() => { if (!alive()) process.exit(0); }, 1000);
`;

/**
 * Watchdog mode: a process that SIGKILLs `pid` once this process is gone. It holds no reference on
 * this process's event loop; `stop()` ends it (after an orderly stop of the child).
 */
export const startWatchdog = (pid: number): { stop(): void } => {
  const dog = spawn(process.execPath, ['-e', WATCHDOG, String(pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  dog.on('error', () => undefined);
  dog.stdin?.on('error', () => undefined);
  return {
    stop: () => {
      if (dog.exitCode === null && dog.signalCode === null) dog.kill('SIGKILL');
    },
  };
};
