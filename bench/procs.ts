/**
 * The benchmarks' child processes (the bridge, the plain proxy, the upstream stand-in) and what
 * is read about them from /proc: each runs as its own process, as in production, so that its
 * memory is its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface Child {
  child: ChildProcess;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const here = (file: string): string => new URL(file, import.meta.url).pathname;

/** Children still running: killed if the benchmark itself exits early (an error, Ctrl-C). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
process.once('SIGINT', () => process.exit(130));

/**
 * Starts `node <args>` and waits for the `"url":"..."` it prints once listening. `nodeArgs`: node
 * flags (e.g. `--cpu-prof`); `logTo`: a file for its output (else it is read and dropped).
 */
export async function startChild(
  args: string[],
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
  logTo?: string,
): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  const keep = (c: Buffer): void => {
    out += c.toString();
  };
  child.stdout?.on('data', keep);
  for (let i = 0; i < 400; i++) {
    const m = /"url":"([^"]+)"/.exec(out);
    if (m?.[1]) {
      child.stdout?.off('data', keep);
      if (logTo) child.stdout?.pipe(createWriteStream(logTo));
      else child.stdout?.resume();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      return {
        child,
        url: m[1],
        pid: child.pid ?? NaN,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            // A profiled process takes a while to write its profile.
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
            await exited;
            clearTimeout(timer);
          }
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`${args[0]} exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${args[0]} did not start`);
}

/**
 * How the benchmarks run the bridge: as the image does (`MALLOC_MMAP_THRESHOLD_=131072 node
 * --max-semi-space-size=8 --heap-growing-percent=100 dist/main.js`, built by `npm run bench`; a
 * MALLOC_MMAP_THRESHOLD_ of the benchmark's own environment wins, and an empty one leaves glibc's
 * default, for a comparison). BENCH_BRIDGE_MAIN: another
 * entry point (this checkout's src/main.ts, or another checkout's, to compare before and after a
 * change);
 * BENCH_NODE_ARGS: node flags instead of the default (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`,
 * or an empty string for V8's defaults).
 */
export function bridgeCommand(): { main: string; nodeArgs: string[] } {
  const main = process.env['BENCH_BRIDGE_MAIN'] ?? here('../dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (npm run bench does)`);
  const flags = process.env['BENCH_NODE_ARGS'] ?? '--max-semi-space-size=8 --heap-growing-percent=100';
  return { main, nodeArgs: flags.split(' ').filter((a) => a !== '') };
}

/** The bridge (default settings: info-level logging, one line per call). */
export function startBridge(odooUrl: string, env: Record<string, string> = {}): Promise<Child> {
  const { main, nodeArgs } = bridgeCommand();
  const mmapThreshold = process.env['MALLOC_MMAP_THRESHOLD_'] ?? '131072';
  return startChild(
    [main, '--listen', '127.0.0.1:0'],
    {
      ODOO_URL: odooUrl,
      BRIDGE_LOG_LEVEL: 'info',
      // Undefined: left out of the child's environment (glibc's default, a rising threshold).
      MALLOC_MMAP_THRESHOLD_: mmapThreshold === '' ? undefined : mmapThreshold,
      ...env,
    },
    nodeArgs,
    process.env['BENCH_BRIDGE_LOG'],
  );
}

/** The plain proxy; `stream`: bodies piped through, never held whole (bench/plain-proxy.ts). */
export function startPlainProxy(odooUrl: string, stream = false): Promise<Child> {
  return startChild([here('plain-proxy.ts'), odooUrl, ...(stream ? ['stream'] : [])]);
}

export function startStandIn(recordsPath?: string, env: Record<string, string> = {}): Promise<Child> {
  return startChild([here('stand-in.ts'), ...(recordsPath ? [recordsPath] : [])], env);
}

/** A `/proc/<pid>/status` field in bytes (VmRSS, VmHWM). */
export function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The process's CPU time so far (user + system), in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel does not let us. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `work` and returns its result with the process's peak RSS meanwhile: VmHWM after a reset,
 * or (where it cannot be reset) the largest VmRSS sampled every 20 ms.
 */
export async function peakRssDuring<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; peak: number }> {
  const canReset = resetPeak(pid);
  let sampled = procStatus(pid, 'VmRSS');
  const timer = setInterval(() => (sampled = Math.max(sampled, procStatus(pid, 'VmRSS'))), 20);
  try {
    const result = await work();
    const peak = canReset ? procStatus(pid, 'VmHWM') : Math.max(sampled, procStatus(pid, 'VmRSS'));
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}
