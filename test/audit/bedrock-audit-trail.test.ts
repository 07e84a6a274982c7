import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { NAG_PACKS, runNagPacks } from '../../examples/ts/inspect';
import { AuditObjectLockMode, BedrockAuditTrail, BedrockAuditTrailProps } from '../../src';
import { DENIED_FILTER_PATTERN } from '../../src/audit/athena';
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
    ['every option', { cloudWatchLogs: true, modelInvocationLogging: { s3: true }, alarmEmails: ['secops@example.com'], dataEventResourceTypes: BedrockAuditTrail.BEDROCK_DATA_EVENT_TYPES, objectLock: { mode: AuditObjectLockMode.GOVERNANCE, retention: Duration.days(30) } }],
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

describe('BedrockAuditTrail with a bucket passed in', () => {
  test('the trail writes to the given bucket, whose policy gains the two CloudTrail statements; no log bucket is created', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    const archive = new s3.Bucket(stack, 'Archive', { enforceSSL: true });
    new BedrockAuditTrail(stack, 'Audit', { bucket: archive });
    const template = Template.fromStack(stack);
    const [, trail] = resourcesOf(template, 'AWS::CloudTrail::Trail')[0];
    expect(trail.Properties.S3BucketName).toEqual({ Ref: expect.stringMatching(/^Archive/) });
    expect(resourcesOf(template, 'AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith('AuditBucket'))).toEqual([]);
    const [, policy] = resourcesOf(template, 'AWS::S3::BucketPolicy').find(([id]) => id.startsWith('ArchivePolicy'))!;
    const sids = policy.Properties.PolicyDocument.Statement.map((s: any) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(['CloudTrailChecksTheBucketAcl', 'CloudTrailWritesThisTrailOnly']));
    expect(trail.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ArchivePolicy/)]));
  });

  test('an imported bucket cannot take the statements, so synth warns with what its policy must allow', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    new BedrockAuditTrail(stack, 'Audit', { bucket: s3.Bucket.fromBucketName(stack, 'Archive', 'org-log-archive') });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('s3:GetBucketAcl.*s3:PutObject on AWSLogs'));
    expect(warnings).toHaveLength(1);
    const [, trail] = resourcesOf(Template.fromStack(stack), 'AWS::CloudTrail::Trail')[0];
    expect(trail.Properties.S3BucketName).toBe('org-log-archive');
  });

  test('bucketName names the bucket the construct creates', () => {
    const { template } = synth({ bucketName: 'acme-bedrock-audit-123456789012' });
    const [, bucket] = resourcesOf(template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AuditBucket'))!;
    expect(bucket.Properties.BucketName).toBe('acme-bedrock-audit-123456789012');
  });
});

describe('BedrockAuditTrail bad input about the bucket fails at synth, naming the prop', () => {
  const imported = () => {
    const stack = new Stack(testApp(), 'Other');
    return s3.Bucket.fromBucketName(stack, 'B', 'org-log-archive');
  };
  test.each<[string, () => BedrockAuditTrailProps, RegExp]>([
    ['Object Lock on a bucket passed in', () => ({ bucket: imported(), objectLock: { mode: AuditObjectLockMode.COMPLIANCE, retention: Duration.days(30) } }),
      /Test\/Audit: objectLock must be left out when bucket is given: set it on the bucket you pass in, got 'COMPLIANCE for 30 days'/],
    ['a lifecycle on a bucket passed in', () => ({ bucket: imported(), expiration: Duration.days(400) }),
      /expiration must be left out when bucket is given.*got '400 days'/],
    ['a name for a bucket passed in', () => ({ bucket: imported(), bucketName: 'mine' }),
      /bucketName must be left out when bucket is given.*got 'mine'/],
    ['an upper-case bucket name', () => ({ bucketName: 'Audit-Logs' }), /bucketName must be 3-63 lower-case letters.*got 'Audit-Logs'/],
    ['a bucket name like an IP address', () => ({ bucketName: '192.168.10.1' }), /bucketName must be 3-63 .*not an IP address.*got '192.168.10.1'/],
    ['a bucket name with two dots in a row', () => ({ bucketName: 'audit..logs' }), /bucketName must be .*got 'audit..logs'/],
    ['a bucket name S3 reserves for access points', () => ({ bucketName: 'audit-logs-s3alias' }), /bucketName must be .*got 'audit-logs-s3alias'/],
    ['a two-letter bucket name', () => ({ bucketName: 'ab' }), /bucketName must be 3-63 .*got 'ab'/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props())).toThrow(message);
  });
});

