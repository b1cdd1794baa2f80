/**
 * The bridge as `npm start` runs it (src/main.ts in its own process), listening on a free port,
 * with only the environment given (and PATH); its log (stdout and stderr) kept as text.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface BridgeProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote so far. */
  out(): string;
  /** SIGTERM, and its exit. */
  stop(): Promise<void>;
}

export async function startBridgeProcess(env: Record<string, string>): Promise<BridgeProcess> {
  const child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  while (!/"url":"([^"]+)"/.test(out)) {
    if (child.exitCode !== null) throw new Error(`the bridge exited: ${out}`);
    await once(child.stdout as NodeJS.ReadableStream, 'data');
  }
  return {
    url: /"url":"([^"]+)"/.exec(out)?.[1] ?? '',
    child,
    out: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
