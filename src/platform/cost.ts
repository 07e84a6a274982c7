import { auditTrailCostItems } from '../audit/cost';
import { PRICE_TABLE, monthly } from '../core/cost';
import { CostEstimate, CostLineItem } from '../core/cost-estimate';

/** What the platform's estimate depends on. @internal */
export interface PlatformCostInputs {
  readonly zones: number;
  readonly tenants: number;
  readonly routerReplicas: number;
  readonly alarms: number;
  readonly ownKey: boolean;
  readonly auditTrail?: { readonly cloudWatchLogs: boolean };
  readonly edge: CostEstimate;
}

/** Gateways per node: an m7g.large (8 GiB) holds six 1-GiB gateway requests next to the system pods. */
const GATEWAYS_PER_NODE = 6;

/** The monthly list-price estimate of the platform with its code-declared tenants. @internal */
export function estimatePlatformCost(inputs: PlatformCostInputs): CostEstimate {
  const p = PRICE_TABLE;
  const node = p.instanceHourly['m7g.large'];
  const nodes = Math.max(1, Math.ceil((inputs.tenants + inputs.routerReplicas / 4) / GATEWAYS_PER_NODE));
  const items: CostLineItem[] = [
    { item: 'EKS cluster', monthlyUsd: monthly(p.eksClusterHourly), assumption: 'standard support' },
    {
      item: `EKS Auto Mode nodes (${nodes} x m7g.large)`,
      monthlyUsd: nodes * monthly(node) * (1 + p.eksAutoModeFeeShare) + nodes * 80 * p.gp3PerGbMonth,
      assumption: `on demand, ${GATEWAYS_PER_NODE} gateways per node by memory request, about 12% Auto Mode fee, 80 GB of node storage each`,
    },
    { item: `NAT gateways (${inputs.zones})`, monthlyUsd: inputs.zones * monthly(p.natGatewayHourly), assumption: 'one per zone; data processed not included' },
    { item: 'Load balancer (internal)', monthlyUsd: monthly(p.albHourly) + monthly(p.albLcuHourly), assumption: 'one load balancer capacity unit' },
    { item: 'EFS (tenant state)', monthlyUsd: Math.max(1, inputs.tenants) * p.efsStandardPerGbMonth, assumption: '1 GB per tenant, Standard storage' },
    { item: 'AWS Backup (EFS)', monthlyUsd: Math.max(1, inputs.tenants) * 0.05, assumption: '1 GB per tenant of warm backup at 0.05 USD per GB' },
    { item: `Secrets Manager (${inputs.tenants})`, monthlyUsd: inputs.tenants * p.secretPerMonth, assumption: 'one gateway token per tenant' },
    {
      item: `CloudWatch (${inputs.alarms} alarms, Container Insights, logs)`,
      monthlyUsd: inputs.alarms * p.alarmPerMonth + 2 * p.logsIngestPerGb + 6 * p.logsStorePerGbMonth + 20 * p.customMetricPerMonth,
      assumption: 'Container Insights billed as about 20 metrics and 2 GB of logs a month (it grows with pods), flow logs and control-plane logs included',
    },
    { item: 'S3 (tenant data, access logs)', monthlyUsd: 2 * p.s3StandardPerGbMonth, assumption: '2 GB' },
  ];
  if (inputs.auditTrail) items.push(...auditTrailCostItems(inputs.auditTrail.cloudWatchLogs));
  for (const line of inputs.edge.items) items.push({ ...line, item: `Edge: ${line.item}` });
  if (inputs.ownKey) items.push({ item: 'KMS key', monthlyUsd: p.kmsKeyPerMonth, assumption: 'one customer-managed key' });
  return CostEstimate.of(items);
}
