import { Annotations, Aws, CfnElement, Duration, Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { AuditQueryTemplate, CLOUDTRAIL_COLUMNS, DENIED_FILTER_PATTERN, PARTITION_COLUMNS, auditQueries, unexpectedCallersQuery } from './athena';
import { InvocationLogging } from './invocation-logging';
import { alarmTopic } from '../core/alarm-topic';
import { allowLogsService, resolveKey } from '../core/encryption';
import { INLINE_POLICY_RULES, acknowledge } from '../core/nag';
import { accessLogBucket, checkLogRetention, encryptedLogGroup, secureBucket } from '../core/storage';
import { checkEmails, checkIntegerRange, invalidProp } from '../core/validation';

/** How S3 Object Lock protects the trail's log files. */
export enum AuditObjectLockMode {
  /** Nobody, the account root included, can delete or shorten the retention of a log file before it ends. */
  COMPLIANCE = 'COMPLIANCE',
  /** Principals with `s3:BypassGovernanceRetention` can still delete; everyone else cannot. */
  GOVERNANCE = 'GOVERNANCE',
}

/** S3 Object Lock for the trail's log files. */
export interface AuditObjectLockOptions {
  /** The lock mode. */
  readonly mode: AuditObjectLockMode;
  /** How long each log file is locked: whole days, at least one. */
  readonly retention: Duration;
}

/**
 * Bedrock model invocation logging: one record per model call with the caller, the model and the input and output
 * token counts. An account setting per region (one configuration; deleting the stack turns it off).
 */
export interface ModelInvocationLoggingOptions {
  /**
   * Deliver the records to a CloudWatch Logs log group encrypted with the trail's key (queried with Logs Insights).
   * @default true
   */
  readonly cloudWatchLogs?: boolean;

  /**
   * Deliver the records to the trail's bucket too, under `bedrock-invocation-logs/`.
   * @default false
   */
  readonly s3?: boolean;

  /**
   * Retention of the log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Include the text of prompts and completions in the records. They may hold personal or secret data; anyone who
   * can read the logs reads them.
   * @default false
   */
  readonly textData?: boolean;

  /**
   * Include images sent to or produced by models.
   * @default false
   */
  readonly imageData?: boolean;

  /**
   * Include embeddings produced by models.
   * @default false
   */
  readonly embeddingData?: boolean;
}

/** Props of {@link BedrockAuditTrail}. */
export interface BedrockAuditTrailProps {
  /**
   * The key that encrypts the log files.
   * @default - a customer-managed key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Record events of every region (Bedrock calls anywhere in the account), not only the stack's.
   * @default true
   */
  readonly multiRegion?: boolean;

  /**
   * Record management events. Bedrock's model calls (InvokeModel, InvokeModelWithResponseStream, Converse,
   * ConverseStream) are management events, so without them the trail sees no model use. A trail cannot narrow
   * management events to Bedrock (CloudTrail accepts an event source filter there only to exclude KMS and RDS Data
   * API events, which this trail does): it records the account's other management events too, and the queries
   * select Bedrock's. If the account already has a trail with management events, this second copy is billed.
   * @default true
   */
  readonly managementEvents?: boolean;

  /**
   * Bedrock data events to record, as CloudTrail `resources.type` values: agents, knowledge bases, flows,
   * guardrails, asynchronous invocations, AgentCore and Mantle resources. Each type gets its own selector.
   * `BedrockAuditTrail.BEDROCK_DATA_EVENT_TYPES` lists the common ones.
   * @default - none (data events are billed per event)
   */
  readonly dataEventResourceTypes?: string[];

  /**
   * Also deliver the events to a CloudWatch Logs log group encrypted with the key, for metric filters and alarms.
   * Billed per GB ingested, and with management events on the trail carries all of the account's.
   * @default false
   */
  readonly cloudWatchLogs?: boolean;

  /**
   * Retention of the CloudWatch Logs copy, with `cloudWatchLogs`.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Lock every log file against deletion and overwrite for a retention period (tamper resistance).
   * @default - no Object Lock (versioning and log file validation still make tampering evident)
   */
  readonly objectLock?: AuditObjectLockOptions;

  /**
   * A bucket of yours for the log files, instead of the one the construct creates: for example an organization's
   * log archive bucket. Its encryption, versioning, lifecycle and Object Lock stay yours, so `bucketName`,
   * `objectLock`, `infrequentAccessAfter`, `glacierAfter` and `expiration` cannot be given with it; the trail still
   * encrypts each file with `encryptionKey`. When the bucket is defined in this app the construct adds the two
   * statements CloudTrail needs to its policy; an imported bucket's policy must already hold them (synth warns).
   * @default - a bucket created and retained by the construct
   */
  readonly bucket?: s3.IBucket;

  /**
   * A physical name for the bucket the construct creates.
   * @default - generated by CloudFormation
   */
  readonly bucketName?: string;

  /**
   * When log files move to S3 Standard-Infrequent Access.
   * @default Duration.days(30)
   */
  readonly infrequentAccessAfter?: Duration;

  /**
   * When log files move to S3 Glacier Flexible Retrieval.
   * @default Duration.days(90)
   */
  readonly glacierAfter?: Duration;

  /**
   * When log files are deleted. Must not be shorter than the Object Lock retention.
   * @default Duration.days(365 * 7) - seven years
   */
  readonly expiration?: Duration;

  /**
   * The Glue database of the Athena table: lower-case letters, digits and underscores.
   * @default - derived from the construct path
   */
  readonly databaseName?: string;

  /**
   * The Athena table over the log files.
   * @default 'cloudtrail'
   */
  readonly tableName?: string;

  /**
   * The Athena workgroup for the queries (results encrypted with the key, configuration enforced).
   * @default - derived from the construct path
   */
  readonly workGroupName?: string;

  /**
   * Most data one query may scan, in bytes: a guard against an unfiltered query over years of logs.
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;

  /**
   * The regions the table's partition projection enumerates (a query over a region not listed finds nothing).
   * @default - every region of the aws partition known to this aws-cdk-lib version
   */
  readonly regions?: string[];

  /**
   * Roles expected to call Bedrock. When given, a saved query lists the calls of every other principal.
   * @default - no such query
   */
  readonly expectedRoleArns?: string[];

  /**
   * Turn on Bedrock model invocation logging for the stack's account and region.
   * @default - off
   */
  readonly modelInvocationLogging?: ModelInvocationLoggingOptions;

  /**
   * The topic that receives the trail's alarms and tamper notifications.
   * @default - a topic encrypted with the key
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * E-mail addresses subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmails?: string[];

  /**
   * With `cloudWatchLogs`: how many Bedrock calls refused for lack of permission within 5 minutes raise the
   * `BedrockAccessDenied` alarm.
   * @default 10
   */
  readonly deniedCallsThreshold?: number;
}

const DATA_EVENT_TYPE = /^AWS::Bedrock(AgentCore|Mantle)?::[A-Za-z]+$/;
const DEFAULT_EXPIRATION_DAYS = 365 * 7;

/**
 * A CloudTrail trail for Amazon Bedrock: tamper-evident (log file validation, versioning, optional Object Lock),
 * encrypted with a customer-managed key that only CloudTrail may use to write, stored in a dedicated bucket with a
 * lifecycle, and retained when the stack is deleted.
 */
export class BedrockAuditTrail extends Construct {
  /** Common Bedrock data event types (CloudTrail `resources.type`), for `dataEventResourceTypes`. */
  public static readonly BEDROCK_DATA_EVENT_TYPES: string[] = [
    'AWS::Bedrock::AgentAlias',
    'AWS::Bedrock::AsyncInvoke',
    'AWS::Bedrock::FlowAlias',
    'AWS::Bedrock::Guardrail',
    'AWS::Bedrock::InlineAgent',
    'AWS::Bedrock::KnowledgeBase',
    'AWS::Bedrock::Model',
  ];

  /** The trail. */
  public readonly trail: cloudtrail.CfnTrail;
  /** The trail's name. */
  public readonly trailName: string;
  /** The trail's ARN. */
  public readonly trailArn: string;
  /** The bucket that holds the log files. */
  public readonly bucket: s3.IBucket;
  /** The bucket that receives the server access logs of the log bucket. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The key that encrypts the log files. */
  public readonly encryptionKey: kms.IKey;
  /** The CloudWatch Logs copy of the events, with `cloudWatchLogs`. */
  public readonly logGroup?: logs.ILogGroup;
  /** The bucket of the Athena query results. */
  public readonly resultsBucket: s3.IBucket;
  /** The Glue database name. */
  public readonly databaseName: string;
  /** The Athena table name. */
  public readonly tableName: string;
  /** The Athena workgroup name. */
  public readonly workGroupName: string;
  /** The saved queries. */
  public readonly namedQueries: athena.CfnNamedQuery[] = [];
  /** The Athena workgroup ARN. */
  public readonly workGroupArn: string;
  /** The topic of the alarms and tamper notifications. */
  public readonly alarmTopic: sns.ITopic;
  /** The alarms: `BedrockAccessDenied` and `TrailDeliveryStopped` with `cloudWatchLogs`. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The rule that notifies the alarm topic when anyone stops, deletes or changes this trail. */
  public readonly tamperRule: events.Rule;
  private readonly expectedPrincipals: string[] = [];
  private readonly workGroup: athena.CfnWorkGroup;
  private readonly table: glue.CfnTable;
  /** The log group of the model invocation logs, with `modelInvocationLogging` delivering to CloudWatch Logs. */
  public readonly invocationLogGroup?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: BedrockAuditTrailProps = {}) {
    super(scope, id);
    const managementEvents = props.managementEvents ?? true;
    const dataTypes = props.dataEventResourceTypes ?? [];
    validate(this, props, managementEvents, dataTypes);

    this.trailName = Names.uniqueResourceName(this, { maxLength: 128, separator: '-' });
    this.trailArn = `arn:${Aws.PARTITION}:cloudtrail:${Aws.REGION}:${Aws.ACCOUNT_ID}:trail/${this.trailName}`;

    this.encryptionKey = resolveKey(this, 'Key', props.encryptionKey, { description: 'Encrypts the Bedrock audit trail log files' });
    allowCloudTrail(this.encryptionKey, this.trailArn);

    this.accessLogsBucket = accessLogBucket(this, 'AccessLogs');
    const bucket = props.bucket ?? secureBucket(this, 'Bucket', {
      key: this.encryptionKey,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'audit-trail/',
      bucketName: props.bucketName,
      objectLockRetention: objectLockRetention(props.objectLock),
      lifecycleRules: [{
        id: 'AgeAuditLogs',
        transitions: [
          { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: props.infrequentAccessAfter ?? Duration.days(30) },
          { storageClass: s3.StorageClass.GLACIER, transitionAfter: props.glacierAfter ?? Duration.days(90) },
        ],
        expiration: props.expiration ?? Duration.days(DEFAULT_EXPIRATION_DAYS),
        noncurrentVersionExpiration: Duration.days(30),
      }],
    });
    this.bucket = bucket;
    const aclCheck = bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailChecksTheBucketAcl',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['s3:GetBucketAcl'],
      resources: [bucket.bucketArn],
      conditions: { StringEquals: { 'aws:SourceArn': this.trailArn } },
    }));
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailWritesThisTrailOnly',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`AWSLogs/${Aws.ACCOUNT_ID}/*`)],
      conditions: { StringEquals: { 'aws:SourceArn': this.trailArn, 's3:x-amz-acl': 'bucket-owner-full-control' } },
    }));
    if (!aclCheck.statementAdded) {
      Annotations.of(this).addWarningV2('cdk-openclaw:auditBucketPolicy',
        `The bucket passed in is imported, so its policy cannot be changed here: it must let cloudtrail.amazonaws.com call s3:GetBucketAcl on it and s3:PutObject on AWSLogs/<account>/* with aws:SourceArn ${this.trailName}'s ARN (see docs/bedrock-audit-trail.md).`);
    }

    let cloudWatch: { cloudWatchLogsLogGroupArn: string; cloudWatchLogsRoleArn: string } | undefined;
    if (props.cloudWatchLogs) {
      allowLogsService(this.encryptionKey);
      const logGroup = encryptedLogGroup(this, 'Logs', this.encryptionKey, props.logRetention ?? logs.RetentionDays.ONE_YEAR);
      const role = new iam.Role(this, 'LogsRole', { assumedBy: new iam.ServicePrincipal('cloudtrail.amazonaws.com') });
      role.addToPolicy(new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // CloudTrail names its streams <account>_CloudTrail_<region>.
        resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroup.logGroupName}:log-stream:${Aws.ACCOUNT_ID}_CloudTrail_*`],
      }));
      const policy = role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
      acknowledge(policy, INLINE_POLICY_RULES,
        'The delivery role\'s only policy, scoped to this log group\'s CloudTrail streams; it belongs with the role and dies with it.');
      acknowledge(policy, [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<${Stack.of(this).getLogicalId(logGroup.node.defaultChild as CfnElement)}>:log-stream:<AWS::AccountId>_CloudTrail_*]`],
        'CloudTrail creates one stream per region named <account>_CloudTrail_<region>; the wildcard covers those streams of this log group only.');
      this.logGroup = logGroup;
      cloudWatch = { cloudWatchLogsLogGroupArn: logGroup.logGroupArn, cloudWatchLogsRoleArn: role.roleArn };
    }

    this.trail = new cloudtrail.CfnTrail(this, 'Resource', {
      trailName: this.trailName,
      isLogging: true,
      s3BucketName: bucket.bucketName,
      kmsKeyId: this.encryptionKey.keyArn,
      enableLogFileValidation: true,
      isMultiRegionTrail: props.multiRegion ?? true,
      includeGlobalServiceEvents: props.multiRegion ?? true,
      advancedEventSelectors: eventSelectors(managementEvents, dataTypes),
      ...cloudWatch,
    });
    if (bucket.policy) this.trail.node.addDependency(bucket.policy);
    const names = queryNames(this, props);
    this.databaseName = names.database;
    this.tableName = names.table;
    this.workGroupName = names.workGroup;
    this.resultsBucket = secureBucket(this, 'Results', {
      key: this.encryptionKey,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'athena-results/',
      lifecycleRules: [{ id: 'ExpireQueryResults', expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(1) }],
    });
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Amazon Bedrock audit trail (CloudTrail log files)' },
    });
    const regions = props.regions ?? RegionInfo.regions.filter((r) => r.partition === 'aws').map((r) => r.name);
    const logsRoot = `s3://${bucket.bucketName}/AWSLogs/${Aws.ACCOUNT_ID}/CloudTrail`;
    const table = new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'CloudTrail records of the Bedrock audit trail; partitions projected from the object keys',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: PARTITION_COLUMNS,
        parameters: {
          'classification': 'cloudtrail',
          'projection.enabled': 'true',
          'projection.region.type': 'enum',
          'projection.region.values': regions.join(','),
          'projection.timestamp.type': 'date',
          'projection.timestamp.format': 'yyyy/MM/dd',
          'projection.timestamp.interval': '1',
          'projection.timestamp.interval.unit': 'DAYS',
          'projection.timestamp.range': '2025/01/01,NOW',
          'storage.location.template': `${logsRoot}/\${region}/\${timestamp}`,
        },
        storageDescriptor: {
          columns: CLOUDTRAIL_COLUMNS,
          location: logsRoot,
          inputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
        },
      },
    });
    table.addDependency(database);
    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the Bedrock audit trail',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.encryptionKey.keyArn },
        },
      },
    });
    this.workGroup = workGroup;
    this.table = table;
    for (const q of auditQueries()) this.addNamedQuery(q, q.sql);
    for (const arn of props.expectedRoleArns ?? []) this.addExpectedPrincipal(arn);

    this.workGroupArn = `arn:${Aws.PARTITION}:athena:${Aws.REGION}:${Aws.ACCOUNT_ID}:workgroup/${this.workGroupName}`;

    // The SNS target of the tamper rule adds the statement that lets EventBridge use a created topic's key.
    this.alarmTopic = alarmTopic(this, 'AlarmTopic', this.encryptionKey, { given: props.alarmTopic, emails: props.alarmEmails });
    this.tamperRule = this.watchForTampering();
    if (this.logGroup) this.addLogAlarms(this.logGroup, managementEvents, props.deniedCallsThreshold ?? 10);

    const invocation = props.modelInvocationLogging;
    if (invocation) {
      const logging = new InvocationLogging(this, 'ModelInvocationLogging', {
        key: this.encryptionKey,
        cloudWatchLogs: invocation.cloudWatchLogs ?? true,
        logRetention: invocation.logRetention ?? logs.RetentionDays.ONE_YEAR,
        bucket: invocation.s3 ? bucket : undefined,
        textData: invocation.textData ?? false,
        imageData: invocation.imageData ?? false,
        embeddingData: invocation.embeddingData ?? false,
        dependencies: bucket.policy ? [bucket.policy] : [],
      });
      this.invocationLogGroup = logging.logGroup;
    }

    if (!props.cloudWatchLogs) {
      acknowledge(this.trail, ['HIPAA.Security-CloudTrailCloudWatchLogsEnabled', 'NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled', 'PCI.DSS.321-CloudTrailCloudWatchLogsEnabled'],
        'The audit record is the validated, encrypted log files in S3, queried with Athena; delivery to CloudWatch Logs is the cloudWatchLogs option, off by default because it is billed per GB of all management events.');
    }
  }

  /**
   * Adds a principal (a role ARN, or a user ARN) expected to call Bedrock: the saved query
   * `bedrock-calls-from-unexpected-principals` lists the calls of every principal not added.
   * `SecureOpenClawHost` adds its instance role when it uses this trail.
   */
  public addExpectedPrincipal(principalArn: string): void {
    this.expectedPrincipals.push(principalArn);
    if (this.expectedPrincipals.length > 1) return;
    // The query is made once, with its text computed at synthesis from every principal added by then.
    const template = unexpectedCallersQuery(['{expected}']);
    const sql = Lazy.string({
      produce: () => template.sql.replace("'{expected}'", this.expectedPrincipals.map((arn) => `'${arn}'`).join(', ')),
    });
    this.addNamedQuery(template, sql);
  }

  private addNamedQuery(q: AuditQueryTemplate, sql: string): void {
    const named = new athena.CfnNamedQuery(this, q.id, {
      name: q.name,
      description: q.description,
      database: this.databaseName,
      workGroup: this.workGroupName,
      queryString: sql.replace('{table}', `"${this.databaseName}"."${this.tableName}"`),
    });
    named.addDependency(this.workGroup);
    named.addDependency(this.table);
    this.namedQueries.push(named);
  }

  /**
   * Anyone stopping, deleting or reconfiguring this trail is told to the alarm topic at once, with who did it.
   * EventBridge receives these calls as CloudTrail records them, including the call that stops this trail.
   */
  private watchForTampering(): events.Rule {
    const field = (path: string) => events.EventField.fromPath(path);
    return new events.Rule(this, 'TamperRule', {
      description: `Notifies when the Bedrock audit trail ${this.trailName} is stopped, deleted or changed`,
      eventPattern: {
        source: ['aws.cloudtrail'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['cloudtrail.amazonaws.com'],
          eventName: [...TAMPER_EVENTS],
          requestParameters: { name: [this.trailName, this.trailArn] },
        },
      },
      targets: [new targets.SnsTopic(this.alarmTopic, {
        message: events.RuleTargetInput.fromText(
          `${field('$.detail.eventName')} on the Bedrock audit trail ${this.trailName} by ${field('$.detail.userIdentity.arn')} `
          + `at ${field('$.detail.eventTime')} (error: ${field('$.detail.errorCode')})`),
      })],
    });
  }

  /** Alarms read from the CloudWatch Logs copy: repeated denied Bedrock calls, and the trail going quiet. */
  private addLogAlarms(logGroup: logs.ILogGroup, managementEvents: boolean, deniedThreshold: number): void {
    const namespace = `OpenClaw/BedrockAudit/${Names.uniqueResourceName(this, { maxLength: 180, separator: '-' })}`;
    new logs.MetricFilter(this, 'DeniedCallsFilter', {
      logGroup,
      filterPattern: logs.FilterPattern.literal(DENIED_FILTER_PATTERN),
      metricNamespace: namespace,
      metricName: 'BedrockDeniedCalls',
      metricValue: '1',
    });
    const action = new cwActions.SnsAction(this.alarmTopic);
    const denied = new cloudwatch.Alarm(this, 'BedrockAccessDenied', {
      alarmDescription: `${deniedThreshold} or more Bedrock calls refused for lack of permission within 5 minutes: a misconfigured role, or someone probing`,
      metric: new cloudwatch.Metric({ namespace, metricName: 'BedrockDeniedCalls', statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: deniedThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    denied.addAlarmAction(action);
    this.alarms.push(denied);
    if (managementEvents) {
      // An account's management events never stop for an hour while the trail delivers (the host's SSM agent alone
      // reports every few minutes); no event for an hour means the trail stopped, lost its role or its key.
      const quiet = new cloudwatch.Alarm(this, 'TrailDeliveryStopped', {
        alarmDescription: 'The Bedrock audit trail delivered no event to CloudWatch Logs for an hour: logging stopped or delivery fails',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Logs',
          metricName: 'IncomingLogEvents',
          dimensionsMap: { LogGroupName: logGroup.logGroupName },
          statistic: 'Sum',
          period: Duration.hours(1),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      quiet.addAlarmAction(action);
      this.alarms.push(quiet);
    }
  }

  /**
   * Lets `grantee` run queries in the workgroup: Athena on the workgroup, Glue on the database and table, read on
   * the log files, read and write on the results, and the key to decrypt the files and encrypt the results.
   */
  public grantQuery(grantee: iam.IGrantable): iam.Grant {
    const catalog = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
    const athenaGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'athena:StartQueryExecution', 'athena:StopQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults',
        'athena:ListQueryExecutions', 'athena:GetWorkGroup', 'athena:ListNamedQueries', 'athena:GetNamedQuery', 'athena:BatchGetNamedQuery',
      ],
      resourceArns: [this.workGroupArn],
    });
    const glueGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      resourceArns: [`${catalog}:catalog`, `${catalog}:database/${this.databaseName}`, `${catalog}:table/${this.databaseName}/${this.tableName}`],
    });
    return athenaGrant
      .combine(glueGrant)
      .combine(this.bucket.grantRead(grantee))
      .combine(this.resultsBucket.grantReadWrite(grantee))
      .combine(this.encryptionKey.grantEncryptDecrypt(grantee));
  }
}

