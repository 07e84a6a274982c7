import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { allowLogsService } from '../core/encryption';
import { INLINE_POLICY_RULES, acknowledge, acknowledgeSdkCallFunction } from '../core/nag';
import { encryptedLogGroup } from '../core/storage';

/** Where Bedrock's own log stream goes; Bedrock names it, the role may write nothing else. */
export const INVOCATION_LOG_STREAM = 'aws/bedrock/modelinvocations';
/** The construct id aws-cdk-lib gives the stack's one function for `AwsCustomResource` SDK calls. */
const SDK_CALL_FUNCTION_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
/** The S3 key prefix of the invocation logs in the audit bucket. */
export const INVOCATION_LOG_PREFIX = 'bedrock-invocation-logs';

/** @internal */
export interface InvocationLoggingProps {
  readonly key: kms.IKey;
  readonly cloudWatchLogs: boolean;
  readonly logRetention: logs.RetentionDays;
  /** Deliver to this bucket too (under INVOCATION_LOG_PREFIX), when given. */
  readonly bucket?: s3.IBucket;
  readonly textData: boolean;
  readonly imageData: boolean;
  readonly embeddingData: boolean;
  /** Resources the configuration must wait for (the bucket policy, ...). */
  readonly dependencies: IDependable[];
}

/**
 * Bedrock model invocation logging: an account-and-region setting with no CloudFormation resource, so a custom
 * resource calls PutModelInvocationLoggingConfiguration on create and update and
 * DeleteModelInvocationLoggingConfiguration on delete. Its function may call those two actions and pass the
 * delivery role to Bedrock, nothing else.
 * @internal
 */
export class InvocationLogging extends Construct {
  public readonly logGroup?: logs.LogGroup;
  public readonly configuration: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: InvocationLoggingProps) {
    super(scope, id);
    const sourceConditions = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
    };
    const loggingConfig: Record<string, unknown> = {
      textDataDeliveryEnabled: props.textData,
      imageDataDeliveryEnabled: props.imageData,
      embeddingDataDeliveryEnabled: props.embeddingData,
    };
    const passRole: iam.PolicyStatement[] = [];
    const dependencies = [...props.dependencies];

    if (props.cloudWatchLogs) {
      allowLogsService(props.key);
      const logGroup = encryptedLogGroup(this, 'Logs', props.key, props.logRetention);
      const role = new iam.Role(this, 'DeliveryRole', {
        description: 'Bedrock writes model invocation logs to one log stream with this role',
        assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com', { conditions: sourceConditions }),
      });
      const streamArn = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroup.logGroupName}:log-stream:${INVOCATION_LOG_STREAM}`;
      role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [streamArn] }));
      const policy = role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
      acknowledge(policy, INLINE_POLICY_RULES,
        'The delivery role\'s only policy, scoped to the one stream Bedrock writes; it belongs with the role and dies with it.');
      // The log group is referenced, so CloudFormation orders it already; the role's policy is not.
      dependencies.push(role.node.findChild('DefaultPolicy'));
      loggingConfig.cloudWatchConfig = { logGroupName: logGroup.logGroupName, roleArn: role.roleArn };
      passRole.push(new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      }));
      this.logGroup = logGroup;
    }

    if (props.bucket) {
      props.bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'BedrockWritesInvocationLogs',
        principals: [new iam.ServicePrincipal('bedrock.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [props.bucket.arnForObjects(`${INVOCATION_LOG_PREFIX}/AWSLogs/${Aws.ACCOUNT_ID}/BedrockModelInvocationLogs/*`)],
        conditions: sourceConditions,
      }));
      if (props.key instanceof kms.Key) {
        props.key.addToResourcePolicy(new iam.PolicyStatement({
          sid: 'BedrockEncryptsInvocationLogs',
          principals: [new iam.ServicePrincipal('bedrock.amazonaws.com')],
          actions: ['kms:GenerateDataKey'],
          resources: ['*'],
          conditions: sourceConditions,
        }));
      }
      loggingConfig.s3Config = { bucketName: props.bucket.bucketName, keyPrefix: INVOCATION_LOG_PREFIX };
    }

    const call = (action: string, parameters?: Record<string, unknown>): cr.AwsSdkCall => ({
      service: '@aws-sdk/client-bedrock',
      action,
      parameters,
      // One configuration per account and region: the id never changes, so an update never deletes it.
      physicalResourceId: cr.PhysicalResourceId.of(`bedrock-model-invocation-logging-${Aws.REGION}`),
    });
    // The SDK-call function is one per stack: the first custom resource creates it and sets its logging. Naming a
    // log group for a function that already exists would make aws-cdk-lib add a log retention resource to it.
    const sdkFunctionExists = Stack.of(this).node.tryFindChild(SDK_CALL_FUNCTION_ID) !== undefined;
    const functionLogs = sdkFunctionExists ? undefined : encryptedLogGroup(this, 'FunctionLogs', props.key, logs.RetentionDays.ONE_YEAR);
    this.configuration = new cr.AwsCustomResource(this, 'Configuration', {
      resourceType: 'Custom::BedrockModelInvocationLogging',
      onCreate: call('PutModelInvocationLoggingConfiguration', { loggingConfig }),
      onUpdate: call('PutModelInvocationLoggingConfiguration', { loggingConfig }),
      onDelete: call('DeleteModelInvocationLoggingConfiguration'),
      installLatestAwsSdk: false,
      logGroup: functionLogs,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          // These account-level settings have no resource to name in a policy.
          actions: ['bedrock:PutModelInvocationLoggingConfiguration', 'bedrock:DeleteModelInvocationLoggingConfiguration'],
          resources: ['*'],
        }),
        ...passRole,
      ]),
    });
    for (const d of dependencies) this.configuration.node.addDependency(d);
    acknowledgeFunction(this.configuration);
  }
}

/** cdk-nag findings on the custom resource's policy and the singleton function aws-cdk-lib provides for it. */
function acknowledgeFunction(resource: cr.AwsCustomResource): void {
  const policy = resource.node.findChild('CustomResourcePolicy');
  acknowledge(policy, ['AwsSolutions-IAM5[Resource::*]'],
    'bedrock:PutModelInvocationLoggingConfiguration and DeleteModelInvocationLoggingConfiguration act on the account and region, and IAM accepts only * for them.');
  acknowledge(policy, INLINE_POLICY_RULES,
    'The custom resource\'s own policy: it exists for this configuration call and is removed with it.');
  acknowledgeSdkCallFunction(resource);
}
