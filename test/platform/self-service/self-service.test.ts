import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { runNagPacks } from '../../../examples/ts/inspect';
import { OpenClawTenantPlatform, OpenClawTenantPlatformProps } from '../../../src/platform/platform';
import { SelfServiceOptions } from '../../../src/platform/self-service/self-service';
import { resourcesOf, testApp } from '../../util';

const DOMAIN = 'openclaw.example.com';

function synth(selfService: SelfServiceOptions = { allowedEmailDomains: ['example.com'] }, props: Partial<OpenClawTenantPlatformProps> = {}) {
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const certificate = acm.Certificate.fromCertificateArn(stack, 'EdgeCertificate', 'arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555');
  const platform = new OpenClawTenantPlatform(stack, 'Platform', { edge: { domainName: DOMAIN, certificate }, selfService, ...props });
  const template = Template.fromStack(stack);
  return { app, stack, platform, template, json: template.toJSON() };
}

/** The function whose description starts with the given words, and its logical id. */
function fn(json: any, description: string): [string, any] {
  const found = Object.entries(json.Resources).filter(([, r]: [string, any]) =>
    r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith(`OpenClaw self-service: ${description}`));
  if (found.length !== 1) throw new Error(`expected one function "${description}", found ${found.length}`);
  return found[0] as [string, any];
}

/** Every statement of the inline policies attached to a function's role. */
function statementsOf(json: any, fnLogicalId: string): any[] {
  const roleRef = json.Resources[fnLogicalId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(json.Resources)
    .filter((r: any) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleRef}"`))
    .flatMap((r: any) => r.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat()).sort();

const base = synth();

describe('the user pool', () => {
  test('e-mail sign-in with verification, 12-character passwords of four kinds, threat protection enforced', () => {
    base.template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      UserPoolTier: 'PLUS',
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  test('TOTP MFA optional by default, required with mfaRequired; never SMS', () => {
    base.template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OPTIONAL', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
    synth({ mfaRequired: true }).template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
  });

  test('deletion protection on and retained when the stack goes', () => {
    base.template.hasResource('AWS::Cognito::UserPool', {
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('self sign-up only with allowed e-mail domains; without them administrators create users', () => {
    base.template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: false } });
    synth({}).template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
  });

  test('the pre-sign-up and post-confirmation triggers are the self-service functions', () => {
    const pool = resourcesOf(base.template, 'AWS::Cognito::UserPool')[0][1];
    const [preId] = fn(base.json, 'allowed e-mail domains');
    const [postId] = fn(base.json, 'queue the provisioning');
    expect(pool.Properties.LambdaConfig.PreSignUp['Fn::GetAtt'][0]).toBe(preId);
    expect(pool.Properties.LambdaConfig.PostConfirmation['Fn::GetAtt'][0]).toBe(postId);
  });
});

describe('the sign-in page\'s app client', () => {
  test('no secret, password sign-in only, no OAuth flows, no hosted UI', () => {
    const client = resourcesOf(base.template, 'AWS::Cognito::UserPoolClient')[0][1].Properties;
    expect(client.GenerateSecret).toBe(false);
    expect(client.ExplicitAuthFlows).toEqual(['ALLOW_USER_PASSWORD_AUTH']);
    expect(client.AllowedOAuthFlows).toBeUndefined();
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
  });

  test('short tokens: 15-minute access and ID tokens, a 12-hour session by default, rotated and revocable refresh tokens', () => {
    base.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AccessTokenValidity: 15,
      IdTokenValidity: 15,
      RefreshTokenValidity: 720,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
      RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 10 },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
    synth({ sessionDuration: Duration.days(1) }).template.hasResourceProperties('AWS::Cognito::UserPoolClient', { RefreshTokenValidity: 1440 });
  });
});

describe('sign-up checks', () => {
  test('the pre-sign-up function gets the allowed domains, 5 sign-ups per domain per hour and the cap of 100 tenants by default', () => {
    const [, pre] = fn(base.json, 'allowed e-mail domains');
    expect(pre.Properties.Environment.Variables).toMatchObject({ ALLOWED_DOMAINS: 'example.com', SIGNUPS_PER_DOMAIN_PER_HOUR: '5', MAX_TENANTS: '100' });
    const custom = synth({ allowedEmailDomains: ['example.com', 'example.org'], signUpsPerDomainPerHour: 2, maxTenants: 7 });
    expect(fn(custom.json, 'allowed e-mail domains')[1].Properties.Environment.Variables)
      .toMatchObject({ ALLOWED_DOMAINS: 'example.com,example.org', SIGNUPS_PER_DOMAIN_PER_HOUR: '2', MAX_TENANTS: '7' });
  });

  test('the pre-sign-up function may only count sign-ups and read the tenant count', () => {
    const [id] = fn(base.json, 'allowed e-mail domains');
    expect(actionsOf(statementsOf(base.json, id))).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });

  test('sign-up counters expire by themselves (TTL); the tenant table is retained, deletion-protected, with point-in-time recovery', () => {
    base.template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
    base.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }) }),
      DeletionPolicy: 'Retain',
    });
  });
});

