import { CloudWatchClient, DeleteAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { AssociateKmsKeyCommand, CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateWebACLCommand, DeleteLoggingConfigurationCommand, DeleteWebACLCommand, GetWebACLCommand,
  PutLoggingConfigurationCommand, UpdateWebACLCommand, WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { AlarmsEvent, AlarmsProperties, WebAclProperties, deps, handler } from '../../src/edge/global-web-acl.lambda';

const waf = mockClient(WAFV2Client);
const logs = mockClient(CloudWatchLogsClient);
const ARN = 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/edge-acl/a1b2c3d4-0000-4000-8000-000000000001';

const props = (over: Partial<WebAclProperties> = {}): WebAclProperties => ({
  Name: 'edge-acl',
  Description: 'OpenClaw edge',
  RulesJson: JSON.stringify([
    { Name: 'RateLimitPerIp', Priority: 0, Action: { Block: {} }, Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP' } }, VisibilityConfig: {} },
    { Name: 'Mine', Priority: 100, Action: { Block: {} }, Statement: { ByteMatchStatement: { SearchString: '/admin', FieldToMatch: { UriPath: {} }, PositionalConstraint: 'STARTS_WITH', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } }, VisibilityConfig: {} },
  ]),
  MetricName: 'edge-acl',
  LogGroupName: 'aws-waf-logs-edge-acl',
  LogRetentionDays: '365',
  RedactedHeaders: ['authorization', 'cookie'],
  ...over,
});

const named = (name: string) => Object.assign(new Error(name), { name });

beforeEach(() => {
  waf.reset();
  logs.reset();
  deps.sleep = async () => undefined;
  waf.on(GetWebACLCommand).resolves({ LockToken: 'token-1' });
  waf.on(CreateWebACLCommand).resolves({ Summary: { ARN, Id: 'a1b2c3d4-0000-4000-8000-000000000001', LockToken: 'token-0' } });
});

describe('the us-east-1 web ACL handler', () => {
  test('create: a CLOUDFRONT web ACL with the rules (search strings as bytes), then a retained log group with redacted headers', async () => {
    const result = await handler({ RequestType: 'Create', ResourceProperties: props() });
    expect(result).toEqual({
      PhysicalResourceId: ARN,
      Data: { Arn: ARN, Id: 'a1b2c3d4-0000-4000-8000-000000000001', LogGroupName: 'aws-waf-logs-edge-acl', LogGroupArn: 'arn:aws:logs:us-east-1:111122223333:log-group:aws-waf-logs-edge-acl' },
    });
    const input = waf.commandCalls(CreateWebACLCommand)[0].args[0].input;
    expect(input).toEqual(expect.objectContaining({ Name: 'edge-acl', Scope: 'CLOUDFRONT', DefaultAction: { Allow: {} } }));
    expect(input.Rules![1].Statement!.ByteMatchStatement!.SearchString).toEqual(new TextEncoder().encode('/admin'));
    expect(input.VisibilityConfig).toEqual({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'edge-acl' });
    expect(logs.commandCalls(CreateLogGroupCommand)[0].args[0].input).toEqual({ logGroupName: 'aws-waf-logs-edge-acl', kmsKeyId: undefined });
    expect(logs.commandCalls(PutRetentionPolicyCommand)[0].args[0].input).toEqual({ logGroupName: 'aws-waf-logs-edge-acl', retentionInDays: 365 });
    expect(waf.commandCalls(PutLoggingConfigurationCommand)[0].args[0].input.LoggingConfiguration).toEqual({
      ResourceArn: ARN,
      LogDestinationConfigs: ['arn:aws:logs:us-east-1:111122223333:log-group:aws-waf-logs-edge-acl'],
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }],
    });
  });

  test('create: a log group left from an earlier web ACL is reused', async () => {
    logs.on(CreateLogGroupCommand).rejects(named('ResourceAlreadyExistsException'));
    await expect(handler({ RequestType: 'Create', ResourceProperties: props() })).resolves.toEqual(expect.objectContaining({ PhysicalResourceId: ARN }));
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  test('create: with a us-east-1 key the log group is encrypted with it, also when it already existed', async () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/0b1c2d3e-0000-4000-8000-000000000000';
    await handler({ RequestType: 'Create', ResourceProperties: props({ LogKmsKeyArn: key }) });
    expect(logs.commandCalls(CreateLogGroupCommand)[0].args[0].input).toEqual({ logGroupName: 'aws-waf-logs-edge-acl', kmsKeyId: key });
    logs.reset();
    logs.on(CreateLogGroupCommand).rejects(named('ResourceAlreadyExistsException'));
    await handler({ RequestType: 'Create', ResourceProperties: props({ LogKmsKeyArn: key }) });
    expect(logs.commandCalls(AssociateKmsKeyCommand)[0].args[0].input).toEqual({ logGroupName: 'aws-waf-logs-edge-acl', kmsKeyId: key });
  });

  test('create: when logging cannot be set up, the new web ACL is deleted before the error is reported (no orphan)', async () => {
    waf.on(PutLoggingConfigurationCommand).rejects(named('WAFLimitsExceededException'));
    waf.on(DeleteLoggingConfigurationCommand).rejects(named('WAFNonexistentItemException'));
    await expect(handler({ RequestType: 'Create', ResourceProperties: props() })).rejects.toThrow('WAFLimitsExceededException');
    expect(waf.commandCalls(DeleteWebACLCommand)[0].args[0].input).toEqual({ Name: 'edge-acl', Scope: 'CLOUDFRONT', Id: 'a1b2c3d4-0000-4000-8000-000000000001', LockToken: 'token-1' });
  });

  test('update: the same name updates in place with a fresh lock token, retried when another writer changed the web ACL', async () => {
    waf.on(UpdateWebACLCommand).rejectsOnce(named('WAFOptimisticLockException')).resolves({});
    waf.on(GetWebACLCommand).resolvesOnce({ LockToken: 'stale' }).resolves({ LockToken: 'fresh' });
    const result = await handler({ RequestType: 'Update', PhysicalResourceId: ARN, ResourceProperties: props(), OldResourceProperties: props({ RulesJson: '[]' }) });
    expect(result.PhysicalResourceId).toBe(ARN);
    expect(waf.commandCalls(UpdateWebACLCommand).map((c) => c.args[0].input.LockToken)).toEqual(['stale', 'fresh']);
    expect(waf.commandCalls(CreateWebACLCommand)).toHaveLength(0);
  });

  test('update: a new name creates a new web ACL (CloudFormation then deletes the old one)', async () => {
    const result = await handler({ RequestType: 'Update', PhysicalResourceId: 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/old/x', ResourceProperties: props(), OldResourceProperties: props({ Name: 'old' }) });
    expect(result.PhysicalResourceId).toBe(ARN);
    expect(waf.commandCalls(UpdateWebACLCommand)).toHaveLength(0);
  });

  test('update: logging switched off removes the logging configuration, and the log group stays', async () => {
    waf.on(UpdateWebACLCommand).resolves({});
    await handler({ RequestType: 'Update', PhysicalResourceId: ARN, ResourceProperties: props({ LogGroupName: undefined }), OldResourceProperties: props() });
    expect(waf.commandCalls(DeleteLoggingConfigurationCommand)[0].args[0].input).toEqual({ ResourceArn: ARN });
    expect(logs.calls()).toHaveLength(0);
  });

  test('delete: logging off, then the web ACL, waiting while CloudFront still holds it', async () => {
    waf.on(DeleteWebACLCommand).rejectsOnce(named('WAFAssociatedItemException')).rejectsOnce(named('WAFAssociatedItemException')).resolves({});
    const slept: number[] = [];
    deps.sleep = async (ms) => { slept.push(ms); };
    await expect(handler({ RequestType: 'Delete', PhysicalResourceId: ARN, ResourceProperties: props() })).resolves.toEqual({ PhysicalResourceId: ARN });
    expect(waf.commandCalls(DeleteLoggingConfigurationCommand)).toHaveLength(1);
    expect(waf.commandCalls(DeleteWebACLCommand)).toHaveLength(3);
    expect(slept).toEqual([15_000, 15_000]);
  });

  test('delete: a web ACL that is already gone counts as deleted; one held for too long fails the delete', async () => {
    waf.on(GetWebACLCommand).rejects(named('WAFNonexistentItemException'));
    waf.on(DeleteLoggingConfigurationCommand).rejects(named('WAFNonexistentItemException'));
    await expect(handler({ RequestType: 'Delete', PhysicalResourceId: ARN, ResourceProperties: props() })).resolves.toEqual({ PhysicalResourceId: ARN });

    waf.reset();
    waf.on(GetWebACLCommand).resolves({ LockToken: 't' });
    waf.on(DeleteWebACLCommand).rejects(named('WAFAssociatedItemException'));
    const wait = deps.associatedWaitMs;
    deps.associatedWaitMs = 0;
    try {
      await expect(handler({ RequestType: 'Delete', PhysicalResourceId: ARN, ResourceProperties: props() })).rejects.toThrow('WAFAssociatedItemException');
    } finally {
      deps.associatedWaitMs = wait;
    }
  });

  test('delete after a create that failed before any web ACL existed does nothing', async () => {
    await handler({ RequestType: 'Delete', PhysicalResourceId: 'failed-create', ResourceProperties: props() });
    expect(waf.calls()).toHaveLength(0);
  });
});

describe('the us-east-1 edge alarms handler', () => {
  const cw = mockClient(CloudWatchClient);
  const eb = mockClient(EventBridgeClient);
  const alarm = (name: string) => ({
    AlarmName: name,
    AlarmDescription: 'd',
    Namespace: 'AWS/WAFV2',
    MetricName: 'BlockedRequests',
    Dimensions: [{ Name: 'WebACL', Value: 'edge-acl' }, { Name: 'Rule', Value: 'ALL' }],
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 500,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  });
  const alarmProps = (over: Partial<AlarmsProperties> = {}): AlarmsProperties => ({
    AlarmsJson: JSON.stringify([alarm('edge-BlockedRequests'), alarm('edge-5xxErrorRate')]),
    AlarmArnPrefix: 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:',
    ForwardRuleName: 'edge-forward',
    TargetRegion: 'eu-west-1',
    TargetEventBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/default',
    ForwardRoleArn: 'arn:aws:iam::111122223333:role/forward',
    ...over,
  });
  const event = (RequestType: 'Create' | 'Update' | 'Delete', over: Partial<AlarmsProperties> = {}, old?: AlarmsProperties): AlarmsEvent => ({
    RequestType,
    ResourceType: 'Custom::OpenClawEdgeAlarms',
    PhysicalResourceId: RequestType === 'Create' ? undefined : 'edge-forward',
    ResourceProperties: alarmProps(over),
    OldResourceProperties: old,
  });

  beforeEach(() => {
    cw.reset();
    eb.reset();
  });

  test('create: the alarms without actions, and a rule forwarding their state changes to the stack region\'s default bus', async () => {
    const result = await handler(event('Create'));
    expect(cw.commandCalls(PutMetricAlarmCommand).map((c) => c.args[0].input.AlarmName)).toEqual(['edge-BlockedRequests', 'edge-5xxErrorRate']);
    for (const c of cw.commandCalls(PutMetricAlarmCommand)) expect(c.args[0].input.AlarmActions).toBeUndefined();
    const rule = eb.commandCalls(PutRuleCommand)[0].args[0].input;
    expect(JSON.parse(rule.EventPattern!)).toEqual({
      'source': ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      'resources': ['arn:aws:cloudwatch:us-east-1:111122223333:alarm:edge-BlockedRequests', 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:edge-5xxErrorRate'],
    });
    expect(eb.commandCalls(PutTargetsCommand)[0].args[0].input).toEqual({
      Rule: 'edge-forward',
      Targets: [{ Id: 'StackRegion', Arn: 'arn:aws:events:eu-west-1:111122223333:event-bus/default', RoleArn: 'arn:aws:iam::111122223333:role/forward' }],
    });
    expect(result).toEqual({ PhysicalResourceId: 'edge-forward', Data: { AlarmArns: expect.stringContaining('edge-5xxErrorRate') } });
    expect(waf.calls()).toHaveLength(0);
  });

  test('a stack in us-east-1 needs no forwarding: the state changes are on its default bus already', async () => {
    eb.on(RemoveTargetsCommand).rejects(named('ResourceNotFoundException'));
    eb.on(DeleteRuleCommand).rejects(named('ResourceNotFoundException'));
    await handler(event('Create', { TargetRegion: 'us-east-1', TargetEventBusArn: 'arn:aws:events:us-east-1:111122223333:event-bus/default' }));
    expect(cw.commandCalls(PutMetricAlarmCommand)).toHaveLength(2);
    expect(eb.commandCalls(PutRuleCommand)).toHaveLength(0);
  });

  test('update: alarms no longer defined are deleted', async () => {
    await handler(event('Update', { AlarmsJson: JSON.stringify([alarm('edge-BlockedRequests')]) }, alarmProps()));
    expect(cw.commandCalls(DeleteAlarmsCommand)[0].args[0].input).toEqual({ AlarmNames: ['edge-5xxErrorRate'] });
  });

  test('delete: the rule\'s target, the rule, then the alarms; a rule already gone is fine', async () => {
    eb.on(RemoveTargetsCommand).rejects(named('ResourceNotFoundException'));
    const result = await handler(event('Delete'));
    expect(eb.commandCalls(DeleteRuleCommand)[0].args[0].input).toEqual({ Name: 'edge-forward' });
    expect(cw.commandCalls(DeleteAlarmsCommand)[0].args[0].input).toEqual({ AlarmNames: ['edge-BlockedRequests', 'edge-5xxErrorRate'] });
    expect(result).toEqual({ PhysicalResourceId: 'edge-forward' });
  });
});
