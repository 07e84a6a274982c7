import { Aws, CfnElement, CustomResource, Duration, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { EdgeFirewallOptions, renderEdgeRules } from './firewall';
import { GlobalWebAclFunction } from './global-web-acl-function';
import { allowLogsService } from '../core/encryption';
import { BASIC_EXECUTION_ROLE_RULE, INLINE_POLICY_RULES, LAMBDA_PLACEMENT_RULES, acknowledge } from '../core/nag';
import { encryptedLogGroup } from '../core/storage';

/** Headers whose values never reach the WAF logs. */
export const REDACTED_HEADERS = ['authorization', 'cookie'];

/** @internal */
export interface GlobalWebAclProps {
  readonly key: kms.IKey;
  readonly firewall: EdgeFirewallOptions;
}

/**
 * A CLOUDFRONT-scope web ACL in us-east-1, owned by a custom resource so that a stack in any region creates,
 * updates and deletes it (see global-web-acl.lambda.ts), with full logging to a log group in us-east-1.
 * @internal
 */
export class GlobalWebAcl extends Construct {
  public readonly webAclArn: string;
  public readonly webAclName: string;
  public readonly logGroupName: string;
  /** The rules as sent to WAF (for tests and docs). */
  public readonly rules: any[];
  /** The provider of the us-east-1 handler, shared with the edge alarms. */
  public readonly serviceToken: string;
  /** The handler's role and its policy, which the edge alarms extend. */
  public readonly handlerRole: iam.IRole;
  public readonly handlerPolicy: Construct;

  constructor(scope: Construct, id: string, props: GlobalWebAclProps) {
    super(scope, id);
    this.webAclName = Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    // WAF requires the aws-waf-logs- prefix for a log group destination.
    this.logGroupName = `aws-waf-logs-${this.webAclName}`;
    this.rules = renderEdgeRules(scope, this.webAclName, props.firewall);

    allowLogsService(props.key);
    const handler = new GlobalWebAclFunction(this, 'Handler', {
      description: 'Creates, updates and deletes the edge web ACL and its logging in us-east-1',
      timeout: Duration.minutes(14),
      memorySize: 256,
      environmentEncryption: props.key,
      logGroup: encryptedLogGroup(this, 'HandlerLogs', props.key, logs.RetentionDays.ONE_YEAR),
    });
    const waf = `arn:${Aws.PARTITION}:wafv2:us-east-1`;
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['wafv2:CreateWebACL', 'wafv2:UpdateWebACL', 'wafv2:DeleteWebACL', 'wafv2:GetWebACL', 'wafv2:PutLoggingConfiguration', 'wafv2:DeleteLoggingConfiguration'],
      resources: [`${waf}:${Aws.ACCOUNT_ID}:global/webacl/${this.webAclName}/*`],
    }));
    handler.addToRolePolicy(new iam.PolicyStatement({
      // A web ACL's rules may reference managed rule groups (AWS's) and the account's own sets and groups.
      actions: ['wafv2:CreateWebACL', 'wafv2:UpdateWebACL'],
      resources: [
        `${waf}:*:global/managedruleset/*/*`,
        `${waf}:${Aws.ACCOUNT_ID}:global/ipset/*/*`,
        `${waf}:${Aws.ACCOUNT_ID}:global/regexpatternset/*/*`,
        `${waf}:${Aws.ACCOUNT_ID}:global/rulegroup/*/*`,
      ],
    }));
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:AssociateKmsKey'],
      resources: [`arn:${Aws.PARTITION}:logs:us-east-1:${Aws.ACCOUNT_ID}:log-group:${this.logGroupName}`, `arn:${Aws.PARTITION}:logs:us-east-1:${Aws.ACCOUNT_ID}:log-group:${this.logGroupName}:*`],
    }));
    handler.addToRolePolicy(new iam.PolicyStatement({
      // WAF writes the log group's resource policy for log delivery with the caller's permissions; these actions
      // have no resource-level form.
      actions: ['logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
      resources: ['*'],
    }));

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      providerFunctionEnvEncryption: props.key,
      logGroup: encryptedLogGroup(this, 'ProviderLogs', props.key, logs.RetentionDays.ONE_YEAR),
    });
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::OpenClawEdgeWebAcl',
      properties: {
        Name: this.webAclName,
        Description: `OpenClaw edge firewall of ${Stack.of(this).stackName}`,
        RulesJson: Stack.of(this).toJsonString(this.rules),
        MetricName: this.webAclName,
        LogGroupName: this.logGroupName,
        LogRetentionDays: String(props.firewall.logRetention ?? logs.RetentionDays.ONE_YEAR),
        RedactedHeaders: REDACTED_HEADERS,
        LogKmsKeyArn: props.firewall.logEncryptionKeyArn,
      },
    });
    this.webAclArn = resource.getAttString('Arn');
    this.serviceToken = provider.serviceToken;
    this.handlerRole = handler.role!;
    this.handlerPolicy = handler.role!.node.findChild('DefaultPolicy');
    acknowledgeHandler(handler, provider, this.webAclName, this.logGroupName);
  }
}

