/**
 * Synth time of the reference apps as a ratio to an empty-stack app, measured in one run so that the machine's
 * speed cancels out. Each app is synthesized `--rounds` times (default 5) after one warm-up; the median is used.
 *
 *   npx projen bench              # prints a table; --rounds=N to change the count
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { REFERENCE_APPS } from '../examples/ts/apps';

const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const rounds = roundsArg ? Number(roundsArg.split('=')[1]) : 5;

function synthOnce(build: (app: App) => void): number {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-bench-'));
  try {
    const start = process.hrtime.bigint();
    const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
    build(app);
    app.synth();
    return Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function median(build: (app: App) => void): number {
  synthOnce(build); // warm-up: module loading and JIT
  const times = Array.from({ length: rounds }, () => synthOnce(build)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const baseline = median((app) => new Stack(app, 'Empty'));
console.log(`synth time, median of ${rounds} rounds, as a ratio to an empty-stack app (${baseline.toFixed(1)} ms on this machine)`);
console.log('app          ratio');
for (const ref of REFERENCE_APPS) {
  const ms = median((app) => ref.create(app, ref.stackId));
  console.log(`${ref.name.padEnd(12)} ${(ms / baseline).toFixed(1)}x`);
}
