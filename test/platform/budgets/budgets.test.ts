import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { runNagPacks } from '../../../examples/ts/inspect';
import { BedrockAudit, BedrockAuditTrail, BudgetEnforcement, OpenClawTenantPlatform, OpenClawTenantPlatformProps, TenantBudgets } from '../../../src';
import {
  BLOCK_CONDITION_KEY, EMPTY_SLOT_VALUE, ENV_BEDROCK_ROLE_NAME, ENV_BLOCK_POLICY_ARNS, ENV_ENFORCEMENT, ENV_PRICES, ENV_THRESHOLDS,
  PriceTable, priceOf,
} from '../../../src/platform/budgets/contract';
import { resourcesOf, testApp } from '../../util';

const certificate = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'EdgeCertificate', 'arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555');

function synth(props: Partial<OpenClawTenantPlatformProps> = {}, build?: (stack: Stack) => Partial<OpenClawTenantPlatformProps>) {
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const platform = new OpenClawTenantPlatform(stack, 'Platform', {
    edge: { domainName: 'openclaw.example.com', certificate: certificate(stack) }, ...props, ...build?.(stack),
  });
  platform.addTenant('acme');
  const template = Template.fromStack(stack);
  return { app, stack, platform, template, json: template.toJSON() };
}

const base = synth();
const fn = () => resourcesOf(base.template, 'AWS::Lambda::Function').find(([id]) => /PlatformBudgetsFunction/.test(id))![1];
const env = () => fn().Properties.Environment.Variables;
const policyOf = (rolePattern: RegExp) => {
  const [, policy] = resourcesOf(base.template, 'AWS::IAM::Policy').find(([, p]) => rolePattern.test(JSON.stringify(p.Properties.Roles)))!;
  return Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
};
const role = (pattern: RegExp) => resourcesOf(base.template, 'AWS::IAM::Role').find(([id]) => pattern.test(id))![1];

describe('the Bedrock role: every call names its tenant', () => {
  test('only the tenant role may assume it, and only with its own namespace as the session name', () => {
    const trust = role(/^PlatformBedrockRole[0-9A-F]{8}$/).Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformTenantRole/), 'Arn'] } },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:RoleSessionName': '${aws:PrincipalTag/kubernetes-namespace}' } },
      },
      {
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformTenantRole/), 'Arn'] } },
        Action: 'sts:TagSession',
        Condition: { StringLike: { 'aws:PrincipalTag/kubernetes-namespace': 'openclaw-*' } },
      },
    ]);
  });

  test('sessions last at most an hour; a permissions boundary limits it to running and listing models', () => {
    const props = role(/^PlatformBedrockRole[0-9A-F]{8}$/).Properties;
    expect(props.MaxSessionDuration).toBe(3600);
    const [boundaryId, boundary] = resourcesOf(base.template, 'AWS::IAM::ManagedPolicy').find(([id]) => /BedrockRoleBoundary/.test(id))!;
    expect(props.PermissionsBoundary).toEqual({ Ref: boundaryId });
    const actions = boundary.Properties.PolicyDocument.Statement.flatMap((s: any) => s.Action);
    expect(actions.every((a: string) => /^bedrock:(Invoke|List|GetInferenceProfile)/.test(a))).toBe(true);
    expect(boundary.Properties.PolicyDocument.Statement.every((s: any) => s.Effect === 'Allow')).toBe(true);
  });

  test('it invokes only the allowed models; the tenant role itself can no longer call Bedrock', () => {
    const bedrock = policyOf(/PlatformBedrockRole[0-9A-F]{8}"/);
    const resources = JSON.stringify(bedrock.InvokeAllowedBedrockModels.Resource);
    expect(resources).toContain('inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(resources).not.toContain('"*"');
    const tenant = policyOf(/PlatformTenantRole/);
    expect(JSON.stringify(tenant)).not.toMatch(/bedrock:Invoke/);
    expect(tenant.CallBedrockAsOwnNamespace).toMatchObject({
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformBedrockRole/), 'Arn'] },
    });
  });

  test('the audit trail expects the Bedrock role as the caller', () => {
    const query = resourcesOf(base.template, 'AWS::Athena::NamedQuery').map(([, q]) => JSON.stringify(q.Properties.QueryString)).join('\n');
    expect(query).toMatch(/PlatformBedrockRole/);
  });
});

