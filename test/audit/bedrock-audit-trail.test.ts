import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NAG_PACKS, runNagPacks } from '../../examples/ts/inspect';
import { AuditObjectLockMode, BedrockAuditTrail, BedrockAuditTrailProps } from '../../src';
import { resourcesOf, testApp } from '../util';

function synth(props?: BedrockAuditTrailProps) {
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const audit = new BedrockAuditTrail(stack, 'Audit', props);
  const template = Template.fromStack(stack);
  const [trailId, trail] = resourcesOf(template, 'AWS::CloudTrail::Trail')[0];
  return { app, stack, audit, template, trailId, trail: trail.Properties };
}

describe('BedrockAuditTrail with no props', () => {
  const { template, trail, audit } = synth();

  test('one multi-region trail with log file validation, logging, encrypted with the construct key', () => {
    expect(trail).toEqual(expect.objectContaining({
      IsLogging: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      KMSKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^AuditKey/), 'Arn'] },
      S3BucketName: { Ref: expect.stringMatching(/^AuditBucket/) },
    }));
    expect(trail.EventSelectors).toBeUndefined();
  });

  test('records management events (where Bedrock model calls are) without KMS and RDS Data, and no data events', () => {
    expect(trail.AdvancedEventSelectors).toEqual([{
      Name: expect.any(String),
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Management'] },
        { Field: 'eventSource', NotEquals: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] },
      ],
    }]);
  });

  test('only CloudTrail, and only for this trail, may write to the bucket and encrypt with the key', () => {
    const [, policy] = resourcesOf(template, 'AWS::S3::BucketPolicy').find(([id]) => id.startsWith('AuditBucketPolicy'))!;
    const byCloudTrail = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Principal?.Service === 'cloudtrail.amazonaws.com');
    expect(byCloudTrail.map((s: any) => s.Action).sort()).toEqual(['s3:GetBucketAcl', 's3:PutObject']);
    for (const s of byCloudTrail) expect(JSON.stringify(s.Condition.StringEquals['aws:SourceArn'])).toContain(':trail/');
    const [, key] = resourcesOf(template, 'AWS::KMS::Key')[0];
    const keyByCloudTrail = key.Properties.KeyPolicy.Statement.filter((s: any) => s.Principal?.Service === 'cloudtrail.amazonaws.com');
    expect(keyByCloudTrail.map((s: any) => s.Action).sort()).toEqual(['kms:DescribeKey', 'kms:GenerateDataKey*']);
    expect(JSON.stringify(keyByCloudTrail)).not.toContain('kms:Decrypt');
    for (const s of keyByCloudTrail) expect(s.Condition.StringEquals['aws:SourceArn']).toBeDefined();
    expect(audit.trailArn).toContain(':trail/');
  });

  test('the log bucket is versioned, SSE-KMS, access-logged, retained, and ages files to IA at 30 days, Glacier at 90, gone after 7 years', () => {
    const [, bucket] = resourcesOf(template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AuditBucket'))!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(bucket.Properties.LoggingConfiguration).toEqual(expect.objectContaining({ LogFilePrefix: 'audit-trail/' }));
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    const rule = bucket.Properties.LifecycleConfiguration.Rules[0];
    expect(rule.Transitions).toEqual([
      { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
      { StorageClass: 'GLACIER', TransitionInDays: 90 },
    ]);
    expect(rule.ExpirationInDays).toBe(2555);
  });

  test('no CloudWatch Logs copy unless asked for', () => {
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')).toHaveLength(0);
    expect(trail.CloudWatchLogsLogGroupArn).toBeUndefined();
  });
});