function acknowledgeHandler(handler: GlobalWebAclFunction, provider: cr.Provider, webAclName: string, logGroupName: string): void {
  const policy = handler.role!.node.findChild('DefaultPolicy').node.defaultChild!;
  acknowledge(policy, ['AwsSolutions-IAM5[Resource::*]'],
    'logs:CreateLogDelivery, DeleteLogDelivery, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups have no resource-level form; WAF needs them to attach log delivery to the log group.');
  acknowledge(policy, [
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:wafv2:us-east-1:*:global/managedruleset/*/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:wafv2:us-east-1:<AWS::AccountId>:global/ipset/*/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:wafv2:us-east-1:<AWS::AccountId>:global/regexpatternset/*/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:wafv2:us-east-1:<AWS::AccountId>:global/rulegroup/*/*]',
  ], 'Creating or updating a web ACL needs permission on every rule group and set its rules reference: AWS\'s managed rule groups (owned by AWS accounts) and the account\'s own sets and groups that custom rules may name.');
  acknowledge(policy, [
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:wafv2:us-east-1:<AWS::AccountId>:global/webacl/${webAclName}/*]`,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:us-east-1:<AWS::AccountId>:log-group:${logGroupName}:*]`,
  ], 'WAF gives the web ACL its id when it is created, so the ARN ends in a wildcard after this web ACL\'s name; the log group ARN ends in :* for its streams.');
  acknowledge(policy, INLINE_POLICY_RULES,
    'The handler role\'s only policy, scoped to this web ACL and its log group; it belongs with the role and dies with it.');
  const framework = provider.node.findChild('framework-onEvent');
  for (const role of [handler.role!, framework.node.findChild('ServiceRole')]) {
    acknowledge(role, [BASIC_EXECUTION_ROLE_RULE],
      'A deploy-time function writes its own logs with the basic execution policy; what it may change is the scoped inline policy beside it.');
  }
  const frameworkPolicy = framework.node.findChild('ServiceRole').node.findChild('DefaultPolicy').node.defaultChild!;
  acknowledge(frameworkPolicy, [`AwsSolutions-IAM5[Resource::<${Stack.of(handler).getLogicalId(handler.node.defaultChild as CfnElement)}.Arn>:*]`],
    'aws-cdk-lib\'s provider framework may invoke every version of the handler function: that function and nothing else.');
  acknowledge(frameworkPolicy, INLINE_POLICY_RULES,
    'The provider framework role\'s only policy: invoke the handler.');
  acknowledge(framework.node.defaultChild!, ['AwsSolutions-L1'],
    'The runtime of aws-cdk-lib\'s provider framework function is chosen by aws-cdk-lib and moves forward with it; it runs only during deployments.');
  for (const fn of [handler.node.defaultChild!, provider.node.findChild('framework-onEvent').node.defaultChild!]) {
    acknowledge(fn, LAMBDA_PLACEMENT_RULES, 'A deploy-time function that CloudFormation invokes once per create, update or delete and waits for: no queue or concurrency limit to protect, and it talks only to the WAF and CloudWatch Logs APIs, so no VPC.');
  }
}
