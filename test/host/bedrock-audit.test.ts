import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BedrockAudit, BedrockAuditTrail, SecureOpenClawHost } from '../../src';
import { resourcesOf, synthHost, testApp } from '../util';

const unexpectedCallersSql = (template: Template) => {
  const [, query] = resourcesOf(template, 'AWS::Athena::NamedQuery').find(([, q]) => q.Properties.Name === 'bedrock-calls-from-unexpected-principals')!;
  return JSON.stringify(query.Properties.QueryString);
};

describe('SecureOpenClawHost bedrockAudit', () => {
  test('no Bedrock audit trail unless asked for', () => {
    const { template, host } = synthHost();
    expect(resourcesOf(template, 'AWS::CloudTrail::Trail')).toEqual([]);
    expect(host.bedrockAuditTrail).toBeUndefined();
  });

  test('newTrail: a trail in the host, encrypted with the host key, notifying the host topic, with the host role as the expected caller', () => {
    const { template, host, stack } = synthHost({ bedrockAudit: BedrockAudit.newTrail() });
    const [, trail] = resourcesOf(template, 'AWS::CloudTrail::Trail')[0];
    const hostKey = stack.resolve((host.encryptionKey.node.defaultChild as any).logicalId);
    expect(trail.Properties.KMSKeyId).toEqual({ 'Fn::GetAtt': [hostKey, 'Arn'] });
    expect(resourcesOf(template, 'AWS::KMS::Key')).toHaveLength(1);
    const [, rule] = resourcesOf(template, 'AWS::Events::Rule').find(([id]) => id.includes('BedrockAuditTamperRule'))!;
    expect(rule.Properties.Targets[0].Arn).toEqual(stack.resolve(host.alarmTopic.topicArn));
    const roleId = stack.resolve((host.role.node.defaultChild as any).logicalId);
    expect(unexpectedCallersSql(template)).toContain(`{"Fn::GetAtt":["${roleId}","Arn"]}`);
    expect(host.bedrockAuditTrail!.node.path).toBe('Test/Host/BedrockAudit');
  });

  test('newTrail props are passed through and win over the host defaults', () => {
    const { host, template } = synthHost({ bedrockAudit: BedrockAudit.newTrail({ cloudWatchLogs: true, modelInvocationLogging: {} }) });
    expect(host.bedrockAuditTrail!.alarms.map((a) => a.node.id)).toEqual(['BedrockAccessDenied', 'TrailDeliveryStopped']);
    expect(resourcesOf(template, 'Custom::BedrockModelInvocationLogging')).toHaveLength(1);
  });

  test('existingTrail: one trail serves two hosts, and both roles are expected callers', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    const trail = new BedrockAuditTrail(stack, 'Audit');
    const a = new SecureOpenClawHost(stack, 'A', { bedrockAudit: BedrockAudit.existingTrail(trail) });
    const b = new SecureOpenClawHost(stack, 'B', { bedrockAudit: BedrockAudit.existingTrail(trail) });
    const template = Template.fromStack(stack);
    expect(resourcesOf(template, 'AWS::CloudTrail::Trail')).toHaveLength(1);
    const sql = unexpectedCallersSql(template);
    for (const host of [a, b]) expect(sql).toContain(stack.resolve((host.role.node.defaultChild as any).logicalId));
    expect(a.bedrockAuditTrail).toBe(trail);
    expect(resourcesOf(template, 'AWS::Athena::NamedQuery').filter(([, q]) => q.Properties.Name === 'bedrock-calls-from-unexpected-principals')).toHaveLength(1);
  });

  test('the cost estimate counts a trail the host creates, not one it shares', () => {
    const line = (host: SecureOpenClawHost) => host.estimatedMonthlyCost.items.find((i) => i.item.startsWith('CloudTrail (Bedrock audit trail)'));
    expect(line(synthHost({ bedrockAudit: BedrockAudit.newTrail() }).host)?.monthlyUsd).toBeCloseTo(2.02, 2);
    const stack = new Stack(testApp(), 'Test');
    const shared = new SecureOpenClawHost(stack, 'Host', { bedrockAudit: BedrockAudit.existingTrail(new BedrockAuditTrail(stack, 'Audit')) });
    expect(line(shared)).toBeUndefined();
    const withLogs = synthHost({ bedrockAudit: BedrockAudit.newTrail({ cloudWatchLogs: true }) }).host.estimatedMonthlyCost.items;
    expect(withLogs.map((i) => i.item)).toContain('CloudWatch Logs (trail copy, 2 alarms)');
  });
});
