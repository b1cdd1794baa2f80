import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineBatches } from '../../src/log.ts';

/** An output that records what it is handed, and what a synchronous flush found. */
function recorder(): { chunks: string[]; syncs: number; write(c: string): void; flushSync(): void } {
  return {
    chunks: [],
    syncs: 0,
    write(c: string) {
      this.chunks.push(c);
    },
    flushSync() {
      this.syncs++;
    },
  };
}

describe('LineBatches (the log destination)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds lines until the batch is long enough, then hands them on as one string, in order', () => {
    const out = recorder();
    const b = new LineBatches(out, 30, 250);
    b.write('{"n":1}\n');
    b.write('{"n":2}\n');
    b.write('{"n":3}\n');
    expect(out.chunks).toEqual([]);
    b.write('{"n":4}\n');
    expect(out.chunks).toEqual(['{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n']);
    b.write('{"n":5}\n');
    expect(out.chunks).toHaveLength(1);
  });

  it('writes a short batch after the period, and everything on flushSync', () => {
    vi.useFakeTimers();
    const out = recorder();
    const b = new LineBatches(out, 4096, 250);
    b.write('a\n');
    vi.advanceTimersByTime(249);
    expect(out.chunks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(out.chunks).toEqual(['a\n']);
    b.write('b\n');
    b.write('c\n');
    b.flushSync();
    expect(out.chunks).toEqual(['a\n', 'b\nc\n']);
    expect(out.syncs).toBe(1);
    // pino's logger.flush(cb): the callback is called once the held lines are handed on.
    b.write('d\n');
    const called = vi.fn();
    b.flush(called);
    expect(called).toHaveBeenCalledWith();
    expect(out.chunks.at(-1)).toBe('d\n');
    // Nothing is left for the timer to write twice.
    vi.advanceTimersByTime(1000);
    expect(out.chunks).toEqual(['a\n', 'b\nc\n', 'd\n']);
  });

  it('loses no line when the process exits at once after logging (stdout a pipe)', async () => {
    // The bridge's own logger on its own stdout: 3,000 lines, then process.exit without waiting.
    const script = `
      import { createLogger } from ${JSON.stringify(new URL('../../src/log.ts', import.meta.url).href)};
      const log = createLogger('info');
      for (let i = 0; i < 3000; i++) log.info({ i, pad: 'x'.repeat(100) }, 'line');
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(3000);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });
});
