/**
 * writeFlatLine (src/log.ts) writes the line `log.info(fields, msg)` writes, serialized its own
 * way: same bytes but for the time, for loggers made as the bridge makes them (createLogger),
 * children with bindings included, and nothing when info is off.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, writeFlatLine, type FlatFields } from '../../src/log.ts';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

const withoutTime = (line: string): string => line.replace(/,"time":\d+/, ',"time":0');

const FIELDS: FlatFields[] = [
  { requestId: 'r-1', protocol: 'xmlrpc/2', service: 'object', call: 'execute_kw', ms: 1.5, outcome: 'ok' },
  {
    requestId: 'r-2',
    service: undefined,
    db: 'prod "main"\n',
    uid: 2,
    login: 'Zoë 日本 😀',
    fault: 'odoo.exceptions.AccessDenied',
    faultMessage: 'a\\b\u0001\u2028<>&',
    userAgent: undefined,
    flag: true,
  },
  {},
];

describe('writeFlatLine', () => {
  it('writes what pino writes, for the logger and for a child with bindings', async () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream);
    const child = log.child({ component: 'calls' });
    for (const l of [log, child])
      for (const f of FIELDS) {
        l.info(f, 'legacy call');
        writeFlatLine(l, f, 'legacy call');
      }
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(FIELDS.length * 4);
    for (let i = 0; i < lines.length; i += 2) {
      expect(withoutTime(lines[i + 1] as string)).toBe(withoutTime(lines[i] as string));
      expect(JSON.parse(lines[i + 1] as string)).toMatchObject({ level: 30, msg: 'legacy call' });
    }
    expect(lines[1]).toContain('"app":"odoo-rpc-bridge"');
    expect(lines[FIELDS.length * 2 + 1]).toContain('"component":"calls"');
  });

  it('writes nothing when info lines are off', async () => {
    const { lines, stream } = capture();
    writeFlatLine(createLogger('warn', stream), { requestId: 'r' }, 'legacy call');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([]);
  });
});
