/**
 * Synthesizes every reference app into cdk.out/<app>/ and prints, per app: resources, unacknowledged cdk-nag
 * findings per pack, and the estimated monthly cost. Exits non-zero when any pack reports a finding.
 *
 *   npx projen synth:examples            # all apps
 *   npx projen synth:examples budget     # one app
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { REFERENCE_APPS } from './apps';
import { NAG_PACKS, costEstimates, runNagPacks } from './inspect';

const only = process.argv.slice(2);
const apps = REFERENCE_APPS.filter((a) => only.length === 0 || only.includes(a.name));
if (apps.length === 0) {
  console.error(`No reference app named ${only.join(', ')}; known: ${REFERENCE_APPS.map((a) => a.name).join(', ')}`);
  process.exit(2);
}

let failed = false;
const rows: string[][] = [['app', 'resources', ...NAG_PACKS.map((p) => p.name), 'USD/month']];
for (const ref of apps) {
  const outdir = path.join('cdk.out', ref.name);
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  const stack = ref.create(app, ref.stackId);
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template;
  const findings = runNagPacks(app);
  const cost = costEstimates(app).reduce((sum, c) => sum + c.totalMonthlyUsd, 0);
  const resources = String(Object.keys(template.Resources ?? {}).length);
  rows.push([ref.name, resources, ...NAG_PACKS.map((p) => String(findings[p.name].length)), cost.toFixed(2)]);
  for (const [pack, list] of Object.entries(findings)) {
    for (const f of list) {
      failed = true;
      console.error(`${ref.name}: ${pack}: ${f.rule} at ${f.path}: ${f.description}`);
    }
  }
}

const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(rows[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
rows.slice(1).forEach((r) => console.log(line(r)));
console.log('\nTemplates in cdk.out/<app>/. Columns under the pack names count unacknowledged cdk-nag findings. Costs are list-price estimates (docs/cost.md).');
if (failed) {
  console.error('\ncdk-nag reported findings: see above.');
  process.exit(1);
}