describe('BedrockAuditTrail options', () => {
  test('each Bedrock data event type gets a selector of its own', () => {
    const { trail } = synth({ dataEventResourceTypes: ['AWS::Bedrock::KnowledgeBase', 'AWS::BedrockMantle::Project'] });
    expect(trail.AdvancedEventSelectors.slice(1)).toEqual([
      { Name: expect.any(String), FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::Bedrock::KnowledgeBase'] }] },
      { Name: expect.any(String), FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::BedrockMantle::Project'] }] },
    ]);
  });

  test('data events only: managementEvents false leaves just the data selectors', () => {
    const { trail } = synth({ managementEvents: false, dataEventResourceTypes: BedrockAuditTrail.BEDROCK_DATA_EVENT_TYPES });
    expect(trail.AdvancedEventSelectors).toHaveLength(BedrockAuditTrail.BEDROCK_DATA_EVENT_TYPES.length);
    expect(JSON.stringify(trail.AdvancedEventSelectors)).not.toContain('Management');
  });

  test('objectLock: compliance mode with the retention as the bucket default', () => {
    const { template } = synth({
      objectLock: { mode: AuditObjectLockMode.COMPLIANCE, retention: Duration.days(400) },
      expiration: Duration.days(400),
    });
    const [, bucket] = resourcesOf(template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AuditBucket'))!;
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(bucket.Properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } } });
  });

  test('cloudWatchLogs: an encrypted log group and a role that may write only CloudTrail streams of it', () => {
    const { template, trail, audit } = synth({ cloudWatchLogs: true, logRetention: logs.RetentionDays.THREE_MONTHS });
    const [groupId, group] = resourcesOf(template, 'AWS::Logs::LogGroup')[0];
    expect(group.Properties).toEqual(expect.objectContaining({ RetentionInDays: 90, KmsKeyId: expect.anything() }));
    expect(trail.CloudWatchLogsLogGroupArn).toEqual({ 'Fn::GetAtt': [groupId, 'Arn'] });
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy')[0];
    expect(JSON.stringify(policy.Properties.PolicyDocument.Statement[0].Resource)).toContain('_CloudTrail_*');
    expect(audit.logGroup).toBeDefined();
  });

  test.each([
    ['defaults', undefined],
    ['every option', { cloudWatchLogs: true, dataEventResourceTypes: BedrockAuditTrail.BEDROCK_DATA_EVENT_TYPES, objectLock: { mode: AuditObjectLockMode.GOVERNANCE, retention: Duration.days(30) } }],
  ])('cdk-nag packs report no unacknowledged finding (%s)', (_name, props) => {
    const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
    new BedrockAuditTrail(new Stack(app, 'Test'), 'Audit', props as BedrockAuditTrailProps | undefined);
    app.synth();
    const findings = runNagPacks(app);
    for (const pack of NAG_PACKS) expect(findings[pack.name]).toEqual([]);
  });
});

describe('BedrockAuditTrail bad input fails at synth, naming the prop', () => {
  test.each<[string, BedrockAuditTrailProps, RegExp]>([
    ['a data event type that is not Bedrock\'s', { dataEventResourceTypes: ['AWS::S3::Object'] }, /Test\/Audit: dataEventResourceTypes must be Bedrock resource types.*got 'AWS::S3::Object'/],
    ['the same data event type twice', { dataEventResourceTypes: ['AWS::Bedrock::Guardrail', 'AWS::Bedrock::Guardrail'] }, /dataEventResourceTypes must be each type once, got 'AWS::Bedrock::Guardrail'/],
    ['a trail that records nothing', { managementEvents: false }, /managementEvents must be true, or dataEventResourceTypes given: otherwise the trail records nothing, got false/],
    ['an expiration shorter than the Object Lock retention', { objectLock: { mode: AuditObjectLockMode.GOVERNANCE, retention: Duration.days(3000) } }, /expiration must be at least the Object Lock retention \(3000 days\), got '2555 days'/],
    ['an Object Lock retention in hours', { objectLock: { mode: AuditObjectLockMode.COMPLIANCE, retention: Duration.hours(36) } }, /objectLock\.retention must be a whole number of days, at least 1, got '1 day 12 hours'/],
    ['Infrequent Access before S3 allows it', { infrequentAccessAfter: Duration.days(10) }, /infrequentAccessAfter must be a whole number of days, at least 30, got '10 days'/],
    ['Glacier before Infrequent Access', { glacierAfter: Duration.days(20) }, /glacierAfter must be later than infrequentAccessAfter \(30 days\), got '20 days'/],
    ['expiry before Glacier', { expiration: Duration.days(60) }, /expiration must be later than glacierAfter \(90 days\), got '60 days'/],
    ['a log retention CloudWatch does not offer', { cloudWatchLogs: true, logRetention: 42 as logs.RetentionDays }, /logRetention must be a CloudWatch Logs retention in days/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
