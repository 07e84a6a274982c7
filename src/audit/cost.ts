import { PRICE_TABLE } from '../core/cost';
import { CostLineItem } from '../core/cost-estimate';

/** The cost lines of a Bedrock audit trail a construct creates: the trail and, optionally, its CloudWatch Logs copy. @internal */
export function auditTrailCostItems(cloudWatchLogs: boolean): CostLineItem[] {
  const p = PRICE_TABLE;
  const items: CostLineItem[] = [{
    item: 'CloudTrail (Bedrock audit trail)',
    monthlyUsd: p.cloudTrailManagementPer100k + p.s3StandardPerGbMonth,
    assumption: '100,000 management events a month, billed as a second copy (the account\'s first trail is free); 1 GB of log files; Athena billed per query',
  }];
  if (cloudWatchLogs) {
    items.push({
      item: 'CloudWatch Logs (trail copy, 2 alarms)',
      monthlyUsd: 0.5 * p.logsIngestPerGb + 6 * 0.5 * p.logsStorePerGbMonth + 2 * p.alarmPerMonth + p.customMetricPerMonth,
      assumption: '0.5 GB of events a month kept a year, the denied-calls metric',
    });
  }
  return items;
}
