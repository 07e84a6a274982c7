/**
 * Starting and stopping the real servers of the real-component tests: each runs on 127.0.0.1 in its own process
 * group, is waited for with a bound, and is stopped by its process id (the whole group, SIGTERM then SIGKILL).
 * A server that dies or never gets ready fails the test with the tail of its own log.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const TOOLS = path.join(__dirname, '..', 'tools');
const ROOT = path.join(__dirname, '..', '..', '..');

/** Where installed real components are cached between runs on one machine. */
export function toolsCache(): string {
  return process.env.CDK_OPENCLAW_TOOLS_CACHE ?? path.join(os.homedir(), '.cache', 'cdk-openclaw-tools');
}

const installed = new Map<string, string[]>();

/**
 * Runs one of test/real/tools/*.sh (instant when its component is cached; `test:real` runs them all first) and
 * returns the lines it printed. Fails with the installer's own explanation when the component cannot be had.
 */
export function installTool(name: 'openclaw' | 'kubernetes' | 'moto', env: Record<string, string> = {}): string[] {
  const key = `${name} ${JSON.stringify(env)}`;
  const cached = installed.get(key);
  if (cached) return cached;
  try {
    const out = execFileSync('bash', [path.join(TOOLS, `${name}.sh`)], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines = out.trim().split('\n').filter(Boolean);
    installed.set(key, lines);
    return lines;
  } catch (e: any) {
    throw new Error(`could not install the real ${name} for the tests (test/real/tools/${name}.sh):\n${String(e.stderr ?? e.message).slice(-4000)}`);
  }
}

/** The repository's root directory. */
export function repoRoot(): string {
  return ROOT;
}

/** A fresh temporary directory, removed by the caller (or left for inspection when KEEP_REAL_TEST_DIRS is set). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cdk-openclaw-${prefix}-`));
}

export function removeDir(dir: string): void {
  if (process.env.KEEP_REAL_TEST_DIRS) return;
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Thrown by a `waitFor` check when what it waits for can no longer happen (a server exited): stop waiting at once. */
export class WaitAborted extends Error {}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string, timeoutMs: number, check: () => Promise<T | undefined | false> | T | undefined | false, intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (e) {
      if (e instanceof WaitAborted) throw new Error(`gave up waiting for ${what}: ${e.message}`);
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ServerOptions {
  /** A short name for messages and the log file. */
  readonly name: string;
  readonly command: string;
  readonly args: string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Resolves truthy once the server answers; polled until `readyTimeoutMs`. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
  /** Where the server's stdout and stderr go. */
  readonly logFile: string;
}

/** A server started by a test: stop it (by process id) in `afterAll`. */
export class RunningServer {
  public static async start(options: ServerOptions): Promise<RunningServer> {
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = fs.openSync(options.logFile, 'a');
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
      detached: true, // its own process group, so stop() reaches whatever it spawned
    });
    fs.closeSync(log);
    const server = new RunningServer(options.name, child, options.logFile);
    try {
      await waitFor(`${options.name} to get ready`, options.readyTimeoutMs ?? 30_000, async () => {
        if (server.exited) throw new WaitAborted(`${options.name} exited with ${server.exitCode ?? server.exitSignal}`);
        return options.ready();
      });
    } catch (e) {
      await server.stop();
      throw new Error(`${(e as Error).message}\n--- last lines of ${options.logFile} ---\n${server.logTail()}`);
    }
    return server;
  }

  private exited = false;
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private readonly exitPromise: Promise<void>;

  private constructor(public readonly name: string, private readonly child: ChildProcess, public readonly logFile: string) {
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
  }

  public get pid(): number {
    return this.child.pid!;
  }

  public get running(): boolean {
    return !this.exited;
  }

  /** The last lines the server wrote. */
  public logTail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server's process group by its id: SIGTERM, then SIGKILL after `graceMs`. */
  public async stop(graceMs = 10_000): Promise<void> {
    if (!this.exited) signalGroup(this.pid, 'SIGTERM');
    // The grace timer is cleared once the server exits, so that it never holds the test process open.
    let grace: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.exitPromise.then(() => true),
      new Promise<boolean>((resolve) => { grace = setTimeout(() => resolve(false), graceMs); }),
    ]);
    clearTimeout(grace);
    if (!stopped) {
      signalGroup(this.pid, 'SIGKILL');
      await this.exitPromise;
    }
    // Whatever the leader left behind in its group goes too.
    signalGroup(this.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
