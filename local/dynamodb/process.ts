/** the DynamoDB Local JVM: spawned (with the class cache when it can), watched, stopped */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { HOST } from '../constants';
import { guardedSpawnArgs, guardMode, startWatchdog } from '../orphan-guard';
import { type CdsLaunch, prepareCds } from './class-cache';
import { dynamoJar, findJava } from './jar';

/** C1 only (JIT work at start, not peak speed, matters here) and the JDK's own class data sharing */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-Xshare:auto'];

export interface DynamoLocal {
  child: ChildProcess;
  port: number;
  url: string;
  /** resolves after the JVM exited and a class archive it recorded was kept */
  exited: Promise<void>;
  output: () => string;
  /** started with a class-data sharing archive (./class-cache) */
  cds: 'off' | 'use' | 'record';
  /** the cache entry to drop when a CDS start fails */
  cacheDir?: string;
}

/** the last few KB of a child's output, for error messages */
const tail = (limit = 4096) => {
  let text = '';
  return {
    push: (chunk: Buffer) => {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    get text() {
      return text.trim();
    },
  };
};

export const spawnDynamo = (port: number, dbPath: string | undefined, cwd: string, useCds: boolean): DynamoLocal => {
  const { jar, libDir, version } = dynamoJar();
  const java = findJava();
  const dbArgs = [...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']), '-sharedDb', '-disableTelemetry', '-port', String(port)];
  let cds: CdsLaunch | undefined;
  if (useCds && process.env.LOCAL_DYNAMODB_CDS !== '0' && java !== 'java') {
    try {
      cds = prepareCds(java, jar, libDir, version);
    } catch {
      cds = undefined; // no cache (read-only tree, odd jar): the plain start below
    }
  }
  const mode: DynamoLocal['cds'] = !cds ? 'off' : existsSync(cds.archive) ? 'use' : 'record';
  const recording = cds && mode === 'record' ? `${cds.archive}.${process.pid}-${port}.tmp` : undefined;
  const args = cds
    ? [
        mode === 'use' ? `-XX:SharedArchiveFile=${cds.archive}` : `-XX:ArchiveClassesAtExit=${recording}`,
        '-Xlog:cds=off',
        '-Xlog:cds+dynamic=off',
        ...JVM_FLAGS,
        `-Djava.library.path=${libDir}`,
        '-cp',
        cds.classPath,
        cds.mainClass,
        ...dbArgs,
      ]
    : [...JVM_FLAGS, `-Djava.library.path=${libDir}`, '-jar', jar, ...dbArgs];
  // the JVM dies with this process however it ends (kill -9 included): see ./orphan-guard
  const guard = java === 'java' ? 'watchdog' : guardMode(); // no java found: let spawn say ENOENT
  const launch = guardedSpawnArgs(guard, java, args);
  const child = spawn(launch.command, launch.args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const watchdog = guard === 'watchdog' && child.pid ? startWatchdog(child.pid) : undefined;
  const out = tail();
  child.stdout?.on('data', out.push);
  child.stderr?.on('data', out.push);
  const exited = new Promise<void>((res) => {
    const done = (_code: number | null, signal: NodeJS.Signals | null) => {
      watchdog?.stop();
      // keep the archive the JVM wrote at exit (not after SIGKILL: it may be partial)
      if (recording) {
        try {
          if (signal !== 'SIGKILL' && existsSync(recording) && statSync(recording).size > 0) renameSync(recording, cds!.archive);
          else rmSync(recording, { force: true });
        } catch {
          // another run kept its archive first
        }
      }
      res();
    };
    child.once('exit', done);
    child.once('error', () => done(null, null));
  });
  return { child, port, url: `http://${HOST}:${port}`, exited, output: () => out.text, cds: mode, cacheDir: cds?.cacheDir };
};

/** SIGTERM, then SIGKILL after a grace period (longer while a class archive is being recorded) */
export const stopDynamo = async (d: DynamoLocal, say: (line: string) => void): Promise<void> => {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return d.exited;
  if (d.cds === 'record') say("Saving DynamoDB Local's class-data archive (once: later starts are faster)…");
  d.child.kill('SIGTERM');
  // recording a class archive takes a few seconds at exit (once); unref'd: no timer holds the loop
  const grace = d.cds === 'record' ? 30_000 : 3000;
  const killed = await Promise.race([d.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), grace).unref())]);
  if (!killed) {
    d.child.kill('SIGKILL');
    await d.exited;
  }
};
