import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { OriginHeaderRotationFunction } from './origin-header-rotation-function';
import { BASIC_EXECUTION_ROLE_RULE, INLINE_POLICY_RULES, LAMBDA_PLACEMENT_RULES, acknowledge } from '../core/nag';
import { encryptedLogGroup } from '../core/storage';
import { invalidProp } from '../core/validation';

/** The header CloudFront adds to every request to a host's internet-facing load balancer. */
export const ORIGIN_HEADER = 'x-openclaw-origin-verify';
/** The id of the host's load balancer among the distribution's origins. */
export const HOST_ORIGIN_ID = 'openclaw-host-load-balancer';
/** The host web ACL's rule that checks the header (see SecureOpenClawHost.restrictToEdge). */
export const HEADER_RULE = 'RequireEdgeOriginHeader';

/** The origin header's rotation period: whole days within Secrets Manager's rotation range. @internal */
export function checkHeaderRotation(scope: Construct, prop: string, rotation: Duration): void {
  if (rotation.isUnresolved()) return;
  const days = rotation.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1 || days > 1000) {
    invalidProp(scope, prop, rotation.toHumanString(), 'a whole number of days from 1 to 1000 (Secrets Manager\'s rotation range)');
  }
}

/**
 * The web ACL rule that blocks every request without exactly the origin header's value (rule 0 of the origin's
 * regional web ACL; the rotation function rewrites it to accept two values while it switches).
 * @internal
 */
export function requireOriginHeaderRule(
  headerName: string,
  value: string,
  visibility: wafv2.CfnWebACL.VisibilityConfigProperty,
): wafv2.CfnWebACL.RuleProperty {
  return {
    name: HEADER_RULE,
    priority: 0,
    action: { block: {} },
    statement: {
      notStatement: {
        statement: {
          byteMatchStatement: {
            fieldToMatch: { singleHeader: { Name: headerName } },
            positionalConstraint: 'EXACTLY',
            searchString: value,
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        },
      },
    },
    visibilityConfig: visibility,
  };
}

/** @internal */
export interface OriginHeaderRotationProps {
  readonly secret: secretsmanager.Secret;
  readonly key: kms.IKey;
  readonly distribution: cloudfront.Distribution;
  readonly webAcl: wafv2.CfnWebACL;
  readonly every: Duration;
}

/**
 * Rotates the secret origin header on a schedule (see origin-header-rotation.lambda.ts). The function may read and
 * stage versions of this secret, change this web ACL and this distribution, nothing else.
 * @internal
 */
export function rotateOriginHeader(scope: Construct, props: OriginHeaderRotationProps): OriginHeaderRotationFunction {
  // The web ACL's Ref is "name|id|scope".
  const webAclName = Fn.select(0, Fn.split('|', props.webAcl.ref));
  const fn = new OriginHeaderRotationFunction(scope, 'OriginHeaderRotation', {
    description: 'Rotates the secret header between CloudFront and the OpenClaw host\'s load balancer without dropping a request',
    timeout: Duration.minutes(2),
    environmentEncryption: props.key,
    logGroup: encryptedLogGroup(scope, 'OriginHeaderRotationLogs', props.key, logs.RetentionDays.ONE_YEAR),
    environment: {
      DISTRIBUTION_ID: props.distribution.distributionId,
      ORIGIN_ID: HOST_ORIGIN_ID,
      HEADER_NAME: ORIGIN_HEADER,
      WEB_ACL_NAME: webAclName,
      WEB_ACL_ID: props.webAcl.attrId,
      RULE_NAME: HEADER_RULE,
    },
  });
  props.secret.grantRead(fn);
  props.secret.grantWrite(fn);
  fn.addToRolePolicy(new iam.PolicyStatement({
    actions: ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'],
    resources: [props.secret.secretArn],
  }));
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }));
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['wafv2:GetWebACL', 'wafv2:UpdateWebACL'], resources: [props.webAcl.attrArn] }));
  const waf = `arn:${Aws.PARTITION}:wafv2:${Aws.REGION}`;
  fn.addToRolePolicy(new iam.PolicyStatement({
    // Updating a web ACL needs permission on the rule groups its rules reference (AWS's managed ones).
    actions: ['wafv2:UpdateWebACL'],
    resources: [`${waf}:*:regional/managedruleset/*/*`],
  }));
  fn.addToRolePolicy(new iam.PolicyStatement({
    actions: ['cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'],
    resources: [`arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${props.distribution.distributionId}`],
  }));
  props.secret.addRotationSchedule('Rotation', {
    rotationLambda: fn,
    automaticallyAfter: props.every,
    // The first value is the one CloudFormation deploys; rotating at once would only race the deployment.
    rotateImmediatelyOnUpdate: false,
  });
  acknowledgeRotation(fn);
  return fn;
}

function acknowledgeRotation(fn: OriginHeaderRotationFunction): void {
  const role = fn.role!;
  acknowledge(role, [BASIC_EXECUTION_ROLE_RULE],
    'The rotation function writes its own logs with the basic execution policy; what it may change is the scoped inline policy beside it.');
  const policy = role.node.findChild('DefaultPolicy').node.defaultChild!;
  acknowledge(policy, ['AwsSolutions-IAM5[Resource::*]'], 'secretsmanager:GetRandomPassword has no resource: it generates a value and touches no secret.');
  acknowledge(policy, ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:wafv2:<AWS::Region>:*:regional/managedruleset/*/*]'],
    'UpdateWebACL needs permission on the AWS managed rule groups the host\'s web ACL references; they belong to AWS accounts.');
  acknowledge(policy, INLINE_POLICY_RULES,
    'The rotation role\'s only policy, scoped to this secret, this web ACL and this distribution; it dies with the role.');
  acknowledge(fn.node.defaultChild!, LAMBDA_PLACEMENT_RULES, 'Secrets Manager invokes the rotation function a few times a month and retries a failed step itself; it calls only AWS APIs (Secrets Manager, WAF, CloudFront), so no VPC.');
}
