/**
 * The stand-in for an Odoo 17 that speaks only legacy RPC (legacy_odoo.py), started as a Python
 * process on a free port, with its test hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./legacy_odoo.py', import.meta.url));

export interface LegacyOdoo {
  url: string;
  child: ChildProcess;
  /** What it was asked, in order. */
  requests(): Promise<Array<{ path: string; service: string; method: string; model_method: string | null }>>;
  /** Each object call waits `ms` first. */
  delay(ms: number): Promise<void>;
  /** Its res.partner records. */
  partners(records: Record<number, Record<string, unknown>>): Promise<void>;
  close(): void;
}

export async function startLegacyOdoo(
  db: string,
  users: Record<string, [number, string]>,
): Promise<LegacyOdoo> {
  const child = spawn('python3', [SCRIPT, JSON.stringify({ db, users })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [
    string,
  ];
  const url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  const post = async (path: string, body?: string) =>
    void (await fetch(`${url}${path}`, { method: 'POST', ...(body ? { body } : {}) }));
  return {
    url,
    child,
    requests: async () =>
      (await (await fetch(`${url}/_requests`)).json()) as Awaited<ReturnType<LegacyOdoo['requests']>>,
    delay: (ms) => post(`/_delay?ms=${ms}`),
    partners: (records) => post('/_partners', JSON.stringify(records)),
    close: () => void child.kill('SIGTERM'),
  };
}
