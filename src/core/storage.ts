import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './nag';
import { invalidProp } from './validation';

/** The nag findings on a DynamoDB table outside an AWS Backup plan. */
const TABLE_BACKUP_RULES = ['NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security-DynamoDBInBackupPlan'];

/**
 * A table whose items must survive: on demand, encrypted with `key`, point-in-time recovery, deletion protection,
 * retained with its stack. `recovery` says why point-in-time recovery stands in for an AWS Backup plan.
 */
export function retainedTable(
  scope: Construct, id: string, key: kms.IKey, keys: Pick<dynamodb.TableProps, 'partitionKey' | 'sortKey'>, recovery: string,
): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    ...keys,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledge(table, TABLE_BACKUP_RULES, recovery);
  return table;
}

const RETENTION_VALUES = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'),
);

/** Fails unless `retention` is one of the values CloudWatch Logs accepts. */
export function checkLogRetention(scope: Construct, prop: string, retention: logs.RetentionDays | undefined): void {
  if (retention === undefined || Token.isUnresolved(retention)) return;
  if (!RETENTION_VALUES.has(retention)) {
    invalidProp(scope, prop, retention, `a CloudWatch Logs retention in days (${[...RETENTION_VALUES].sort((a, b) => a - b).join(', ')})`);
  }
}

/** A log group encrypted with the construct's key, retained on delete. */
export function encryptedLogGroup(scope: Construct, id: string, key: kms.IKey, retention: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: key,
    retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * The bucket that receives S3 server access logs of a construct's other buckets. S3 delivers server access
 * logs only to buckets encrypted with SSE-S3, so this one cannot use the customer-managed key. ACLs are disabled:
 * the log delivery services write through the bucket policy (see `secureBucket`), never through an ACL.
 */
export function accessLogBucket(scope: Construct, id: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [
      { id: 'ExpireAccessLogs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
    ],
  });
  acknowledge(bucket, ['AwsSolutions-S1', 'HIPAA.Security-S3BucketLoggingEnabled', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'PCI.DSS.321-S3BucketLoggingEnabled'],
    'This bucket is the destination of the server access logs; logging it into itself would loop.');
  acknowledge(bucket, ['HIPAA.Security-S3DefaultEncryptionKMS', 'NIST.800.53.R5-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS'],
    'S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES-256); SSE-KMS destinations are not supported.');
  acknowledgeReplication(bucket);
  return bucket;
}

/** Options for {@link secureBucket}. */
export interface SecureBucketOptions {
  readonly key: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly accessLogsPrefix: string;
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** S3 Object Lock with this default retention (the bucket must be created with it). */
  readonly objectLockRetention?: s3.ObjectLockRetention;
  /** A physical name; generated when absent. */
  readonly bucketName?: string;
  /**
   * Why this bucket is encrypted with S3-managed keys instead of `key` (public web assets that CloudFront reads
   * through origin access control, whatever key the user brought).
   */
  readonly s3ManagedEncryptionReason?: string;
}

/**
 * An S3 bucket as every construct here makes them: SSE-KMS with the construct's key (bucket key on), versioned,
 * public access blocked, TLS-only policy, server access logs, retained on delete.
 *
 * Server access logging is wired here rather than with `serverAccessLogsBucket`, whose result depends on the
 * app's `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` feature flag (without it, a legacy `LogDeliveryWrite`
 * ACL): the template is the same in every app, and the log bucket admits the logging service for this bucket only.
 */
export function secureBucket(scope: Construct, id: string, options: SecureBucketOptions): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    bucketName: options.bucketName,
    encryption: options.s3ManagedEncryptionReason ? s3.BucketEncryption.S3_MANAGED : s3.BucketEncryption.KMS,
    encryptionKey: options.s3ManagedEncryptionReason ? undefined : options.key,
    bucketKeyEnabled: options.s3ManagedEncryptionReason ? undefined : true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: options.lifecycleRules,
    objectLockEnabled: options.objectLockRetention ? true : undefined,
    objectLockDefaultRetention: options.objectLockRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
    destinationBucketName: options.accessLogs.bucketName,
    logFilePrefix: options.accessLogsPrefix,
  };
  options.accessLogs.addToResourcePolicy(new iam.PolicyStatement({
    sid: `S3ServerAccessLogsFor${bucket.node.id.replace(/[^A-Za-z0-9]/g, '')}`,
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [options.accessLogs.arnForObjects(`${options.accessLogsPrefix}*`)],
    conditions: {
      ArnLike: { 'aws:SourceArn': bucket.bucketArn },
      StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
    },
  }));
  acknowledgeReplication(bucket);
  if (options.s3ManagedEncryptionReason) {
    acknowledge(bucket, ['HIPAA.Security-S3DefaultEncryptionKMS', 'NIST.800.53.R5-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS'],
      options.s3ManagedEncryptionReason);
  }
  return bucket;
}

function acknowledgeReplication(bucket: s3.Bucket): void {
  acknowledge(bucket, ['HIPAA.Security-S3BucketReplicationEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled'],
    'Cross-region replication needs a bucket in a second region that a single-region stack cannot own; versioning and retention protect the objects here. Add replication with the bucket escape hatch if your policy requires it.');
}
