/**
 * Shadow mode (BRIDGE_CONFIG upstreams, `shadow: <fraction>` on a translate upstream of Odoo
 * 19-21, which still serves the legacy endpoints): for that fraction of read-only object calls
 * (the retry policy's READ_ONLY_METHODS), once the client has its answer, the same call goes to
 * the upstream's own `/jsonrpc` (with the call's API key), and the two answers are compared
 * (src/server/shadow-diff.ts). This is how a team proves on its own traffic that the bridge
 * answers as Odoo's legacy endpoints do, before Odoo removes them.
 *
 * Never on a call that may write; never before the client's answer is written, so its answer and
 * its time are what they would be without shadow; at most MAX_RUNNING comparisons at once, the
 * others dropped (counted). Results: `odoo_bridge_shadow_total{outcome}` (match, mismatch, error,
 * dropped), the inventory's per-call-kind counts, and a log line with the differences of each
 * mismatch (paths and values, no secrets: the answers are records' data).
 */
import type { IncomingMessage } from 'node:http';
import { UPSTREAM_ERROR, type OdooFault } from '../errors.ts';
import { parseJsonValue } from '../protocol/json/parse.ts';
import { toPythonJson } from '../protocol/json/stringify.ts';
import type { LegacyCall, ServiceResult } from '../services/service.ts';
import { READ_ONLY_METHODS } from '../upstream/retry.ts';
import { isStruct, type Value } from '../values.ts';
import type { ServerCallContext as CallContext } from './parts.ts';
import { differences, valuesShown, type ShadowAnswer } from './shadow-diff.ts';

/** Comparisons running at once, at most. */
export const MAX_RUNNING = 8;
/** Answers larger than this are not compared (their JSON is read whole). */
const MAX_ANSWER_BYTES = 1 << 20;

export type ShadowOutcome = 'match' | 'mismatch' | 'error' | 'dropped';

export class Shadow {
  private running = 0;
  private readonly random: () => number;
  /** Told of each comparison's outcome (metrics). */
  onOutcome: ((o: ShadowOutcome) => void) | undefined;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /** After a translated call's answer is written: maybe compared (see the module comment). */
  after(
    ctx: CallContext,
    req: IncomingMessage,
    protocol: string,
    call: LegacyCall | undefined,
    result: ServiceResult | undefined,
    fault: OdooFault | undefined,
  ): void {
    const upstream = ctx.upstream;
    const fraction = upstream?.settings.shadow ?? 0;
    if (fraction <= 0 || !upstream || upstream.mode !== 'translate' || !call || call.service !== 'object')
      return;
    if (call.method !== 'execute_kw' && call.method !== 'execute') return;
    const method = ctx.notes.method;
    const apiKey = ctx.apiKey;
    if (method === undefined || !READ_ONLY_METHODS.has(method) || apiKey === undefined) return;
    if (this.random() >= fraction) return;
    const ours = answerOf(result, fault);
    if (!ours) return;
    if (this.running >= MAX_RUNNING) {
      this.onOutcome?.('dropped');
      return;
    }
    // The same legacy call, its password position holding the call's API key (a mapped login's
    // password is not Odoo's); as JSON-RPC, whatever the client spoke.
    const args = [...call.params];
    args[2] = apiKey;
    const body = `{"jsonrpc": "2.0", "method": "call", "params": {"service": "object", "method": ${toPythonJson(call.method)}, "args": ${toPythonJson(args)}}, "id": 1}`;
    const observation = {
      protocol,
      service: call.service,
      function: call.method,
      params: call.params,
      notes: ctx.notes,
      json2: undefined,
      fault: undefined,
      userAgent: req.headers['user-agent'],
      address: ctx.client,
    };
    this.running++;
    upstream.hold();
    void this.compare(ctx, body, ours)
      .then(
        ({ outcome, diff }) => {
          this.onOutcome?.(outcome);
          ctx.inventory.noteShadow(observation, outcome, diff.join('; '));
          if (outcome === 'mismatch')
            ctx.log.warn(
              {
                requestId: ctx.requestId,
                upstream: upstream.name,
                db: ctx.notes.db,
                model: ctx.notes.model,
                method,
                differences: diff,
              },
              'shadow mismatch: the upstream’s legacy endpoint answers this call differently',
            );
        },
        () => undefined,
      )
      .finally(() => {
        this.running--;
        upstream.release();
      });
  }

  private async compare(
    ctx: CallContext,
    body: string,
    ours: ShadowAnswer,
  ): Promise<{ outcome: 'match' | 'mismatch' | 'error'; diff: string[] }> {
    let theirs: ShadowAnswer | undefined;
    try {
      // Read up to MAX_ANSWER_BYTES: a larger answer fails the request (an error, not compared).
      const answer = await ctx.odoo.jsonrpc(body, ctx.requestId, MAX_ANSWER_BYTES);
      if (answer.status === 200) theirs = jsonRpcAnswerOf(answer.text);
    } catch {
      theirs = undefined;
    }
    if (!theirs) return { outcome: 'error', diff: [] };
    const diff = differences(ours, theirs, valuesShown(ctx.notes.model));
    return { outcome: diff.length === 0 ? 'match' : 'mismatch', diff };
  }
}

/** The bridge's answer as comparable; undefined when it is not (a stream, too large). */
function answerOf(result: ServiceResult | undefined, fault: OdooFault | undefined): ShadowAnswer | undefined {
  // The bridge's own failures (Odoo unreachable, slow, garbage) say nothing of the translation.
  if (fault && fault.pyName === UPSTREAM_ERROR) return undefined;
  if (fault) return { kind: 'fault', name: fault.pyName, message: fault.message };
  if (!result) return undefined;
  if (result.kind === 'value') return { kind: 'value', value: result.value };
  if (result.kind !== 'json' || result.bytes.length > MAX_ANSWER_BYTES) return undefined;
  try {
    return { kind: 'value', value: parseJsonValue(Buffer.concat(result.bytes.chunks).toString('utf8')) };
  } catch {
    return undefined;
  }
}

/** Odoo's JSON-RPC answer: its result, or its error's class and message; undefined when neither. */
function jsonRpcAnswerOf(text: string): ShadowAnswer | undefined {
  let doc: Value;
  try {
    doc = parseJsonValue(text);
  } catch {
    return undefined;
  }
  if (!isStruct(doc)) return undefined;
  if (doc.has('result')) return { kind: 'value', value: doc.get('result') ?? null };
  const error = doc.get('error');
  const data = isStruct(error) ? error.get('data') : undefined;
  if (!isStruct(data)) return undefined;
  return { kind: 'fault', name: String(data.get('name') ?? ''), message: String(data.get('message') ?? '') };
}