describe('provisioning', () => {
  test('a key-encrypted queue, one message at a time, at most two functions at once, five attempts then the dead-letter queue', () => {
    const queues = resourcesOf(base.template, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    for (const [, q] of queues) expect(q.Properties.KmsMasterKeyId).toBeDefined();
    base.template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 5 }, VisibilityTimeout: 720 });
    const [id] = fn(base.json, 'provisions a user\'s tenant');
    base.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id }, BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test('a message in the dead-letter queue raises an alarm on the platform topic', () => {
    const alarm = resourcesOf(base.template, 'AWS::CloudWatch::Alarm').find(([id]) => id.includes('ProvisioningFailedAlarm'))![1];
    expect(alarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('PlatformAlarmTopic');
    expect(JSON.stringify(alarm.Properties.Dimensions)).toContain('ProvisioningDeadLetters');
  });

  test('the provisioner creates only gateway tokens tagged as self-service and passes only the tenant role', () => {
    const [id] = fn(base.json, 'provisions a user\'s tenant');
    const statements = statementsOf(base.json, id);
    const create = statements.find((s) => s.Sid === 'CreateTaggedTokens');
    expect(create.Condition).toEqual({ StringEquals: { 'aws:RequestTag/openclaw:provisioned-by': 'self-service' } });
    expect(JSON.stringify(create.Resource)).toContain(':secret:openclaw/*/gateway-token-??????');
    // Its TagResource (for CreateSecret's tags) never re-tags a code-declared tenant's token as self-service.
    const retag = statements.find((s) => s.Sid === 'NeverRetagOtherTokens');
    expect(retag).toMatchObject({
      Effect: 'Deny',
      Action: 'secretsmanager:TagResource',
      Condition: {
        Null: { 'aws:ResourceTag/tenant-namespace': 'false' },
        StringNotEquals: { 'aws:ResourceTag/openclaw:provisioned-by': 'self-service' },
      },
    });
    expect(retag.Resource).toEqual(create.Resource);
    const pass = statements.find((s) => s.Sid === 'PassOnlyTheTenantRole');
    expect(JSON.stringify(pass.Resource)).toMatch(/PlatformTenantRole[0-9A-F]{8}/);
    expect(statements.some((s) => [s.Resource].flat().includes('*'))).toBe(false);
  });

  test('the handlers that change tenants reach the cluster through access entries of one Kubernetes group, bound to a narrow role', () => {
    const entries = resourcesOf(base.template, 'AWS::EKS::AccessEntry').filter(([, e]) => JSON.stringify(e.Properties.KubernetesGroups ?? []).includes('openclaw:provisioners'));
    expect(entries).toHaveLength(3);
    for (const [, e] of entries) {
      expect(e.Properties.KubernetesGroups).toEqual(['openclaw:provisioners']);
      expect(e.Properties.AccessPolicies).toBeUndefined();
    }
    const roles = entries.map(([, e]) => e.Properties.PrincipalArn['Fn::GetAtt'][0]).sort();
    const expected = ['provisions a user\'s tenant', 'rotates a tenant', 'removes a tenant']
      .map((d) => fn(base.json, d)[1].Properties.Role['Fn::GetAtt'][0]).sort();
    expect(roles).toEqual(expected);
  });

  test('the provisioner gets the platform spec in its environment well under Lambda\'s 4 KB limit', () => {
    const [, provision] = fn(base.json, 'provisions a user\'s tenant');
    const size = JSON.stringify(provision.Properties.Environment.Variables).length;
    expect(size).toBeLessThan(3500);
    expect(JSON.stringify(provision.Properties.Environment.Variables.PLATFORM_SPEC)).toContain('storageClassName');
  });
});

