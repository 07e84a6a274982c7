import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The three packs' findings on an inline (not managed) IAM policy. */
export const INLINE_POLICY_RULES = ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy'];

/** The three packs' findings on a Lambda function without reserved concurrency, dead-letter queue or VPC. */
export const LAMBDA_PLACEMENT_RULES = [
  'HIPAA.Security-LambdaConcurrency', 'NIST.800.53.R5-LambdaConcurrency', 'PCI.DSS.321-LambdaConcurrency',
  'HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ', 'PCI.DSS.321-LambdaDLQ',
  'HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC',
];

/** AwsSolutions' finding on a role with the AWS managed basic execution policy of Lambda functions. */
export const BASIC_EXECUTION_ROLE_RULE = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * Acknowledges cdk-nag findings on one construct of ours, with one specific reason.
 *
 * Acknowledgements are scoped to the construct that causes the finding (never to a stack), so that a user's
 * own nag run still reports everything that comes from their code.
 */
export function acknowledge(scope: IConstruct, ruleIds: string[], reason: string): void {
  for (const id of ruleIds) {
    if (id.includes('::')) {
      recordAcknowledgement(scope, id, reason);
    } else {
      Validations.of(scope).acknowledge({ id, reason });
    }
  }
}

/**
 * Findings about a managed policy carry its ARN in their id (`AwsSolutions-IAM4[Policy::arn:…]`), and
 * `Validations.acknowledge` refuses ids with `::`. This writes the same metadata entry it would write
 * (`annotation::<id>` -> reason), which is what cdk-nag reads.
 */
function recordAcknowledgement(scope: IConstruct, id: string, reason: string): void {
  const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
  const entries = scope.node.metadata.filter((m) => m.type === key);
  const acknowledged = { ...(entries.length > 0 ? entries[entries.length - 1].data : {}) };
  acknowledged[`annotation::${id}`] = reason;
  scope.node.addMetadata(key, acknowledged);
}

/**
 * cdk-nag findings on the singleton function aws-cdk-lib creates for `AwsCustomResource` SDK calls (one per stack):
 * a deploy-time function CloudFormation invokes and waits for.
 */
export function acknowledgeSdkCallFunction(scope: IConstruct): void {
  const fn = Stack.of(scope).node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!fn) return;
  const role = fn.node.tryFindChild('ServiceRole');
  if (role) {
    acknowledge(role, [BASIC_EXECUTION_ROLE_RULE],
      'aws-cdk-lib\'s custom resource function for SDK calls writes its own logs with the basic execution policy; its permissions for each call are the scoped policies of the custom resources.');
  }
  const resource = fn.node.tryFindChild('Resource');
  if (!resource) return;
  acknowledge(resource, LAMBDA_PLACEMENT_RULES, 'A deploy-time function that CloudFormation invokes once per create, update or delete and waits for: no queue or concurrency limit to protect, and it talks only to AWS control-plane APIs, so no VPC.');
  acknowledge(resource, ['AwsSolutions-L1'],
    'The runtime of aws-cdk-lib\'s function for SDK calls is chosen by aws-cdk-lib and moves forward with it; it runs only during deployments.');
}

/** The AWS managed policies AWS Backup's role for a selection carries (backup and restore jobs). */
export function acknowledgeBackupSelection(selection: IConstruct): void {
  acknowledge(selection, [
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
  ], 'AWS Backup\'s own service-role policies, maintained by AWS for the backup and restore jobs of this plan.');
}
