/**
 * BedrockAuditTrail with every option a reviewer asks about: CloudWatch Logs copy and its alarms, model invocation
 * logging, governance-mode Object Lock for one day (so the test's files can be cleaned up the next day).
 * On a real deploy the assertions check that CloudTrail reports the trail logging, that Bedrock reports the
 * invocation logging configuration the stack put, and that a query on the Athena table succeeds in the workgroup.
 * Note that model invocation logging is an account setting per region: deploy this where no other stack owns it.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AuditObjectLockMode, BedrockAuditTrail } from 'cdk-openclaw';

const app = new App();
const stack = new Stack(app, 'OpenClawIntegBedrockAudit');
const audit = new BedrockAuditTrail(stack, 'Audit', {
  cloudWatchLogs: true,
  modelInvocationLogging: { cloudWatchLogs: true, s3: true },
  objectLock: { mode: AuditObjectLockMode.GOVERNANCE, retention: Duration.days(1) },
});

const integ = new IntegTest(app, 'BedrockAudit', { testCases: [stack] });

integ.assertions
  .awsApiCall('CloudTrail', 'getTrailStatus', { Name: audit.trailArn })
  .expect(ExpectedResult.objectLike({ IsLogging: true }))
  .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(30) });

integ.assertions
  .awsApiCall('Bedrock', 'getModelInvocationLoggingConfiguration', {})
  .expect(ExpectedResult.objectLike({
    loggingConfig: {
      cloudWatchConfig: { logGroupName: audit.invocationLogGroup!.logGroupName },
      s3Config: { bucketName: audit.bucket.bucketName, keyPrefix: 'bedrock-invocation-logs' },
      textDataDeliveryEnabled: false,
    },
  }));

const query = integ.assertions.awsApiCall('Athena', 'startQueryExecution', {
  WorkGroup: audit.workGroupName,
  QueryExecutionContext: { Database: audit.databaseName },
  QueryString: `SELECT count(*) AS events FROM "${audit.databaseName}"."${audit.tableName}" `
    + "WHERE \"timestamp\" >= date_format(current_date - interval '1' day, '%Y/%m/%d')",
});
// The query reads the table through Glue, the log files from S3 and writes results, all under the trail's key.
query.provider.addToRolePolicy({
  Effect: 'Allow',
  Action: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
  Resource: ['*'],
});
query.provider.addToRolePolicy({
  Effect: 'Allow',
  Action: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation', 's3:PutObject', 's3:AbortMultipartUpload'],
  Resource: [audit.bucket.bucketArn, `${audit.bucket.bucketArn}/*`, audit.resultsBucket.bucketArn, `${audit.resultsBucket.bucketArn}/*`],
});
query.provider.addToRolePolicy({
  Effect: 'Allow',
  Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
  Resource: [audit.encryptionKey.keyArn],
});

integ.assertions
  .awsApiCall('Athena', 'getQueryExecution', { QueryExecutionId: query.getAttString('QueryExecutionId') })
  .expect(ExpectedResult.objectLike({ QueryExecution: { Status: { State: 'SUCCEEDED' } } }))
  .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) });