describe('BedrockAuditTrail alarms and tamper notifications', () => {
  test('stopping, deleting or changing this trail (by name or ARN) notifies the alarm topic with who did it', () => {
    const { template, audit } = synth();
    const [, rule] = resourcesOf(template, 'AWS::Events::Rule')[0];
    const pattern = rule.Properties.EventPattern;
    expect(pattern.source).toEqual(['aws.cloudtrail']);
    expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    expect(pattern.detail.eventName).toEqual(expect.arrayContaining(['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors']));
    expect(pattern.detail.requestParameters.name[0]).toBe(audit.trailName);
    expect(JSON.stringify(pattern.detail.requestParameters.name[1])).toContain(`:trail/${audit.trailName}`);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ Ref: expect.stringMatching(/^AuditAlarmTopic/) });
    expect(target.InputTransformer.InputPathsMap).toEqual(expect.objectContaining({ 'detail-userIdentity-arn': '$.detail.userIdentity.arn' }));
  });

  test('the alarm topic is encrypted with the key, which lets EventBridge and CloudWatch alarms (of this account) publish', () => {
    const { template } = synth({ alarmEmails: ['secops@example.com'] });
    const [, topic] = resourcesOf(template, 'AWS::SNS::Topic')[0];
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AuditKey/), 'Arn'] });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'secops@example.com' });
    const [, key] = resourcesOf(template, 'AWS::KMS::Key')[0];
    const publisher = (service: string) => key.Properties.KeyPolicy.Statement.filter((s: any) => s.Principal?.Service === service);
    expect(publisher('cloudwatch.amazonaws.com')).toEqual([expect.objectContaining({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    })]);
    expect(publisher('events.amazonaws.com')).toEqual([expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]);
  });

  test('a topic passed in receives the notifications and no topic is created', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    const topic = new sns.Topic(stack, 'SecOps');
    const audit = new BedrockAuditTrail(stack, 'Audit', { alarmTopic: topic, cloudWatchLogs: true });
    const template = Template.fromStack(stack);
    expect(resourcesOf(template, 'AWS::SNS::Topic').map(([id]) => id)).toEqual([expect.stringMatching(/^SecOps/)]);
    expect(audit.alarms).toHaveLength(2);
    for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^SecOps/) }]);
  });

  test('without the CloudWatch Logs copy there are no log alarms (they need its events)', () => {
    expect(synth().audit.alarms).toEqual([]);
  });

  test('with cloudWatchLogs: denied Bedrock calls are counted from the trail\'s log group and 10 in 5 minutes alarm', () => {
    const { template } = synth({ cloudWatchLogs: true });
    const [, filter] = resourcesOf(template, 'AWS::Logs::MetricFilter')[0];
    const pattern: string = filter.Properties.FilterPattern;
    for (const term of ['$.eventSource = "bedrock.amazonaws.com"', '$.eventSource = "bedrock-mantle.amazonaws.com"', '$.errorCode = "AccessDenied"', '$.errorCode = "AccessDeniedException"']) {
      expect(pattern).toContain(term);
    }
    const metric = filter.Properties.MetricTransformations[0];
    const [, alarm] = resourcesOf(template, 'AWS::CloudWatch::Alarm').find(([id]) => id.startsWith('AuditBedrockAccessDenied'))!;
    expect(alarm.Properties).toEqual(expect.objectContaining({
      Namespace: metric.MetricNamespace,
      MetricName: metric.MetricName,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^AuditAlarmTopic/) }],
    }));
  });

  test('the denied-calls filter pattern matches a real-format denied Bedrock record and not an allowed one', () => {
    const records = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'bedrock-records.json'), 'utf8')).Records;
    // The pattern is a disjunction of equalities on two fields: evaluate it as CloudWatch Logs does on JSON events.
    const clauses = [...DENIED_FILTER_PATTERN.matchAll(/\$\.(\w+) = "([^"]+)"/g)].map((m) => ({ field: m[1], value: m[2] }));
    const matches = (r: any) => ['eventSource', 'errorCode'].every((field) => clauses.some((c) => c.field === field && r[field] === c.value));
    expect(records.filter(matches).map((r: any) => r.errorCode)).toEqual(['AccessDeniedException']);
    expect(records.filter((r: any) => !matches(r)).length).toBeGreaterThan(1);
  });

  test('deniedCallsThreshold sets the alarm threshold', () => {
    const { template } = synth({ cloudWatchLogs: true, deniedCallsThreshold: 3 });
    const [, alarm] = resourcesOf(template, 'AWS::CloudWatch::Alarm').find(([id]) => id.startsWith('AuditBedrockAccessDenied'))!;
    expect(alarm.Properties.Threshold).toBe(3);
  });

  test('with cloudWatchLogs: an hour without a single event delivered alarms that the trail stopped, missing data included', () => {
    const { template } = synth({ cloudWatchLogs: true });
    const [groupId] = resourcesOf(template, 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('AuditLogs'))!;
    const [, alarm] = resourcesOf(template, 'AWS::CloudWatch::Alarm').find(([id]) => id.startsWith('AuditTrailDeliveryStopped'))!;
    expect(alarm.Properties).toEqual(expect.objectContaining({
      Namespace: 'AWS/Logs',
      MetricName: 'IncomingLogEvents',
      Dimensions: [{ Name: 'LogGroupName', Value: { Ref: groupId } }],
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    }));
  });

  test('a data-events-only trail has no silence alarm: quiet hours are normal there', () => {
    const { audit } = synth({ cloudWatchLogs: true, managementEvents: false, dataEventResourceTypes: ['AWS::Bedrock::Guardrail'] });
    expect(audit.alarms.map((a) => a.node.id)).toEqual(['BedrockAccessDenied']);
  });
});

