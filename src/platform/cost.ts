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
  /** Managed node groups instead of Auto Mode: the instance type and the node count (the group's minimum). */
  readonly nodeGroup?: { readonly instanceType: string; readonly nodes: number };
  /** Tenant self-service: its alarms are counted in `alarms`. */
  readonly selfService?: { readonly maxTenants: number };
  /** Per-tenant budgets: its alarms are counted in `alarms`. */
  readonly budgets?: { readonly runsPerMonth: number };
}

/** Gateways per node: an m7g.large (8 GiB) holds six 1-GiB gateway requests next to the system pods. */
const GATEWAYS_PER_NODE = 6;

/** The monthly list-price estimate of the platform with its code-declared tenants. @internal */
export function estimatePlatformCost(inputs: PlatformCostInputs): CostEstimate {
  const p = PRICE_TABLE;
  const byMemory = Math.max(1, Math.ceil((inputs.tenants + inputs.routerReplicas / 4) / GATEWAYS_PER_NODE));
  const nodeLine: CostLineItem = inputs.nodeGroup
    ? {
      item: `Managed node group (${Math.max(byMemory, inputs.nodeGroup.nodes)} x ${inputs.nodeGroup.instanceType})`,
      monthlyUsd: Math.max(byMemory, inputs.nodeGroup.nodes) * (monthly(p.instanceHourly[inputs.nodeGroup.instanceType] ?? 0) + 80 * p.gp3PerGbMonth),
      assumption: p.instanceHourly[inputs.nodeGroup.instanceType] === undefined
        ? 'the instance type is not in the price table: only its 80 GB root volumes are counted'
        : `on demand, the group's minimum or ${GATEWAYS_PER_NODE} gateways per node by memory request, 80 GB root volume each`,
    }
    : {
      item: `EKS Auto Mode nodes (${byMemory} x m7g.large)`,
      monthlyUsd: byMemory * monthly(p.instanceHourly['m7g.large']) * (1 + p.eksAutoModeFeeShare) + byMemory * 80 * p.gp3PerGbMonth,
      assumption: `on demand, ${GATEWAYS_PER_NODE} gateways per node by memory request, about 12% Auto Mode fee, 80 GB of node storage each`,
    };
  const items: CostLineItem[] = [
    { item: 'EKS cluster', monthlyUsd: monthly(p.eksClusterHourly), assumption: 'standard support' },
    nodeLine,
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
  if (inputs.selfService) {
    const users = Math.min(100, inputs.selfService.maxTenants);
    items.push(
      { item: `Cognito Plus (${users} users)`, monthlyUsd: users * p.cognitoPlusPerMau, assumption: 'every tenant\'s user active each month, up to 100' },
      {
        item: 'Self-service functions, tables, queue, state machine',
        monthlyUsd: 1 + users * p.secretPerMonth,
        assumption: 'a few thousand requests (cents) plus the self-service tenants\' gateway tokens',
      },
    );
  }
  if (inputs.budgets) {
    const tenants = Math.max(1, inputs.tenants);
    items.push(
      {
        item: `Budget metrics (${tenants} tenants)`,
        monthlyUsd: tenants * 2 * p.customMetricPerMonth + p.dashboardPerMonth,
        assumption: 'a spend and a token metric per tenant, one dashboard',
      },
      {
        item: 'Budget function, table, invocation logs',
        monthlyUsd: inputs.budgets.runsPerMonth * 0.0005 + 0.5 * p.logsIngestPerGb + 3 * p.logsStorePerGbMonth,
        assumption: `${inputs.budgets.runsPerMonth} runs (one Logs Insights query each over a few MB, table writes); 0.5 GB of invocation log records a month without prompt text (grows with model calls)`,
      },
    );
  }
  if (inputs.auditTrail) items.push(...auditTrailCostItems(inputs.auditTrail.cloudWatchLogs));
  for (const line of inputs.edge.items) items.push({ ...line, item: `Edge: ${line.item}` });
  if (inputs.ownKey) items.push({ item: 'KMS key', monthlyUsd: p.kmsKeyPerMonth, assumption: 'one customer-managed key' });
  return CostEstimate.of(items);
}
