import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { OpenClawEdge } from '../../edge/edge';
import { PlatformSpec } from '../tenant-manifests';
import { TenantSpec } from '../tenant-spec';

/** What the self-service needs of the platform. @internal */
export interface SelfServiceContext {
  readonly vpc: ec2.IVpc;
  readonly cluster: eks.Cluster;
  readonly key: kms.IKey;
  readonly tenantRole: iam.IRole;
  readonly fileSystem: efs.FileSystem;
  readonly edge: OpenClawEdge;
  readonly alarmTopic: sns.ITopic;
  readonly accessLogs: s3.IBucket;
  readonly platformSpec: PlatformSpec;
  readonly tenantDefaults: Omit<TenantSpec, 'name'>;
  readonly logRetention: logs.RetentionDays;
}

