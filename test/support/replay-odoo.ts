/**
 * An Odoo that answers recorded JSON-2 exchanges (a real Odoo's answers to the requests the
 * bridge made, in test/fixtures/native/), for behaviour the fake Odoo does not model (crm's
 * group_expand stages). A request that was not recorded gets a 500 naming it, so a test fails
 * clearly when the bridge asks something new. `/web/version` says `version`; `context_get`
 * answers the uid of each known key (401 for any other).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  path: string;
  body: unknown;
  status: number;
  /** Odoo's answer as the text it sent (floats keep their `.0`). */
  answer: string;
}

export interface ReplayOdoo {
  url: string;
  /** Requests that had no recorded answer. */
  unanswered: string[];
  close(): Promise<void>;
}

/** JSON with object keys sorted, so that a body matches whatever its key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export async function startReplayOdoo(o: {
  exchanges: readonly RecordedExchange[];
  version: { version: string; version_info: unknown[] };
  keys: Record<string, number>;
}): Promise<ReplayOdoo> {
  const answers = new Map(o.exchanges.map((e) => [`${e.path} ${canonical(e.body)}`, e]));
  const unanswered: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(text);
      };
      const path = req.url ?? '';
      if (path === '/web/version') return send(200, JSON.stringify(o.version));
      const key = /^bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const uid = o.keys[key];
      if (uid === undefined)
        return send(
          401,
          JSON.stringify({ name: 'werkzeug.exceptions.Unauthorized', message: 'Invalid apikey' }),
        );
      if (path === '/json/2/res.users/context_get')
        return send(200, JSON.stringify({ lang: 'en_US', tz: false, uid }));
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? {} : (JSON.parse(text) as unknown);
      } catch {
        body = text;
      }
      const recorded = answers.get(`${path} ${canonical(body)}`);
      if (recorded) return send(recorded.status, recorded.answer);
      unanswered.push(`${path} ${canonical(body)}`);
      send(500, JSON.stringify({ name: 'replay', message: `not recorded: ${path} ${canonical(body)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unanswered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
