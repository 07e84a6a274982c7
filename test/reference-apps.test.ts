import { readFileSync } from 'fs';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { REFERENCE_APPS } from '../examples/ts/apps';
import { NAG_PACKS, costEstimates, runNagPacks } from '../examples/ts/inspect';

const root = join(__dirname, '..');
const costDoc = readFileSync(join(root, 'docs', 'cost.md'), 'utf8');

describe.each(REFERENCE_APPS.map((a) => [a.name, a] as const))('reference app %s', (name, ref) => {
  const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
  ref.create(app, ref.stackId);
  app.synth();
  const findings = runNagPacks(app);

  test.each(NAG_PACKS.map((p) => p.name))('cdk-nag %s reports no unacknowledged finding', (pack) => {
    expect(findings[pack]).toEqual([]);
  });

  test('docs/cost.md states its estimate, rounded to the dollar', () => {
    const row = new RegExp(`^\\| \`${name}\` \\|[^\\n]*\\| ~(\\d+) \\|$`, 'm').exec(costDoc);
    expect(row).not.toBeNull();
    const total = costEstimates(app).reduce((sum, c) => sum + c.totalMonthlyUsd, 0);
    expect(Number(row![1])).toBe(Math.round(total));
  });

  test('exists in Python and Java too, as a stack with the same id', () => {
    const python = readFileSync(join(root, 'examples', 'python', ref.pythonFile), 'utf8');
    expect(python).toContain(`(app, "${ref.stackId}")`);
    const java = readFileSync(join(root, 'examples', 'java', 'src', 'main', 'java', 'io', 'github', 'cdkopenclaw', 'examples', `${ref.javaClass}.java`), 'utf8');
    expect(java).toContain(`public class ${ref.javaClass} extends Stack`);
    expect(java).toContain(`(app, "${ref.stackId}")`);
  });
});