/** The CloudTrail calls that stop, remove or narrow a trail. */
const TAMPER_EVENTS = ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'];

const GLUE_NAME = /^[a-z0-9_]{1,255}$/;
const WORKGROUP_NAME = /^[a-zA-Z0-9._-]{1,128}$/;

function queryNames(scope: Construct, props: BedrockAuditTrailProps): { database: string; table: string; workGroup: string } {
  const derived = Names.uniqueResourceName(scope, { maxLength: 64, separator: '_' }).toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const database = props.databaseName ?? derived;
  const table = props.tableName ?? 'cloudtrail';
  const workGroup = props.workGroupName ?? Names.uniqueResourceName(scope, { maxLength: 128, separator: '-' });
  for (const [prop, value] of [['databaseName', database], ['tableName', table]]) {
    if (!Token.isUnresolved(value) && !GLUE_NAME.test(value)) invalidProp(scope, prop, value, 'lower-case letters, digits and underscores (1-255)');
  }
  if (!Token.isUnresolved(workGroup) && !WORKGROUP_NAME.test(workGroup)) {
    invalidProp(scope, 'workGroupName', workGroup, 'letters, digits, periods, hyphens and underscores (1-128)');
  }
  return { database, table, workGroup };
}

function objectLockRetention(lock: AuditObjectLockOptions | undefined): s3.ObjectLockRetention | undefined {
  if (!lock) return undefined;
  return lock.mode === AuditObjectLockMode.COMPLIANCE
    ? s3.ObjectLockRetention.compliance(lock.retention)
    : s3.ObjectLockRetention.governance(lock.retention);
}