describe('gateway tokens', () => {
  test('Secrets Manager may invoke the rotation function, which rotates only self-service tokens', () => {
    const [id] = fn(base.json, 'rotates a tenant');
    base.template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [id, 'Arn'] }, Principal: 'secretsmanager.amazonaws.com' });
    const rotate = statementsOf(base.json, id).find((s) => s.Sid === 'RotateSelfServiceTokens');
    expect(rotate.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/openclaw:provisioned-by': 'self-service' } });
  });

  test('every statement of the self-service functions on gateway tokens, but creating one, requires the self-service tag on the token', () => {
    const roles = ['provisions a user\'s tenant', 'rotates a tenant', 'a signed-in user', 'removes a tenant'].map((d) => fn(base.json, d)[0]);
    const onTokens = roles.flatMap((id) => statementsOf(base.json, id))
      .filter((s) => JSON.stringify(s.Resource).includes(':secret:openclaw/*/gateway-token-??????'));
    const allows = onTokens.filter((s) => s.Effect === 'Allow' && s.Sid !== 'CreateTaggedTokens');
    expect(allows.map((s) => s.Sid).sort()).toEqual(['ManageOwnTokens', 'ReadAndRotateOwnTokens', 'RotateSelfServiceTokens', 'ScheduleTokenDeletion']);
    for (const s of allows) expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/openclaw:provisioned-by': 'self-service' } });
  });

  test('provisioning schedules rotation every 30 days by default (tokenRotation)', () => {
    expect(fn(base.json, 'provisions a user\'s tenant')[1].Properties.Environment.Variables.ROTATION_DAYS).toBe('30');
    expect(fn(synth({ tokenRotation: Duration.days(7) }).json, 'provisions a user\'s tenant')[1].Properties.Environment.Variables.ROTATION_DAYS).toBe('7');
  });
});

describe('the session API and the sign-in page on the edge', () => {
  test('the session function is reached only through CloudFront (function URL with IAM auth and origin access control)', () => {
    const [id] = fn(base.json, 'a signed-in user');
    base.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [id, 'Arn'] } });
    base.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 'lambda' }) });
    const dist = resourcesOf(base.template, 'AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;
    const api = dist.CacheBehaviors.find((b: any) => b.PathPattern === '/api/session');
    expect(api).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad' });
  });

  test('the sign-in page comes from a private bucket through origin access control, with a strict content security policy', () => {
    const dist = resourcesOf(base.template, 'AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;
    const page = dist.CacheBehaviors.find((b: any) => b.PathPattern === '/auth/*');
    expect(page.AllowedMethods).toEqual(['GET', 'HEAD']);
    base.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3' }) });
    const policies = resourcesOf(base.template, 'AWS::CloudFront::ResponseHeadersPolicy').map(([, p]) => p.Properties.ResponseHeadersPolicyConfig);
    const withCsp = policies.find((p) => p.SecurityHeadersConfig.ContentSecurityPolicy)!;
    const csp = withCsp.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy;
    const text = JSON.stringify(csp);
    for (const directive of ['default-src \'self\'', 'script-src \'self\'', 'style-src \'self\'', 'frame-ancestors \'none\'', 'object-src \'none\'', 'base-uri \'none\'']) {
      expect(text).toContain(directive);
    }
    expect(text).not.toContain('unsafe');
  });

  test('the page\'s config.json names this pool, this client and the session path', () => {
    const deployment = resourcesOf(base.template, 'Custom::CDKBucketDeployment')[0][1].Properties;
    expect(deployment.DestinationBucketKeyPrefix).toBe('auth/');
    const markers = JSON.stringify(deployment.SourceMarkers ?? deployment);
    expect(markers).toMatch(/UserPool/);
    expect(base.platform.selfService!.signInUrl).toContain('/auth/');
  });

  test('the sign-in page\'s bucket keeps the files a deployment replaced for 30 days, not for ever', () => {
    const [, bucket] = resourcesOf(base.template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('PlatformSelfServiceSignInPage'))!;
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([{
      Id: 'ExpireReplacedPageFiles',
      Status: 'Enabled',
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    }]);
  });
});

