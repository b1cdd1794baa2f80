/**
 * What the Node clients of the matrix share: the environment they are given, the JSON lines they
 * print (`{"client", "version"}`, then one `{"step", "ok", "detail"}` per step) and a library's
 * version read from its installed package.json.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const require = createRequire(import.meta.url);

export const env = {
  url: process.env.MATRIX_URL ?? '',
  db: process.env.MATRIX_DB ?? '',
  login: process.env.MATRIX_LOGIN ?? '',
  password: process.env.MATRIX_PASSWORD ?? '',
};

/** The non-ASCII name every client creates and reads back. */
export const NAME = 'Zoë Müller';

/** The installed version of an npm package (its package.json, wherever it resolves). */
export function packageVersion(name: string): string {
  const file = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function emit(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

export function check(cond: boolean, what: unknown): asserts cond {
  if (!cond) throw new Error(`check failed: ${JSON.stringify(what)}`);
}

/** Runs one step and prints its result; a failed step does not stop the next ones. */
export async function step(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    const detail = await fn();
    emit({ step: name, ok: true, detail: String(JSON.stringify(detail)).slice(0, 300) });
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e);
    emit({ step: name, ok: false, detail: String(msg).slice(0, 500) });
  }
}

/** `[{id, name}, ...]` → names, for the checks. */
export const names = (recs: unknown): unknown[] =>
  Array.isArray(recs) ? recs.map((r) => (r as { name?: unknown }).name) : [];

export const isFault = (e: unknown): e is { faultCode: unknown; faultString: unknown } =>
  typeof e === 'object' && e !== null && 'faultCode' in e;
