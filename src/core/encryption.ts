import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Options for the key a construct creates when none is passed in. */
export interface CustomerKeyOptions {
  /** What the key protects, shown in the KMS console. */
  readonly description: string;
}

/**
 * Returns the key passed in, or creates the construct's own customer-managed key: rotation on, retained on
 * delete (data encrypted with it must stay readable after the stack is gone), and grants only for AWS services
 * acting for an AWS resource (EBS, EFS, AWS Backup create theirs that way): nobody can hand out the key with a
 * grant of their own.
 */
export function resolveKey(scope: Construct, id: string, existing: kms.IKey | undefined, options: CustomerKeyOptions): kms.IKey {
  if (existing) return existing;
  const key = new kms.Key(scope, id, {
    description: options.description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'GrantsOnlyForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  return key;
}

/**
 * Lets CloudWatch Logs in this account and region use the key for log groups (encryption context is the
 * log group ARN). A key passed in by the user is left alone: its policy is theirs to manage.
 */
export function allowLogsService(key: kms.IKey): void {
  if (!(key instanceof kms.Key)) return;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsInThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
    },
  }));
}

/** Lets CloudWatch alarms publish to an SNS topic encrypted with the key. */
export function allowCloudWatchAlarms(key: kms.IKey): void {
  if (!(key instanceof kms.Key)) return;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchAlarmsToPublish',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
  }));
}
