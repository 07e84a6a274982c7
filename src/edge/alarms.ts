import { Aws, CustomResource, Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IDependable } from 'constructs';
import { INLINE_POLICY_RULES, acknowledge } from '../core/nag';

/** @internal */
export interface EdgeAlarmsProps {
  /** The us-east-1 handler's provider and role (shared with the web ACL). */
  readonly serviceToken: string;
  readonly handlerRole: iam.IRole;
  readonly handlerPolicy: IDependable;
  /** The web ACL's metric name (its WebACL dimension). */
  readonly webAclMetricName: string;
  readonly distributionId: string;
  readonly topic: sns.ITopic;
  readonly blockedRequestsThreshold: number;
  readonly errorRatePercent: number;
}

/** One alarm as PutMetricAlarm takes it (no actions: the state change is forwarded instead). */
export interface EdgeAlarmDefinition {
  readonly AlarmName: string;
  readonly AlarmDescription: string;
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: Array<{ Name: string; Value: string }>;
  readonly Statistic: string;
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly TreatMissingData: string;
}

/**
 * Alarms on the edge's own metrics. CloudFront and CLOUDFRONT-scope WAF publish their metrics in us-east-1 only,
 * and an alarm must live where its metric does, so the us-east-1 handler creates the alarms there and a rule there
 * forwards their state changes to the stack region's default event bus; a rule of the stack sends them to the
 * alarm topic. In a us-east-1 stack the state changes arrive on the default bus directly.
 * @internal
 */
export class EdgeAlarms extends Construct {
  public readonly definitions: EdgeAlarmDefinition[];
  public readonly alarmArns: string[];
  public readonly notifyRule: events.Rule;

  constructor(scope: Construct, id: string, props: EdgeAlarmsProps) {
    super(scope, id);
    const prefix = Names.uniqueResourceName(this, { maxLength: 200, separator: '-' });
    // EventBridge rule names have at most 64 characters.
    const forwardRuleName = `${Names.uniqueResourceName(this, { maxLength: 56, separator: '-' })}-forward`;
    this.definitions = [
      {
        AlarmName: `${prefix}-BlockedRequests`,
        AlarmDescription: `The edge web ACL blocked ${props.blockedRequestsThreshold} or more requests within 5 minutes: an attack or a misbehaving client`,
        Namespace: 'AWS/WAFV2',
        MetricName: 'BlockedRequests',
        Dimensions: [{ Name: 'WebACL', Value: props.webAclMetricName }, { Name: 'Rule', Value: 'ALL' }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: props.blockedRequestsThreshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
      {
        AlarmName: `${prefix}-5xxErrorRate`,
        AlarmDescription: `More than ${props.errorRatePercent}% of the edge's responses were 5xx for 15 minutes: the gateway is down or failing`,
        Namespace: 'AWS/CloudFront',
        MetricName: '5xxErrorRate',
        Dimensions: [{ Name: 'DistributionId', Value: props.distributionId }, { Name: 'Region', Value: 'Global' }],
        Statistic: 'Average',
        Period: 300,
        EvaluationPeriods: 3,
        Threshold: props.errorRatePercent,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    ];
    const alarmArnPrefix = `arn:${Aws.PARTITION}:cloudwatch:us-east-1:${Aws.ACCOUNT_ID}:alarm:`;
    this.alarmArns = this.definitions.map((d) => `${alarmArnPrefix}${d.AlarmName}`);
    const defaultBus = `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`;

    const forwardRole = new iam.Role(this, 'ForwardRole', {
      description: 'EventBridge in us-east-1 forwards the OpenClaw edge alarms to the stack region with this role',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
    });
    forwardRole.addToPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [defaultBus] }));
    acknowledge(forwardRole.node.findChild('DefaultPolicy').node.defaultChild!, INLINE_POLICY_RULES,
      'The forwarding role\'s only policy: put events on the stack region\'s default bus.');

    props.handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
      resources: [`${alarmArnPrefix}${prefix}-*`],
    }));
    props.handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['events:PutRule', 'events:DeleteRule', 'events:PutTargets', 'events:RemoveTargets'],
      resources: [`arn:${Aws.PARTITION}:events:us-east-1:${Aws.ACCOUNT_ID}:rule/${forwardRuleName}`],
    }));
    props.handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [forwardRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
    }));

    acknowledge((props.handlerPolicy as Construct).node.defaultChild!, [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:us-east-1:<AWS::AccountId>:alarm:${prefix}-*]`],
      'The handler manages the edge\'s alarms, which all carry this edge\'s name as prefix.');
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: props.serviceToken,
      resourceType: 'Custom::OpenClawEdgeAlarms',
      properties: {
        AlarmsJson: Stack.of(this).toJsonString(this.definitions),
        AlarmArnPrefix: alarmArnPrefix,
        ForwardRuleName: forwardRuleName,
        TargetRegion: Aws.REGION,
        TargetEventBusArn: defaultBus,
        ForwardRoleArn: forwardRole.roleArn,
      },
    });
    // The role is referenced already; its policy is not, and forwarding needs it.
    resource.node.addDependency(props.handlerPolicy, forwardRole.node.findChild('DefaultPolicy'));

    const field = (path: string) => events.EventField.fromPath(path);
    this.notifyRule = new events.Rule(this, 'NotifyRule', {
      description: 'Sends the OpenClaw edge alarms (created in us-east-1) to the alarm topic',
      eventPattern: { source: ['aws.cloudwatch'], detailType: ['CloudWatch Alarm State Change'], resources: this.alarmArns },
      targets: [new targets.SnsTopic(props.topic, {
        message: events.RuleTargetInput.fromText(
          `${field('$.detail.alarmName')} is ${field('$.detail.state.value')}: ${field('$.detail.state.reason')}`),
      })],
    });
    this.notifyRule.node.addDependency(resource);
  }
}