/** The advanced event selectors: management events without KMS and RDS Data, and one selector per data event type. */
function eventSelectors(managementEvents: boolean, dataTypes: string[]): cloudtrail.CfnTrail.AdvancedEventSelectorProperty[] {
  const selectors: cloudtrail.CfnTrail.AdvancedEventSelectorProperty[] = [];
  if (managementEvents) {
    selectors.push({
      name: 'Management events (Bedrock model calls among them), without KMS and RDS Data API',
      fieldSelectors: [
        { field: 'eventCategory', equalTo: ['Management'] },
        { field: 'eventSource', notEquals: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] },
      ],
    });
  }
  for (const type of dataTypes) {
    selectors.push({
      name: `Data events of ${type}`,
      fieldSelectors: [
        { field: 'eventCategory', equalTo: ['Data'] },
        { field: 'resources.type', equalTo: [type] },
      ],
    });
  }
  return selectors;
}

/** CloudTrail may encrypt this trail's files with the key, and describe it; it may decrypt nothing. */
function allowCloudTrail(key: kms.IKey, trailArn: string): void {
  if (!(key instanceof kms.Key)) return;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudTrailEncryptsThisTrail',
    principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
    actions: ['kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'aws:SourceArn': trailArn },
      StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
    },
  }));
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudTrailDescribesTheKey',
    principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
    actions: ['kms:DescribeKey'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
  }));
}

