import { readFileSync } from 'fs';
import { join } from 'path';
import { Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { HostIngress } from '../../src';
import { synthHost } from '../util';

/** The Operations section of docs/single-host.md: the runbook an operator follows. */
const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'single-host.md'), 'utf8');
const runbook = doc.slice(doc.indexOf('## Operations'));

const plain = synthHost();
const withLoadBalancer = synthHost(undefined, (stack: Stack) => ({
  ingress: HostIngress.loadBalancer({
    domainName: 'claw.example.com',
    hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' }),
  }),
}));

describe('the operations runbook in docs/single-host.md', () => {
  test('exists and covers looking, alarms, updates, token rotation, restore and delete', () => {
    for (const heading of ['### Look at the gateway', '### What each alarm means', '### Update OpenClaw', '### Rotate the gateway token', '### Restore', '### Delete']) {
      expect(runbook).toContain(heading);
    }
  });

  test('every systemd unit it names is one the boot script installs', () => {
    const units = new Set(runbook.match(/\b[a-z][a-z-]*\.service\b/g));
    expect(units.size).toBeGreaterThanOrEqual(2);
    for (const unit of units) expect(plain.userData).toContain(`/etc/systemd/system/${unit} <<`);
  });

  test('every file path on the host it names is one the boot script writes or uses', () => {
    const paths = new Set(runbook.match(/\/(?:var\/log\/openclaw|home\/openclaw)[\w./-]*/g));
    expect(paths.size).toBeGreaterThanOrEqual(2);
    for (const path of paths) expect(plain.userData).toContain(path.replace(/\/$/, ''));
  });

  test('every log stream it names is one the CloudWatch agent writes', () => {
    const streams = new Set([...runbook.matchAll(/`<InstanceId>\/([a-z-]+)`/g)].map((m) => m[1]));
    expect([...streams].sort()).toEqual(['cloud-init', 'openclaw', 'setup']);
    for (const stream of streams) expect(plain.userData).toContain(`"log_stream_name":"{instance_id}/${stream}"`);
  });

  test('the backup bucket prefix it restores from is the one the daily backup writes', () => {
    expect(runbook).toContain('s3://<BackupBucket>/state/<InstanceId>/openclaw-<stamp>.tar.gz');
    expect(plain.userData).toContain('/state/$instance/openclaw-$stamp.tar.gz');
  });

  test('its alarm table lists exactly the alarms the host creates, load balancer ones included', () => {
    const table = runbook.slice(runbook.indexOf('### What each alarm means'), runbook.indexOf('### Update OpenClaw'));
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`(\w+)`/g)].map((n) => n[1])));
    const created = new Set([plain, withLoadBalancer].flatMap(({ host }) =>
      host.node.findChild('Monitoring').node.children.filter((c) => c.node.id !== 'Topic' && !c.node.id.endsWith('Filter')).map((c) => c.node.id)));
    expect([...documented].sort()).toEqual([...created].sort());
  });
});
