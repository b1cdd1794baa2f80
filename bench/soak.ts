/**
 * The long soak (issue 7): `npm run soak -- --minutes 10 [--concurrency 8] [--fault-every-seconds 10]`.
 * Mixed legacy calls through the bridge with periodic upstream faults; prints a summary and
 * exits 1 when memory grew, sockets leaked, a write was sent twice or a fault went unexplained.
 * bench/soak-driver.ts has the checks; test/soak/soak-short.test.ts runs a 22 s version.
 */
import { parseArgs } from 'node:util';
import { LONG_SOAK, runSoak, summarize } from './soak-driver.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: String(LONG_SOAK.concurrency) },
    'fault-every-seconds': { type: 'string', default: String(LONG_SOAK.faultEveryMs / 1000) },
    'garbage-mb': { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});

const report = await runSoak({
  ...LONG_SOAK,
  durationMs: Number(values.minutes) * 60_000,
  concurrency: Number(values.concurrency),
  faultEveryMs: Number(values['fault-every-seconds']) * 1000,
  garbageBytes: Math.round(Number(values['garbage-mb']) * 2 ** 20),
  progress: (line) => console.log(line),
});
console.log(summarize(report));
if (values.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(values.json, JSON.stringify(report, null, 2));
}
process.exitCode = report.problems.length ? 1 : 0;
