/**
 * Runs Python from the tests. `runPython` runs a client script asynchronously (the bridge under
 * test lives in this process, so a synchronous spawn would block it), feeding JSON on stdin and
 * reading JSON from stdout; `runPythonBatch` runs a CPython oracle over a batch of inputs.
 */
import { spawn, spawnSync } from 'node:child_process';

export function runPython<T>(script: string, input: unknown, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0)
        return reject(new Error(`python3 ${script} exited ${code}: ${Buffer.concat(err).toString()}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()) as T);
      } catch (e) {
        reject(e as Error);
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** Whether `python3` runs here: the differential tests against CPython are skipped otherwise. */
export const hasPython = spawnSync('python3', ['--version']).status === 0;

/**
 * Runs a Python batch script synchronously (for tests that compare a whole batch of inputs with
 * CPython before their cases run), feeding `input` as JSON on stdin. `results` is the JSON it
 * printed, or an empty batch when it printed nothing; `stderr` says why.
 */
export function runPythonBatch<T>(script: string, input: unknown): { results: T[]; stderr: string } {
  const run = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(input),
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    results: JSON.parse(run.stdout.toString() || '[]') as T[],
    stderr: run.stderr.toString(),
  };
}
