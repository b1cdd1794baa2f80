/**
 * Writes an answer held in pooled chunks (protocol/chunk-pool.ts) to the client, and gives the
 * chunks back once the response is over: on its `close`, which comes after the last bytes were
 * handed to the OS, or after the connection was destroyed (its pending writes cancelled). Either
 * way nothing reads the chunks any more. The caller has written the head, with the Content-Length.
 */
import type { ServerResponse } from 'node:http';
import type { EncodedAnswer } from '../protocol/chunk-pool.ts';

export function sendChunks(res: ServerResponse, answer: EncodedAnswer): void {
  const { chunks } = answer;
  if (answer.pooled) res.once('close', answer.release);
  if (chunks.length === 1) {
    res.end(chunks[0]);
    return;
  }
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
  res.uncork();
}