function wholeDays(scope: Construct, prop: string, d: Duration | undefined, min: number): number | undefined {
  if (d === undefined || Token.isUnresolved(d.toMilliseconds({ integral: false }))) return undefined;
  const days = d.toDays({ integral: false });
  if (!Number.isInteger(days) || days < min) invalidProp(scope, prop, d.toHumanString(), `a whole number of days, at least ${min}`);
  return days;
}

function describeSetting(value: unknown): unknown {
  if (value instanceof Duration) return value.toHumanString();
  if (typeof value === 'object' && value !== null && 'retention' in value) {
    const lock = value as AuditObjectLockOptions;
    return `${lock.mode} for ${lock.retention.toHumanString()}`;
  }
  return value;
}

/** S3's rules for general purpose bucket names. */
function checkBucketName(scope: Construct, name: string): void {
  const allowed = '3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit, not an IP address, '
    + 'without \'..\', the prefixes xn--, sthree- and amzn-s3-demo- or the suffixes -s3alias, --ol-s3, .mrap and --x-s3';
  const bad = !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)
    || name.includes('..')
    || /^\d{1,3}(\.\d{1,3}){3}$/.test(name)
    || /^(xn--|sthree-|amzn-s3-demo-)/.test(name)
    || /(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(name);
  if (bad) invalidProp(scope, 'bucketName', name, allowed);
}