describe('BedrockAuditTrail model invocation logging', () => {
  const custom = (template: Template) => {
    const [, resource] = resourcesOf(template, 'Custom::BedrockModelInvocationLogging')[0];
    const json = (key: string) => {
      const parts = resource.Properties[key]['Fn::Join'][1];
      return JSON.parse(parts.map((p: any) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, '')}>`)).join(''));
    };
    return { resource, create: json('Create'), update: json('Update'), remove: json('Delete') };
  };

  test('off unless asked for', () => {
    expect(resourcesOf(synth().template, 'Custom::BedrockModelInvocationLogging')).toEqual([]);
  });

  test('create and update put the configuration (CloudWatch Logs, no content), delete removes it, under one physical id', () => {
    const { template, audit } = synth({ modelInvocationLogging: {} });
    const { create, update, remove } = custom(template);
    expect(create.action).toBe('PutModelInvocationLoggingConfiguration');
    expect(update).toEqual(create);
    expect(remove.action).toBe('DeleteModelInvocationLoggingConfiguration');
    expect(remove.physicalResourceId).toEqual(create.physicalResourceId);
    expect(create.parameters.loggingConfig).toEqual({
      textDataDeliveryEnabled: false,
      imageDataDeliveryEnabled: false,
      embeddingDataDeliveryEnabled: false,
      cloudWatchConfig: { logGroupName: expect.stringMatching(/^<\{Ref:AuditModelInvocationLoggingLogs/), roleArn: expect.stringMatching(/DeliveryRole/) },
    });
    expect(audit.invocationLogGroup).toBeDefined();
  });

  test('the delivery role: only Bedrock of this account may assume it, and it writes only Bedrock\'s stream of the encrypted group', () => {
    const { template } = synth({ modelInvocationLogging: { logRetention: logs.RetentionDays.SIX_MONTHS } });
    const [, role] = resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.includes('DeliveryRole'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([expect.objectContaining({
      Principal: { Service: 'bedrock.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': expect.anything() },
      },
    })]);
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.includes('DeliveryRole'))!;
    expect(policy.Properties.PolicyDocument.Statement).toHaveLength(1);
    expect(JSON.stringify(policy.Properties.PolicyDocument.Statement[0].Resource)).toMatch(/:log-stream:aws\/bedrock\/modelinvocations"\]\]\}$/);
    const [, group] = resourcesOf(template, 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('AuditModelInvocationLoggingLogs'))!;
    expect(group.Properties).toEqual(expect.objectContaining({ RetentionInDays: 180, KmsKeyId: expect.anything() }));
  });

  test('the custom resource may put and delete the configuration and pass only the delivery role, only to Bedrock', () => {
    const { template } = synth({ modelInvocationLogging: {} });
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.includes('CustomResourcePolicy'))!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: ['bedrock:PutModelInvocationLoggingConfiguration', 'bedrock:DeleteModelInvocationLoggingConfiguration'], Resource: '*' }),
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/DeliveryRole/), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      }),
    ]);
  });

  test('s3: Bedrock may write its prefix of the trail bucket and generate data keys, for this account\'s Bedrock only; content flags pass through', () => {
    const { template } = synth({ modelInvocationLogging: { cloudWatchLogs: false, s3: true, textData: true } });
    const { create } = custom(template);
    expect(create.parameters.loggingConfig).toEqual({
      textDataDeliveryEnabled: true,
      imageDataDeliveryEnabled: false,
      embeddingDataDeliveryEnabled: false,
      s3Config: { bucketName: expect.stringMatching(/AuditBucket/), keyPrefix: 'bedrock-invocation-logs' },
    });
    const [, bucketPolicy] = resourcesOf(template, 'AWS::S3::BucketPolicy').find(([id]) => id.startsWith('AuditBucketPolicy'))!;
    const write = bucketPolicy.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === 'BedrockWritesInvocationLogs');
    expect(write.Action).toBe('s3:PutObject');
    expect(JSON.stringify(write.Resource)).toContain('/bedrock-invocation-logs/AWSLogs/');
    expect(write.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    const [, key] = resourcesOf(template, 'AWS::KMS::Key')[0];
    const encrypt = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'BedrockEncryptsInvocationLogs');
    expect(encrypt.Action).toBe('kms:GenerateDataKey');
    expect(resourcesOf(template, 'AWS::IAM::Role').filter(([id]) => id.includes('DeliveryRole'))).toEqual([]);
  });

  test('the configuration waits for the bucket policy and the delivery role\'s policy (the log group it references)', () => {
    const { template } = synth({ modelInvocationLogging: { s3: true } });
    const { resource } = custom(template);
    expect(JSON.stringify(resource.Properties.Create)).toContain('AuditModelInvocationLoggingLogs');
    for (const prefix of ['AuditBucketPolicy', 'AuditModelInvocationLoggingDeliveryRoleDefaultPolicy']) {
      expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${prefix}`))]));
    }
  });
});

