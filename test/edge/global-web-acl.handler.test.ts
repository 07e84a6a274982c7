import { CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateWebACLCommand, DeleteLoggingConfigurationCommand, DeleteWebACLCommand, GetWebACLCommand,
  PutLoggingConfigurationCommand, UpdateWebACLCommand, WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { WebAclProperties, deps, handler } from '../../src/edge/global-web-acl.lambda';

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
    expect(logs.commandCalls(CreateLogGroupCommand)[0].args[0].input).toEqual({ logGroupName: 'aws-waf-logs-edge-acl' });
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
