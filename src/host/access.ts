import { Aws, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { grantBedrockInvoke, inferenceProfileFindings } from '../core/bedrock-access';
import { INLINE_POLICY_RULES, acknowledge } from '../core/nag';
import { encryptedLogGroup, secureBucket } from '../core/storage';

/** @internal */
export interface HostAccessProps {
  readonly instance: ec2.Instance;
  readonly role: iam.Role;
  readonly key: kms.IKey;
  readonly logGroup: logs.ILogGroup;
  readonly backupBucket: s3.IBucket;
  readonly fileSystem?: efs.FileSystem;
  readonly logRetention: logs.RetentionDays;
  /** Bedrock model or inference profile ids the gateway may invoke. */
  readonly bedrockModelIds: string[];
}

/**
 * What the instance may do, and how operators reach it: Session Manager only, with sessions logged to an
 * encrypted log group and encrypted end to end with the construct's key.
 * @internal
 */
export class HostAccess extends Construct {
  public readonly sessionLogGroup: logs.LogGroup;
  public readonly sessionDocumentName: string;
  private readonly key: kms.IKey;
  private readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: HostAccessProps) {
    super(scope, id);
    this.key = props.key;
    this.logRetention = props.logRetention;
    const role = props.role;

    // Session Manager's agent needs exactly the AWS-managed core policy; nothing else is managed.
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
    acknowledge(role, ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]'],
      'The AWS-maintained policy of the SSM agent (Session Manager is the only way in); AWS updates it as the agent changes.');

    this.sessionLogGroup = encryptedLogGroup(this, 'SessionLogs', props.key, props.logRetention);
    const document = new ssm.CfnDocument(this, 'SessionPreferences', {
      documentType: 'Session',
      content: {
        schemaVersion: '1.0',
        description: 'OpenClaw host sessions: logged to CloudWatch, encrypted with the host key',
        sessionType: 'Standard_Stream',
        inputs: {
          cloudWatchLogGroupName: this.sessionLogGroup.logGroupName,
          cloudWatchEncryptionEnabled: true,
          cloudWatchStreamingEnabled: true,
          kmsKeyId: props.key.keyId,
          runAsEnabled: false,
          idleSessionTimeout: '20',
          shellProfile: { linux: 'cd ~ && exec bash -l' },
        },
      },
    });
    this.sessionDocumentName = document.ref;

    // Logs: the gateway journal and the session transcripts.
    props.logGroup.grantWrite(role);
    this.sessionLogGroup.grantWrite(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DescribeOwnLogGroups',
      actions: ['logs:DescribeLogGroups'],
      resources: ['*'],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'PublishAgentMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': 'CWAgent' } },
    }));
    // Session encryption and the encrypted volume, secrets and bucket all use the host key.
    props.key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    props.backupBucket.grantReadWrite(role);
    if (props.fileSystem) {
      props.fileSystem.grant(role, 'elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess');
    }

    if (props.bedrockModelIds.length > 0) grantBedrockInvoke(role, props.bedrockModelIds, 'InvokeChosenBedrockModels');
    acknowledgeWildcards(role, props);
  }

  /** An account trail across all regions, for accounts that have none. */
  public addAccountTrail(accessLogs: s3.IBucket): cloudtrail.Trail {
    const bucket = secureBucket(this, 'TrailBucket', { key: this.key, accessLogs, accessLogsPrefix: 'cloudtrail/' });
    if (this.key instanceof kms.Key) {
      this.key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudTrailToEncryptLogs',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` } },
      }));
    }
    const trail = new cloudtrail.Trail(this, 'Trail', {
      bucket,
      encryptionKey: this.key,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: encryptedLogGroup(this, 'TrailLogs', this.key, this.logRetention),
    });
    return trail;
  }
}

function acknowledgeWildcards(role: iam.Role, props: HostAccessProps): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const stack = Stack.of(role);
  const bucketId = stack.resolve((props.backupBucket.node.defaultChild as s3.CfnBucket).logicalId);
  const reasons: Array<[string, string]> = [
    ['Resource::*', 'Only actions without resource-level permissions use *: logs:DescribeLogGroups, cloudwatch:PutMetricData (limited to the CWAgent namespace), Bedrock model listing.'],
    ['Action::kms:GenerateDataKey*', 'Granted by the CDK grant helpers on the host\'s own key only.'],
    ['Action::kms:ReEncrypt*', 'Granted by the CDK grant helpers on the host\'s own key only.'],
    ['Action::s3:Abort*', 'Backups: read and write objects in the host\'s own backup bucket only.'],
    ['Action::s3:DeleteObject*', 'Backups: read and write objects in the host\'s own backup bucket only.'],
    ['Action::s3:GetBucket*', 'Backups: read and write objects in the host\'s own backup bucket only.'],
    ['Action::s3:GetObject*', 'Backups: read and write objects in the host\'s own backup bucket only.'],
    ['Action::s3:List*', 'Backups: read and write objects in the host\'s own backup bucket only.'],
    [`Resource::<${bucketId}.Arn>/*`, 'Backups: objects in the host\'s own backup bucket only.'],
  ];
  reasons.push(...inferenceProfileFindings(props.bedrockModelIds));
  for (const [finding, reason] of reasons) {
    acknowledge(policy, [`AwsSolutions-IAM5[${finding}]`], reason);
  }
  acknowledge(policy, INLINE_POLICY_RULES,
    'The policy belongs to this host\'s role alone and names only the host\'s own resources; a reusable managed policy would invite attaching it elsewhere.');
}
