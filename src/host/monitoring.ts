import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmTopic } from '../core/alarm-topic';
import { checkEmails } from '../core/validation';

/** @internal */
export interface HostMonitoringProps {
  readonly instance: ec2.Instance;
  readonly key: kms.IKey;
  readonly alarmEmails: string[];
  /** The log group that receives the gateway journal (stream `<instance id>/openclaw`). */
  readonly logGroup: logs.ILogGroup;
  readonly loadBalancer?: elbv2.ApplicationLoadBalancer;
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
}

/**
 * systemd's own words when it restarts a failed unit (`openclaw.service: Scheduled restart job, restart counter is
 * at N.`); the journal forwarder copies them with the gateway's lines.
 */
export const RESTART_FILTER_PATTERN = '"openclaw.service: Scheduled restart job"';
/** Journal lines of the gateway or Ollama that carry an error level or an error message. */
export const ERROR_FILTER_PATTERN = '?ERROR ?error ?Error ?FATAL ?fatal';

/**
 * Alarms on what takes a gateway down (CPU, memory, disk, status checks, restart loops and error bursts in the
 * gateway journal, and with a load balancer 5xx and unhealthy targets) into an encrypted SNS topic. A failed system
 * status check also recovers the instance.
 * @internal
 */
export class HostMonitoring extends Construct {
  public readonly topic: sns.ITopic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: HostMonitoringProps) {
    super(scope, id);
    checkEmails(scope, 'alarmEmails', props.alarmEmails);
    this.topic = alarmTopic(this, 'Topic', props.key, { emails: props.alarmEmails });
    const instanceId = props.instance.instanceId;
    const ec2Metric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/EC2', metricName, dimensionsMap: { InstanceId: instanceId }, statistic, period: Duration.minutes(5),
    });
    const agentMetric = (metricName: string) => new cloudwatch.Metric({
      namespace: 'CWAgent', metricName, dimensionsMap: { InstanceId: instanceId }, statistic: 'Maximum', period: Duration.minutes(5),
    });

    this.alarm('CpuHigh', ec2Metric('CPUUtilization', 'Average'), 80, 3, 'CPU above 80% for 15 minutes');
    this.alarm('MemoryHigh', agentMetric('mem_used_percent'), 90, 3, 'Memory above 90% for 15 minutes');
    this.alarm('DiskHigh', agentMetric('disk_used_percent'), 85, 1, 'Root disk above 85% used');
    this.alarm('InstanceStatusCheckFailed', ec2Metric('StatusCheckFailed_Instance', 'Maximum').with({ period: Duration.minutes(1) }), 1, 3,
      'The instance status check failed for 3 minutes (OS or boot problem)');
    const system = this.alarm('SystemStatusCheckFailed', ec2Metric('StatusCheckFailed_System', 'Maximum').with({ period: Duration.minutes(1) }), 1, 2,
      'The system status check failed: AWS recovers the instance onto healthy hardware');
    system.addAlarmAction(new cwActions.Ec2Action(cwActions.Ec2InstanceAction.RECOVER));

    // The journal-based alarms work in every ingress shape, including the private and budget ones that have no
    // load balancer to report 5xx. The namespace is unique to this host so two hosts in one account never mix.
    const namespace = `OpenClaw/${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}`;
    const journalCount = (filterId: string, pattern: string, metricName: string) => new logs.MetricFilter(this, filterId, {
      logGroup: props.logGroup,
      filterPattern: logs.FilterPattern.literal(pattern),
      metricNamespace: namespace,
      metricName,
      metricValue: '1',
      defaultValue: 0,
      unit: cloudwatch.Unit.COUNT,
    });
    const restarts = journalCount('GatewayRestartsFilter', RESTART_FILTER_PATTERN, 'GatewayRestarts');
    this.alarm('GatewayRestartLoop', restarts.metric({ period: Duration.minutes(15), statistic: 'Sum' }), 3, 1,
      'systemd restarted the gateway 3 or more times in 15 minutes (crash or restart loop)');
    const errors = journalCount('GatewayErrorsFilter', ERROR_FILTER_PATTERN, 'GatewayErrorLines');
    this.alarm('GatewayErrors', errors.metric({ period: Duration.minutes(5), statistic: 'Sum' }), 20, 2,
      'The gateway journal had 20 or more error lines in each of two consecutive 5-minute periods');

    if (props.loadBalancer && props.targetGroup) {
      const lb = props.loadBalancer.metrics;
      this.alarm('LoadBalancer5xx', lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(5), statistic: 'Sum' }), 10, 1,
        'The load balancer answered 5xx more than 10 times in 5 minutes');
      this.alarm('Gateway5xx', props.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(5), statistic: 'Sum' }), 10, 1,
        'The gateway answered 5xx more than 10 times in 5 minutes');
      this.alarm('GatewayUnhealthy', props.targetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(1), statistic: 'Maximum' }), 1, 3,
        'The gateway failed its /healthz check for 3 minutes');
    }
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, periods: number, description: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.topic));
    alarm.addOkAction(new cwActions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