describe('budgets are on by default', () => {
  test('model invocation logging into CloudWatch Logs is turned on by the platform trail', () => {
    const [, logging] = resourcesOf(base.template, 'Custom::BedrockModelInvocationLogging')[0];
    expect(JSON.stringify(logging.Properties.Create)).toMatch(/PutModelInvocationLoggingConfiguration.*cloudWatchConfig/);
    expect(JSON.stringify(logging.Properties.Create)).toMatch(/textDataDeliveryEnabled\\":false/);
    expect(base.platform.budgets).toBeInstanceOf(TenantBudgets);
    expect(base.platform.budgets!.enforcement).toBe(BudgetEnforcement.BLOCK);
  });

  test('hourly, alert at 80 and 100 %, block at 100 %, the default prices, one run at a time', () => {
    base.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformBudgetsFunction'), 'Arn'] } })],
    });
    expect(env()[ENV_ENFORCEMENT]).toBe('BLOCK');
    expect(env()[ENV_THRESHOLDS]).toBe('80,100');
    expect(fn().Properties.ReservedConcurrentExecutions).toBe(1);
    const prices = JSON.parse(env()[ENV_PRICES]) as PriceTable;
    // Claude Sonnet 4.5: $3 / $15 per million through the global profile, 10 % more in a region or geography.
    expect(priceOf(prices, 'global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual({ input: 3000, output: 15000, cacheWrite: 3750, cacheRead: 300 });
    expect(priceOf(prices, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual({ input: 3300, output: 16500, cacheWrite: 4125, cacheRead: 330 });
    expect(env()[ENV_BEDROCK_ROLE_NAME]).toEqual({ Ref: expect.stringMatching(/^PlatformBedrockRole/) });
  });

  test('five block policies on the Bedrock role, each denying Bedrock to no one until the function writes them', () => {
    const slots = resourcesOf(base.template, 'AWS::IAM::ManagedPolicy').filter(([id]) => /PlatformBudgetsBlockPolicy/.test(id));
    expect(slots).toHaveLength(5);
    for (const [, slot] of slots) {
      expect(slot.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^PlatformBedrockRole/) }]);
      expect(slot.Properties.PolicyDocument.Statement).toEqual([{
        Sid: 'BudgetExhausted',
        Effect: 'Deny',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: '*',
        Condition: { StringEquals: { [BLOCK_CONDITION_KEY]: [EMPTY_SLOT_VALUE] } },
      }]);
    }
    expect(env()[ENV_BLOCK_POLICY_ARNS]['Fn::Join'][1].filter((p: any) => typeof p !== 'string')).toHaveLength(5);
  });

  test('the usage table is encrypted with the platform key, recoverable and retained', () => {
    base.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformKey'), 'Arn'] } },
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
  });

  test('alerts go to a topic encrypted with the platform key; the function\'s alarms to the platform topic', () => {
    const topic = resourcesOf(base.template, 'AWS::SNS::Topic').find(([id]) => /PlatformBudgetsTopic/.test(id))![1];
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] });
    expect(base.platform.budgets!.alarms).toHaveLength(3);
    for (const alarm of base.platform.budgets!.alarms) expect(base.platform.alarmArns).toContain(alarm.alarmArn);
  });

  test('a dashboard of the top 20 tenants by spend and by tokens', () => {
    const body = JSON.stringify(resourcesOf(base.template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body).toContain('SELECT MAX(MonthToDateSpendUsd) FROM SCHEMA(\\\\\\"OpenClaw/Budgets\\\\\\", Tenant) GROUP BY Tenant ORDER BY MAX() DESC LIMIT 20');
    expect(body).toContain('MonthToDateTokens');
  });
});

describe('the budget function can do only what it must', () => {
  const statements = () => policyOf(/PlatformBudgetsFunctionServiceRole/);

  test('IAM: only the five block policies\' versions, nothing on roles', () => {
    const s = statements().RewriteBlockPolicies;
    expect(s.Action).toEqual(['iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions', 'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion']);
    expect(s.Resource).toHaveLength(5);
    for (const r of s.Resource) expect(r).toEqual({ Ref: expect.stringMatching(/^PlatformBudgetsBlockPolicy/) });
    const all = Object.values(statements()).flatMap((st: any) => [st.Action].flat());
    expect(all.filter((a: string) => a.startsWith('iam:'))).toHaveLength(5);
  });

  test('Logs Insights on the invocation log group only; budgets from secret tags, never secret values', () => {
    expect(JSON.stringify(statements().QueryInvocationLogs.Resource)).toMatch(/BedrockAuditModelInvocationLoggingLogs/);
    expect(statements().ListTenantBudgets.Action).toBe('secretsmanager:ListSecrets');
    expect(JSON.stringify(statements())).not.toMatch(/GetSecretValue/);
  });

  test('publishes to the budget topic only', () => {
    expect(statements().PublishBudgetEvents.Resource).toEqual({ Ref: expect.stringMatching(/^PlatformBudgetsTopic/) });
  });
});