describe('removing a tenant', () => {
  test('the state machine signs out, stops the gateway, exports, verifies, and only then removes', () => {
    const machine = resourcesOf(base.template, 'AWS::StepFunctions::StateMachine')[0][1].Properties;
    const parts = machine.DefinitionString['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : '<token>')).join('');
    const definition = JSON.parse(parts);
    const order: string[] = [];
    let state = definition.StartAt;
    while (state) {
      order.push(state);
      state = definition.States[state].Next;
    }
    expect(order).toEqual(['Begin', 'StopGateway', 'ExportFiles', 'VerifyExport', 'Remove', 'Removed']);
    expect(definition.States.ExportFiles.ResultPath).toBe('$.export');
    expect(machine.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.LoggingConfiguration.Level).toBe('ALL');
  });

  test('the export function mounts the tenants\' directory read-only: it may mount, never write', () => {
    const [id, exportFn] = fn(base.json, 'exports a removed tenant');
    expect(exportFn.Properties.FileSystemConfigs[0].LocalMountPath).toBe('/mnt/tenants');
    const efsActions = actionsOf(statementsOf(base.json, id)).filter((a) => a.startsWith('elasticfilesystem:'));
    expect(efsActions).toEqual(['elasticfilesystem:ClientMount']);
    base.template.hasResourceProperties('AWS::EFS::AccessPoint', { RootDirectory: { Path: '/tenants' }, PosixUser: { Uid: '1000', Gid: '1000' } });
    const fsPolicy = resourcesOf(base.template, 'AWS::EFS::FileSystem')[0][1].Properties.FileSystemPolicy.Statement;
    expect(JSON.stringify(fsPolicy)).not.toContain('ExportServiceRole');
    const mount = statementsOf(base.json, id).find((s) => [s.Action].flat().includes('elasticfilesystem:ClientMount'));
    expect(JSON.stringify(mount.Condition)).toContain('ExportAccessPoint');
  });

  test('exports go to a retained, key-encrypted bucket; the remover may only read them', () => {
    const [id] = fn(base.json, 'removes a tenant');
    const s3Actions = actionsOf(statementsOf(base.json, id)).filter((a) => a.startsWith('s3:'));
    expect(s3Actions.every((a) => a.startsWith('s3:Get') || a.startsWith('s3:List'))).toBe(true);
    expect(s3Actions).not.toContain('s3:DeleteObject');
  });
});

describe('bad input fails at synth, naming the prop', () => {
  test.each([
    [{ allowedEmailDomains: ['not a domain'] }, /selfService\.allowedEmailDomains must be lower-case e-mail domains such as example\.com, got 'not a domain'/],
    [{ allowedEmailDomains: ['localhost'] }, /selfService\.allowedEmailDomains.*localhost/],
    [{ signUpsPerDomainPerHour: 0 }, /selfService\.signUpsPerDomainPerHour/],
    [{ maxTenants: 0 }, /selfService\.maxTenants/],
    [{ tokenRotation: Duration.hours(12) }, /selfService\.tokenRotation.*whole number of days from 1 to 365/],
    [{ tokenRotation: Duration.days(400) }, /selfService\.tokenRotation/],
    [{ sessionDuration: Duration.minutes(30) }, /selfService\.sessionDuration.*from 1 hour to 30 days/],
    [{ secretRecoveryWindow: Duration.days(3) }, /selfService\.secretRecoveryWindow.*7 to 30/],
  ])('%j is refused', (options, message) => {
    expect(() => synth(options as SelfServiceOptions)).toThrow(message);
  });
});

test('cdk-nag reports nothing', () => {
  expect(Object.values(runNagPacks(base.app)).flat()).toEqual([]);
});

test('the platform without selfService has no user pool, no queue and no extra behaviour on the edge', () => {
  const app = testApp();
  const stack = new Stack(app, 'Test');
  new OpenClawTenantPlatform(stack, 'Platform', {});
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Cognito::UserPool', 0);
  template.resourceCountIs('AWS::SQS::Queue', 0);
  const dist = resourcesOf(template, 'AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;
  expect(dist.CacheBehaviors).toBeUndefined();
});
