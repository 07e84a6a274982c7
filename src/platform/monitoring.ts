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
    /** An alarm to the topic (on alarm and back to OK); missing data counts as fine unless said otherwise. */
    const add = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods: number,
      comparisonOperator: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description, metric, threshold, evaluationPeriods, comparisonOperator, treatMissingData,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };
    /** A Metrics Insights query over Container Insights. */
    const insights = (query: string, label: string, minutes: number) =>
      new cloudwatch.MathExpression({ expression: `SELECT ${query}`, period: Duration.minutes(minutes), label });
    const cluster = `ClusterName = '${props.clusterName}'`;
    const pods = 'SCHEMA("ContainerInsights", ClusterName, Namespace, PodName)';
    const namespaces = 'SCHEMA("ContainerInsights", ClusterName, Namespace)';

    // Metrics Insights queries cover every tenant with one alarm each, however many tenants come and go.
    add('PodRestarts',
      `A pod of the OpenClaw platform has restarted its containers more than ${RESTARTS_THRESHOLD} times since it started (a gateway or the router crash-looping); it clears when the pod is replaced`,
      insights(`MAX(pod_number_of_container_restarts) FROM ${pods} WHERE ${cluster}`, 'Most container restarts of one pod', 15),
      RESTARTS_THRESHOLD, 1);
    add('RouterPodsDown', 'No router pod is running: no tenant can be reached',
      insights(`MIN(namespace_number_of_running_pods) FROM ${namespaces} WHERE ${cluster} AND Namespace = '${SYSTEM_NAMESPACE}'`, 'Running pods in the router namespace', 5),
      1, 2, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, cloudwatch.TreatMissingData.BREACHING);
    add('PodsPending', 'Pods have been pending for 15 minutes: no node can take them (capacity, node pool limits or a volume that does not mount)',
      insights(`MAX(pod_status_pending) FROM ${pods} WHERE ${cluster}`, 'Pending pods', 5),
      1, 3, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
    add('MemoryNearLimit',
      `A platform pod has used more than ${MEMORY_NEAR_LIMIT_PERCENT}% of its memory limit for 15 minutes (out-of-memory kills follow)`,
      insights(`MAX(pod_memory_utilization_over_pod_limit) FROM ${pods} WHERE ${cluster}`, 'Highest memory use of a pod, % of its limit', 5),
      MEMORY_NEAR_LIMIT_PERCENT, 3);

    // Quota saturation, per tenant namespace (one series each): memory requested and pods running against the
    // default quota. The platform's namespaces are left out.
    const tenantsOnly = `${cluster} AND Namespace != 'kube-system' AND Namespace != 'amazon-cloudwatch' AND Namespace != '${SYSTEM_NAMESPACE}'`;
    add('QuotaMemoryNearlyFull',
      `A tenant namespace requests more than ${QUOTA_NEARLY_FULL_PERCENT}% of the default memory quota: its gateway cannot be replaced or rescheduled beside another pod`,
      insights(`SUM(pod_memory_request) FROM ${pods} WHERE ${tenantsOnly} GROUP BY Namespace ORDER BY SUM() DESC`, 'Memory requested per tenant namespace', 5),
      Math.floor(props.quota.memoryBytes * QUOTA_NEARLY_FULL_PERCENT / 100), 3);
    add('QuotaPodsNearlyFull', `A tenant namespace runs ${QUOTA_NEARLY_FULL_PERCENT}% or more of the default pod quota`,
      insights(`MAX(namespace_number_of_running_pods) FROM ${namespaces} WHERE ${tenantsOnly} GROUP BY Namespace ORDER BY MAX() DESC`, 'Running pods per tenant namespace', 5),
      Math.ceil(props.quota.pods * QUOTA_NEARLY_FULL_PERCENT / 100), 3, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);

    // Bedrock, per allowed model: throttling (a tenant or the account at its quota) and latency.
    props.modelIds.forEach((modelId, i) => {
      const bedrock = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/Bedrock', metricName, dimensionsMap: { ModelId: modelId }, statistic, period: Duration.minutes(5) });
      add(`BedrockThrottles${i}`, `Amazon Bedrock throttled more than ${BEDROCK_THROTTLES_THRESHOLD} calls to ${modelId} in 5 minutes`,
        bedrock('InvocationThrottles', 'Sum'), BEDROCK_THROTTLES_THRESHOLD, 1);
      add(`BedrockLatency${i}`, `Amazon Bedrock p90 latency of ${modelId} above ${BEDROCK_LATENCY_P90_MS / 1000} s for 15 minutes`,
        bedrock('InvocationLatency', 'p90'), BEDROCK_LATENCY_P90_MS, 3);
    });
  }
}
