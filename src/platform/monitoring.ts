import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SYSTEM_NAMESPACE } from './tenant-spec';

/** What the platform's alarms watch. @internal */
export interface PlatformMonitoringProps {
  readonly clusterName: string;
  readonly topic: sns.ITopic;
  readonly modelIds: string[];
  /** The tenants' default quota: memory in bytes and pods. */
  readonly quota: { readonly memoryBytes: number; readonly pods: number };
}

/** Share of a tenant namespace's quota in use that raises the quota alarms. */
export const QUOTA_NEARLY_FULL_PERCENT = 90;

/** Container restarts of one pod (over the pod's life: Container Insights counts them since the pod started). */
export const RESTARTS_THRESHOLD = 3;
/** Memory use of a pod, in percent of its limit, that raises the alarm when held for 15 minutes. */
export const MEMORY_NEAR_LIMIT_PERCENT = 90;
/** Bedrock throttled calls in 5 minutes (any allowed model) that raise the alarm. */
export const BEDROCK_THROTTLES_THRESHOLD = 10;
/** Bedrock p90 latency (milliseconds, 3 periods of 5 minutes in a row) that raises the alarm. */
export const BEDROCK_LATENCY_P90_MS = 30_000;

/**
 * The platform's alarms, all to one encrypted topic: pods restarting (Container Insights), namespaces near their
 * quota, and Amazon Bedrock throttling or slowing down for the allowed models.
 * @internal
 */
export class PlatformMonitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    const action = new actions.SnsAction(props.topic);
    const add = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };
    const cluster = props.clusterName;

    // Metrics Insights queries cover every tenant with one alarm each, however many tenants come and go.
    add(new cloudwatch.Alarm(this, 'PodRestarts', {
      alarmDescription: `A pod of the OpenClaw platform has restarted its containers more than ${RESTARTS_THRESHOLD} times since it started (a gateway or the router crash-looping); it clears when the pod is replaced`,
      metric: new cloudwatch.MathExpression({
        expression: `SELECT MAX(pod_number_of_container_restarts) FROM SCHEMA("ContainerInsights", ClusterName, Namespace, PodName) WHERE ClusterName = '${cluster}'`,
        period: Duration.minutes(15),
        label: 'Most container restarts of one pod',
      }),
      threshold: RESTARTS_THRESHOLD,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
    add(new cloudwatch.Alarm(this, 'RouterPodsDown', {
      alarmDescription: 'No router pod is running: no tenant can be reached',
      metric: new cloudwatch.MathExpression({
        expression: `SELECT MIN(namespace_number_of_running_pods) FROM SCHEMA("ContainerInsights", ClusterName, Namespace) WHERE ClusterName = '${cluster}' AND Namespace = '${SYSTEM_NAMESPACE}'`,
        period: Duration.minutes(5),
        label: 'Running pods in the router namespace',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }));
    add(new cloudwatch.Alarm(this, 'PodsPending', {
      alarmDescription: 'Pods have been pending for 15 minutes: no node can take them (capacity, node pool limits or a volume that does not mount)',
      metric: new cloudwatch.MathExpression({
        expression: `SELECT MAX(pod_status_pending) FROM SCHEMA("ContainerInsights", ClusterName, Namespace, PodName) WHERE ClusterName = '${cluster}'`,
        period: Duration.minutes(5),
        label: 'Pending pods',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));

    add(new cloudwatch.Alarm(this, 'MemoryNearLimit', {
      alarmDescription: `A platform pod has used more than ${MEMORY_NEAR_LIMIT_PERCENT}% of its memory limit for 15 minutes (out-of-memory kills follow)`,
      metric: new cloudwatch.MathExpression({
        expression: `SELECT MAX(pod_memory_utilization_over_pod_limit) FROM SCHEMA("ContainerInsights", ClusterName, Namespace, PodName) WHERE ClusterName = '${cluster}'`,
        period: Duration.minutes(5),
        label: 'Highest memory use of a pod, % of its limit',
      }),
      threshold: MEMORY_NEAR_LIMIT_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));

    // Quota saturation, per tenant namespace (one series each): memory requested and pods running against the
    // default quota. The platform's namespaces are left out.
    const tenantsOnly = `ClusterName = '${cluster}' AND Namespace != 'kube-system' AND Namespace != 'amazon-cloudwatch' AND Namespace != '${SYSTEM_NAMESPACE}'`;
    add(new cloudwatch.Alarm(this, 'QuotaMemoryNearlyFull', {
      alarmDescription: `A tenant namespace requests more than ${QUOTA_NEARLY_FULL_PERCENT}% of the default memory quota: its gateway cannot be replaced or rescheduled beside another pod`,
      metric: new cloudwatch.MathExpression({
        expression: `SELECT SUM(pod_memory_request) FROM SCHEMA("ContainerInsights", ClusterName, Namespace, PodName) WHERE ${tenantsOnly} GROUP BY Namespace ORDER BY SUM() DESC`,
        period: Duration.minutes(5),
        label: 'Memory requested per tenant namespace',
      }),
      threshold: Math.floor(props.quota.memoryBytes * QUOTA_NEARLY_FULL_PERCENT / 100),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
    add(new cloudwatch.Alarm(this, 'QuotaPodsNearlyFull', {
      alarmDescription: `A tenant namespace runs ${QUOTA_NEARLY_FULL_PERCENT}% or more of the default pod quota`,
      metric: new cloudwatch.MathExpression({
        expression: `SELECT MAX(namespace_number_of_running_pods) FROM SCHEMA("ContainerInsights", ClusterName, Namespace) WHERE ${tenantsOnly} GROUP BY Namespace ORDER BY MAX() DESC`,
        period: Duration.minutes(5),
        label: 'Running pods per tenant namespace',
      }),
      threshold: Math.ceil(props.quota.pods * QUOTA_NEARLY_FULL_PERCENT / 100),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));

    // Bedrock, per allowed model: throttling (a tenant or the account at its quota) and latency.
    props.modelIds.forEach((modelId, i) => {
      const dims = { ModelId: modelId };
      add(new cloudwatch.Alarm(this, `BedrockThrottles${i}`, {
        alarmDescription: `Amazon Bedrock throttled more than ${BEDROCK_THROTTLES_THRESHOLD} calls to ${modelId} in 5 minutes`,
        metric: new cloudwatch.Metric({ namespace: 'AWS/Bedrock', metricName: 'InvocationThrottles', dimensionsMap: dims, statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: BEDROCK_THROTTLES_THRESHOLD,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }));
      add(new cloudwatch.Alarm(this, `BedrockLatency${i}`, {
        alarmDescription: `Amazon Bedrock p90 latency of ${modelId} above ${BEDROCK_LATENCY_P90_MS / 1000} s for 15 minutes`,
        metric: new cloudwatch.Metric({ namespace: 'AWS/Bedrock', metricName: 'InvocationLatency', dimensionsMap: dims, statistic: 'p90', period: Duration.minutes(5) }),
        threshold: BEDROCK_LATENCY_P90_MS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }));
    });
  }
}
