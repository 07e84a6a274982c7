import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { HostIngress, SecureOpenClawHost } from '../../src';
import { ERROR_FILTER_PATTERN, RESTART_FILTER_PATTERN } from '../../src/host/monitoring';
import { resourcesOf, synthHost, testApp } from '../util';

/**
 * A model of CloudWatch Logs' unstructured filter patterns, as documented: terms separated by spaces must all
 * appear; a quoted term must appear as written; when every term starts with `?` any one of them is enough.
 * Matching is case-sensitive.
 */
function matches(pattern: string, line: string): boolean {
  const terms = pattern.match(/\?"[^"]*"|"[^"]*"|\S+/g) ?? [];
  const unquote = (t: string) => t.replace(/^\?/, '').replace(/^"(.*)"$/, '$1');
  const anyOf = terms.every((t) => t.startsWith('?'));
  return anyOf ? terms.some((t) => line.includes(unquote(t))) : terms.every((t) => line.includes(unquote(t)));
}

// Lines as `journalctl --output=short-iso` prints them for systemd and for the two services it follows.
const RESTART_LINE = '2026-11-21T10:04:11+0000 ip-10-0-1-20 systemd[1]: openclaw.service: Scheduled restart job, restart counter is at 3.';
const EXIT_LINE = '2026-11-21T10:04:06+0000 ip-10-0-1-20 systemd[1]: openclaw.service: Main process exited, code=exited, status=1/FAILURE';
const OTHER_UNIT_RESTART = '2026-11-21T10:04:11+0000 ip-10-0-1-20 systemd[1]: ollama.service: Scheduled restart job, restart counter is at 1.';
const STARTED_LINE = '2026-11-21T10:04:12+0000 ip-10-0-1-20 node[4242]: [gateway] listening on ws://127.0.0.1:18789';
const OLLAMA_ERROR = '2026-11-21T10:05:00+0000 ip-10-0-1-20 ollama[977]: time=2026-11-21T10:05:00Z level=ERROR source=server.go:612 msg="model load failed"';
const GATEWAY_ERROR = '2026-11-21T10:05:02+0000 ip-10-0-1-20 node[4242]: [bedrock] Error: AccessDeniedException: not authorized to invoke model';

describe('gateway journal alarms', () => {
  test('the restart filter counts systemd restarts of the gateway unit and nothing else', () => {
    expect(matches(RESTART_FILTER_PATTERN, RESTART_LINE)).toBe(true);
    expect(matches(RESTART_FILTER_PATTERN, EXIT_LINE)).toBe(false);
    expect(matches(RESTART_FILTER_PATTERN, OTHER_UNIT_RESTART)).toBe(false);
    expect(matches(RESTART_FILTER_PATTERN, STARTED_LINE)).toBe(false);
  });

  test('the error filter counts error lines of the gateway and Ollama, not normal lines', () => {
    expect(matches(ERROR_FILTER_PATTERN, OLLAMA_ERROR)).toBe(true);
    expect(matches(ERROR_FILTER_PATTERN, GATEWAY_ERROR)).toBe(true);
    expect(matches(ERROR_FILTER_PATTERN, STARTED_LINE)).toBe(false);
    expect(matches(ERROR_FILTER_PATTERN, RESTART_LINE)).toBe(false);
  });

  test('the restart filter names the unit the boot script installs and the journal forwarder follows', () => {
    const { userData } = synthHost();
    const unit = /openclaw\.service/.exec(RESTART_FILTER_PATTERN)![0];
    expect(userData).toContain(`cat > /etc/systemd/system/${unit} <<`);
    expect(userData).toMatch(new RegExp(`journalctl [^\\n]*-u ${unit.replace('.', '\\.')}`));
  });

  test.each([
    ['the private default', undefined],
    ['the budget public instance', { ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/24'] }) }],
  ])('%s shape, which has no load balancer, alarms on gateway restart loops and error bursts into the topic', (_name, props) => {
    const { template } = synthHost(props as any);
    const filters = resourcesOf(template, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    expect(filters.map((f) => f.FilterPattern).sort()).toEqual([ERROR_FILTER_PATTERN, RESTART_FILTER_PATTERN].sort());
    const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('HostLogs'))![0];
    for (const f of filters) expect(f.LogGroupName).toEqual({ Ref: logGroup });

    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const restart = alarms.find((a) => a.MetricName === 'GatewayRestarts');
    expect(restart).toEqual(expect.objectContaining({ Threshold: 3, Period: 900, Statistic: 'Sum', EvaluationPeriods: 1 }));
    const errors = alarms.find((a) => a.MetricName === 'GatewayErrorLines');
    expect(errors).toEqual(expect.objectContaining({ Threshold: 20, Period: 300, Statistic: 'Sum', EvaluationPeriods: 2 }));
    const topic = resourcesOf(template, 'AWS::SNS::Topic')[0][0];
    for (const a of [restart, errors]) expect(a.AlarmActions).toEqual([{ Ref: topic }]);
    // The alarm reads the metric the filter writes.
    const restartFilter = filters.find((f) => f.FilterPattern === RESTART_FILTER_PATTERN);
    expect(restartFilter.MetricTransformations[0]).toEqual(expect.objectContaining({
      MetricName: 'GatewayRestarts', MetricNamespace: restart.Namespace, MetricValue: '1', DefaultValue: 0,
    }));
  });

  test('two hosts in one account write their journal metrics to different namespaces', () => {
    const app = testApp();
    const stack = new Stack(app, 'Two');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    new SecureOpenClawHost(stack, 'A', { vpc });
    new SecureOpenClawHost(stack, 'B', { vpc });
    const namespaces = new Set(resourcesOf(Template.fromStack(stack), 'AWS::Logs::MetricFilter')
      .map(([, f]) => f.Properties.MetricTransformations[0].MetricNamespace));
    expect(namespaces.size).toBe(2);
    for (const ns of namespaces) expect(ns).toMatch(/^OpenClaw\/[A-Za-z0-9-]+$/);
  });
});
