import { App } from 'aws-cdk-lib';
import { REFERENCE_APPS } from '../examples/ts/apps';
import { NAG_PACKS, runNagPacks } from '../examples/ts/inspect';

describe.each(REFERENCE_APPS.map((a) => [a.name, a] as const))('reference app %s', (_name, ref) => {
  const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
  ref.create(app, ref.stackId);
  app.synth();
  const findings = runNagPacks(app);

  test.each(NAG_PACKS.map((p) => p.name))('cdk-nag %s reports no unacknowledged finding', (pack) => {
    expect(findings[pack]).toEqual([]);
  });
});