describe('BedrockAuditTrail bad input about alarms and invocation logging fails at synth, naming the prop', () => {
  test.each<[string, BedrockAuditTrailProps, RegExp]>([
    ['invocation logging with no destination', { modelInvocationLogging: { cloudWatchLogs: false } },
      /modelInvocationLogging must be at least one destination: cloudWatchLogs \(the default\) or s3, got \{"cloudWatchLogs":false,"s3":false\}/],
    ['a log retention for a log group that is not made', { modelInvocationLogging: { cloudWatchLogs: false, s3: true, logRetention: logs.RetentionDays.ONE_MONTH } },
      /modelInvocationLogging\.logRetention must be left out when cloudWatchLogs is false, got 30/],
    ['an invocation log retention CloudWatch does not offer', { modelInvocationLogging: { logRetention: 8 as logs.RetentionDays } }, /modelInvocationLogging\.logRetention must be a CloudWatch Logs retention in days/],
    ['a denied-calls threshold of zero', { cloudWatchLogs: true, deniedCallsThreshold: 0 }, /deniedCallsThreshold must be an integer from 1 to 100000, got 0/],
    ['a denied-calls threshold without the log group it counts in', { deniedCallsThreshold: 5 }, /cloudWatchLogs must be true when deniedCallsThreshold is given.*got false/],
    ['an alarm address that is not one', { alarmEmails: ['secops'] }, /alarmEmails must be e-mail addresses such as ops@example.com, got 'secops'/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