describe('options', () => {
  test('alert-only enforcement, a shorter interval, other thresholds, e-mail subscribers, own prices', () => {
    const { template, platform } = synth({
      allowedModelIds: ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'mistral.mistral-large-2407-v1:0'],
      budgets: {
        enforcement: BudgetEnforcement.ALERT,
        interval: Duration.minutes(15),
        alertThresholds: [50, 90, 100],
        alertEmails: ['finops@example.com'],
        prices: [{ modelId: 'mistral.mistral-large-2407-v1:0', inputPerMillionTokens: 2, outputPerMillionTokens: 6 }],
      },
    });
    expect(platform.budgets!.enforcement).toBe(BudgetEnforcement.ALERT);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'finops@example.com' });
    const variables = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => /PlatformBudgetsFunction/.test(id))![1].Properties.Environment.Variables;
    expect(variables[ENV_THRESHOLDS]).toBe('50,90,100');
    expect(variables[ENV_ENFORCEMENT]).toBe('ALERT');
    expect(JSON.parse(variables[ENV_PRICES])['mistral.mistral-large-2407-v1:0']).toEqual({ input: 2000, output: 6000, cacheRead: 2000, cacheWrite: 2000 });
  });

  test('a topic of your own', () => {
    const { template } = synth({}, (stack) => ({ budgets: { alertTopic: new sns.Topic(stack, 'Mine') } }));
    expect(resourcesOf(template, 'AWS::SNS::Topic').filter(([id]) => /PlatformBudgetsTopic/.test(id))).toHaveLength(0);
    const variables = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => /PlatformBudgetsFunction/.test(id))![1].Properties.Environment.Variables;
    expect(variables.BUDGET_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/^Mine/) });
  });

  test('budgets off: no function, no invocation logging, the Bedrock role stays', () => {
    const { template, platform } = synth({ budgets: { enabled: false } });
    expect(platform.budgets).toBeUndefined();
    expect(Object.keys(template.findResources('Custom::BedrockModelInvocationLogging'))).toHaveLength(0);
    expect(resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) => /Budgets/.test(id))).toHaveLength(0);
    expect(platform.bedrockRole).toBeDefined();
  });

  test('a trail of your own with invocation logging', () => {
    const { platform } = synth({}, (stack) => ({
      bedrockAudit: BedrockAudit.existingTrail(new BedrockAuditTrail(stack, 'Trail', { modelInvocationLogging: {} })),
    }));
    expect(platform.budgets).toBeDefined();
  });
});

describe('bad input fails at synth, naming the prop, the value and what is allowed', () => {
  test.each<[string, Partial<OpenClawTenantPlatformProps> | ((stack: Stack) => Partial<OpenClawTenantPlatformProps>), RegExp]>([
    ['a trail without invocation logging', (stack) => ({ bedrockAudit: BedrockAudit.existingTrail(new BedrockAuditTrail(stack, 'Trail')) }),
      /Platform: bedrockAudit must be a trail with modelInvocationLogging \(cloudWatchLogs on\), which budgets are measured from, or budgets: \{ enabled: false \}/],
    ['an interval under 5 minutes', { budgets: { interval: Duration.minutes(2) } }, /budgets.interval must be whole minutes from 5 minutes to 24 hours, got '2 minutes'/],
    ['thresholds out of order', { budgets: { alertThresholds: [100, 80] } }, /budgets.alertThresholds must be whole percentages from 1 to 1000, ascending, each once/],
    ['a fractional threshold', { budgets: { alertThresholds: [79.5] } }, /budgets.alertThresholds must be whole percentages/],
    ['a model without a price', { allowedModelIds: ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'mistral.mistral-large-2407-v1:0'] },
      /budgets.prices must be a price for every allowed model: add \{ modelId, inputPerMillionTokens, outputPerMillionTokens \} for it \(or for its model, for a cross-region profile\), got 'mistral.mistral-large-2407-v1:0'/],
    ['a price with four decimals', { budgets: { prices: [{ modelId: 'amazon.nova-micro-v1:0', inputPerMillionTokens: 0.0351, outputPerMillionTokens: 0.14 }] } },
      /budgets.prices\[0\].inputPerMillionTokens must be dollars per million tokens from 0 to 10000 with at most three decimals/],
    ['a negative price', { budgets: { prices: [{ modelId: 'amazon.nova-micro-v1:0', inputPerMillionTokens: 1, outputPerMillionTokens: -1 }] } },
      /budgets.prices\[0\].outputPerMillionTokens must be dollars per million tokens/],
    ['an ARN as model id', { budgets: { prices: [{ modelId: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0', inputPerMillionTokens: 1, outputPerMillionTokens: 1 }] } },
      /budgets.prices\[0\].modelId must be a literal Bedrock model or inference profile id such as amazon.nova-pro-v1:0 \(no ARN\)/],
    ['a model priced twice', { budgets: { prices: [0, 1].map(() => ({ modelId: 'amazon.nova-pro-v1:0', inputPerMillionTokens: 1, outputPerMillionTokens: 1 })) } },
      /budgets.prices\[1\].modelId must be each model id once/],
    ['an e-mail address that is not one', { budgets: { alertEmails: ['finops'] } }, /budgets.alertEmails/],
    ['options of disabled budgets', { budgets: { enabled: false, enforcement: BudgetEnforcement.ALERT } }, /budgets.enabled must be true \(the default\) when other budget options are given/],
  ])('%s', (_name, props, message) => {
    expect(() => (typeof props === 'function' ? synth({}, props) : synth(props))).toThrow(message);
  });
});

describe('cdk-nag', () => {
  test('reports nothing on the platform with budgets', () => {
    expect(Object.values(runNagPacks(base.app)).flat()).toEqual([]);
  });
});
