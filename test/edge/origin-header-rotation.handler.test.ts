import { CloudFrontClient, GetDistributionConfigCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import {
  DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetWebACLCommand, UpdateWebACLCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { RotationEvent, acceptedValues, deps, handler } from '../../src/edge/origin-header-rotation.lambda';

const secrets = mockClient(SecretsManagerClient);
const waf = mockClient(WAFV2Client);
const cloudfront = mockClient(CloudFrontClient);
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:origin-header-AbCdEf';
const OLD = 'o'.repeat(48);
const NEW = 'n'.repeat(48);
const named = (name: string) => Object.assign(new Error(name), { name });
const event = (Step: RotationEvent['Step']): RotationEvent => ({ SecretId: SECRET, ClientRequestToken: 'v2', Step });
const headerRule = (values: string[]) => ({
  Name: 'RequireEdgeOriginHeader',
  Priority: 0,
  Action: { Block: {} },
  Statement: { NotStatement: { Statement: { ByteMatchStatement: { SearchString: new TextEncoder().encode(values[0]), FieldToMatch: { SingleHeader: { Name: 'x-openclaw-origin-verify' } }, PositionalConstraint: 'EXACTLY' as const, TextTransformations: [{ Priority: 0, Type: 'NONE' as const }] } } } },
  VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'h' },
});
const rateRule = { Name: 'RateLimit', Priority: 1, Action: { Block: {} }, Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP' as const } }, VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'r' } };

beforeEach(() => {
  secrets.reset();
  waf.reset();
  cloudfront.reset();
  deps.targets = () => ({ distributionId: 'E123', originId: 'openclaw-host-load-balancer', headerName: 'x-openclaw-origin-verify', webAclName: 'host-acl', webAclId: 'acl-id', ruleName: 'RequireEdgeOriginHeader' });
  secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } });
  secrets.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify({ current: OLD }) });
  secrets.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: 'v2' }).resolves({ SecretString: JSON.stringify({ current: NEW }) });
  waf.on(GetWebACLCommand).resolves({ LockToken: 'lock', WebACL: { Name: 'host-acl', Id: 'acl-id', ARN: 'arn', DefaultAction: { Allow: {} }, VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'acl' }, Rules: [headerRule([OLD]), rateRule] } });
  cloudfront.on(GetDistributionConfigCommand).resolves({
    ETag: 'etag-1',
    DistributionConfig: {
      CallerReference: 'c',
      Comment: '',
      Enabled: true,
      DefaultCacheBehavior: { TargetOriginId: 'openclaw-host-load-balancer', ViewerProtocolPolicy: 'redirect-to-https' },
      Origins: { Quantity: 1, Items: [{ Id: 'openclaw-host-load-balancer', DomainName: 'origin.example.com', CustomHeaders: { Quantity: 1, Items: [{ HeaderName: 'x-openclaw-origin-verify', HeaderValue: OLD }] } }] },
    } as any,
  });
});

describe('the origin header rotation', () => {
  test('createSecret: a new 48-character value staged AWSPENDING, once', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: 'v2' }).rejects(named('ResourceNotFoundException'));
    secrets.on(GetRandomPasswordCommand).resolves({ RandomPassword: NEW });
    await handler(event('createSecret'));
    expect(secrets.commandCalls(GetRandomPasswordCommand)[0].args[0].input).toEqual({ PasswordLength: 48, ExcludePunctuation: true });
    expect(secrets.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET, ClientRequestToken: 'v2', SecretString: JSON.stringify({ current: NEW }), VersionStages: ['AWSPENDING'] });

    secrets.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: 'v2' }).resolves({ SecretString: JSON.stringify({ current: NEW }) });
    secrets.resetHistory();
    await handler(event('createSecret'));
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  test('setSecret: the web ACL first accepts the old and the new value, then CloudFront sends the new one; other rules are untouched', async () => {
    const order: string[] = [];
    waf.on(UpdateWebACLCommand).callsFake(() => { order.push('web ACL accepts both'); return {}; });
    cloudfront.on(UpdateDistributionCommand).callsFake(() => { order.push('CloudFront sends the new value'); return {}; });
    await handler(event('setSecret'));
    expect(order).toEqual(['web ACL accepts both', 'CloudFront sends the new value']);
    const update = waf.commandCalls(UpdateWebACLCommand)[0].args[0].input;
    expect(update).toEqual(expect.objectContaining({ Name: 'host-acl', Scope: 'REGIONAL', Id: 'acl-id', LockToken: 'lock', DefaultAction: { Allow: {} } }));
    expect(acceptedValues(update.Rules![0])).toEqual([OLD, NEW]);
    expect(update.Rules![1]).toEqual(rateRule);
    const distribution = cloudfront.commandCalls(UpdateDistributionCommand)[0].args[0].input;
    expect(distribution.IfMatch).toBe('etag-1');
    expect(distribution.DistributionConfig!.Origins!.Items![0].CustomHeaders).toEqual({ Quantity: 1, Items: [{ HeaderName: 'x-openclaw-origin-verify', HeaderValue: NEW }] });
  });

  test('testSecret passes when the web ACL accepts the pending value and fails when it does not', async () => {
    await expect(handler(event('testSecret'))).rejects.toThrow('the web ACL does not accept the pending origin header value');
    waf.on(GetWebACLCommand).resolves({ LockToken: 'lock', WebACL: { Name: 'host-acl', Id: 'acl-id', ARN: 'arn', DefaultAction: { Allow: {} }, VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'acl' }, Rules: [{ ...headerRule([OLD]), Statement: { NotStatement: { Statement: { OrStatement: { Statements: [headerRule([OLD]).Statement.NotStatement.Statement, headerRule([NEW]).Statement.NotStatement.Statement] } } } } }] } });
    await expect(handler(event('testSecret'))).resolves.toBeUndefined();
  });

  test('finishSecret: the pending version becomes AWSCURRENT; already current is a no-op', async () => {
    await handler(event('finishSecret'));
    expect(secrets.commandCalls(UpdateSecretVersionStageCommand)[0].args[0].input).toEqual({ SecretId: SECRET, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v2', RemoveFromVersionId: 'v1' });
    secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v2: ['AWSCURRENT'] } });
    secrets.resetHistory();
    await handler(event('finishSecret'));
    expect(secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  test('a token that is not a version of the secret is refused', async () => {
    secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'] } });
    await expect(handler(event('setSecret'))).rejects.toThrow('version v2 is not a version of the secret');
    expect(waf.calls()).toHaveLength(0);
  });
});