function validate(scope: Construct, props: BedrockAuditTrailProps, managementEvents: boolean, dataTypes: string[]): void {
  for (const type of dataTypes) {
    if (!DATA_EVENT_TYPE.test(type)) {
      invalidProp(scope, 'dataEventResourceTypes', type, 'Bedrock resource types such as AWS::Bedrock::KnowledgeBase (AWS::Bedrock::*, AWS::BedrockAgentCore::*, AWS::BedrockMantle::*)');
    }
  }
  checkLogRetention(scope, 'logRetention', props.logRetention);
  checkEmails(scope, 'alarmEmails', props.alarmEmails);
  checkIntegerRange(scope, 'deniedCallsThreshold', props.deniedCallsThreshold, 1, 100_000);
  if (props.deniedCallsThreshold !== undefined && !props.cloudWatchLogs) {
    invalidProp(scope, 'cloudWatchLogs', props.cloudWatchLogs ?? false, 'true when deniedCallsThreshold is given: the alarm counts denied calls in the CloudWatch Logs copy');
  }
  const invocation = props.modelInvocationLogging;
  if (invocation) {
    checkLogRetention(scope, 'modelInvocationLogging.logRetention', invocation.logRetention);
    if (invocation.cloudWatchLogs === false && !invocation.s3) {
      invalidProp(scope, 'modelInvocationLogging', { cloudWatchLogs: false, s3: invocation.s3 ?? false }, 'at least one destination: cloudWatchLogs (the default) or s3');
    }
    if (invocation.cloudWatchLogs === false && invocation.logRetention !== undefined) {
      invalidProp(scope, 'modelInvocationLogging.logRetention', invocation.logRetention, 'left out when cloudWatchLogs is false');
    }
  }
  const cutoff = props.bytesScannedCutoffPerQuery;
  if (cutoff !== undefined && !Token.isUnresolved(cutoff) && (!Number.isInteger(cutoff) || cutoff < 10_000_000)) {
    invalidProp(scope, 'bytesScannedCutoffPerQuery', cutoff, 'a whole number of bytes, at least 10000000 (Athena\'s minimum, 10 MB)');
  }
  for (const region of props.regions ?? []) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) invalidProp(scope, 'regions', region, 'region codes such as us-east-1');
  }
  const duplicate = dataTypes.find((t, i) => dataTypes.indexOf(t) !== i);
  if (duplicate) invalidProp(scope, 'dataEventResourceTypes', duplicate, 'each type once');
  if (!managementEvents && dataTypes.length === 0) {
    invalidProp(scope, 'managementEvents', false, 'true, or dataEventResourceTypes given: otherwise the trail records nothing');
  }
  if (props.bucket) {
    const owned = (['bucketName', 'objectLock', 'infrequentAccessAfter', 'glacierAfter', 'expiration'] as const).find((p) => props[p] !== undefined);
    if (owned) invalidProp(scope, owned, describeSetting(props[owned]), 'left out when bucket is given: set it on the bucket you pass in');
  }
  if (props.bucketName !== undefined && !Token.isUnresolved(props.bucketName)) checkBucketName(scope, props.bucketName);
  const lockDays = wholeDays(scope, 'objectLock.retention', props.objectLock?.retention, 1);
  const ia = wholeDays(scope, 'infrequentAccessAfter', props.infrequentAccessAfter, 30) ?? 30;
  const glacier = wholeDays(scope, 'glacierAfter', props.glacierAfter, 1) ?? 90;
  const expiration = wholeDays(scope, 'expiration', props.expiration, 1) ?? DEFAULT_EXPIRATION_DAYS;
  if (glacier <= ia) invalidProp(scope, 'glacierAfter', `${glacier} days`, `later than infrequentAccessAfter (${ia} days)`);
  if (expiration <= glacier) invalidProp(scope, 'expiration', `${expiration} days`, `later than glacierAfter (${glacier} days)`);
  if (lockDays !== undefined && expiration < lockDays) {
    invalidProp(scope, 'expiration', `${expiration} days`, `at least the Object Lock retention (${lockDays} days)`);
  }
}
