/**
 * Paths around the main story (review findings, pinned): a request target in absolute form
 * (`POST http://victim.example/xmlrpc/2/common`) reaches a native server in origin form (werkzeug
 * would take its Host, hence dbfilter, from the absolute one); a db.restore larger than 64 KiB,
 * streamed, goes to the server of its database, not to the first one; `db.rename` of a frozen
 * database never reaches a native server.
 */
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config.ts';
import { postRaw, xmlrpcCall } from '../support/clients.ts';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { startLegacyOdoo, type LegacyOdoo } from '../support/legacy-odoo.ts';

const dir = mkdtempSync(join(tmpdir(), 'bridge-native-'));
let stack: Stack | undefined;
const fakes: FakeOdoo[] = [];
let legacy: LegacyOdoo | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const f of fakes.splice(0)) await f.close();
  legacy?.close();
  legacy = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withConfig(text: string, over = {}): Promise<Stack> {
  const file = join(dir, `c${Date.now()}.yaml`);
  writeFileSync(file, text);
  stack = await startStack({ config: { configPath: file, file: readConfigFile(file), ...over } });
  return stack;
}

describe('native mode and routing, the edges', () => {
  it('sends an absolute-form request target on in origin form', async () => {
    legacy = await startLegacyOdoo('lab', { admin: [2, KEYS.labAdmin] });
    const s = await withConfig(`upstreams:\n  - {name: old, url: "${legacy.url}", mode: native}\n`);
    const { port } = new URL(s.bridge.url);
    const body =
      '<?xml version="1.0"?><methodCall><methodName>version</methodName><params></params></methodCall>';
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(
          `POST http://victim.example/xmlrpc/2/common HTTP/1.1\r\nHost: victim.example\r\nContent-Type: text/xml\r\n` +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const asked = (await legacy.requests()) as Array<{ path: string; target?: string }>;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('<name>server_version</name>');
    expect(asked.map((r) => r.target)).toEqual(['/xmlrpc/2/common']);
  });

  it('streams a large db.restore to the server of its database, not to the first', async () => {
    const first = await startFakeOdoo();
    const second = await startFakeOdoo();
    fakes.push(first, second);
    const s = await withConfig(
      `upstreams:\n  - {name: a, url: "${first.url}", databases: [lab]}\n  - {name: b, url: "${second.url}", databases: ["lab3*"]}\n`,
    );
    const backup = Buffer.alloc(200_000, 7).toString('base64');
    const body =
      '<?xml version="1.0"?><methodCall><methodName>restore</methodName><params>' +
      '<param><value><string>masterpw</string></value></param>' +
      '<param><value><string>lab3_restored</string></value></param>' +
      `<param><value><string>${backup}</string></value></param>` +
      '</params></methodCall>';
    await postRaw(`${s.bridge.url}/xmlrpc/2/db`, body, 'text/xml');
    const restores = (o: FakeOdoo) =>
      o.requests.filter((r) => r.path.startsWith('/web/database/restore')).length;
    expect(restores(first)).toBe(0);
    expect(restores(second)).toBe(1);
  });

  it('refuses db.rename of a frozen database before a native server sees it', async () => {
    legacy = await startLegacyOdoo('lab', { admin: [2, KEYS.labAdmin] });
    await withConfig(`frozen: [lab]\nupstreams:\n  - {name: old, url: "${legacy.url}", mode: native}\n`);
    const a = await xmlrpcCall(`${stack?.bridge.url}/xmlrpc/2/db`, 'rename', [
      'masterpw',
      'lab',
      'lab_renamed',
    ]);
    expect(a.fault?.faultString).toMatch(/^The database lab is frozen for an upgrade: db\.rename is refused/);
    expect(await legacy.requests()).toEqual([]);
  });
});
