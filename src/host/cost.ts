import { HostIngressKind } from './ingress';
import { auditTrailCostItems } from '../audit/cost';
import { PRICE_TABLE, monthly } from '../core/cost';
import { CostEstimate, CostLineItem } from '../core/cost-estimate';
import { NatStrategy } from '../core/nat';

/** @internal */
export interface HostCostInputs {
  readonly instanceType: string;
  readonly rootGib: number;
  readonly ingress: HostIngressKind;
  readonly nat?: NatStrategy;
  readonly vpcEndpoints: boolean;
  readonly secrets: number;
  readonly ownKey: boolean;
  readonly alarms: number;
  readonly efs: boolean;
  readonly cognito: boolean;
  /** The CloudFront edge of the CLOUDFRONT ingress: its own estimate, whose lines are added. */
  readonly edge?: CostEstimate;
  /** A Bedrock audit trail created in the host: with or without its CloudWatch Logs copy. */
  readonly auditTrail?: { readonly cloudWatchLogs: boolean };
}

/** The monthly list-price estimate of one host, with the assumptions spelled out per line. */
export function estimateHostCost(inputs: HostCostInputs): CostEstimate {
  const p = PRICE_TABLE;
  const items: CostLineItem[] = [];
  const hourly = p.instanceHourly[inputs.instanceType];
  items.push(hourly === undefined
    ? { item: `EC2 ${inputs.instanceType}`, monthlyUsd: 0, assumption: 'not in the price table: add its on-demand price yourself' }
    : { item: `EC2 ${inputs.instanceType}`, monthlyUsd: monthly(hourly), assumption: 'on-demand, 730 hours' });
  items.push({ item: `EBS gp3 ${inputs.rootGib} GiB`, monthlyUsd: inputs.rootGib * p.gp3PerGbMonth, assumption: 'root volume' });
  items.push({ item: 'Backup snapshots', monthlyUsd: inputs.rootGib * 0.3 * p.ebsSnapshotPerGbMonth, assumption: 'incremental daily snapshots, about 30% of the volume' });
  if (inputs.nat === NatStrategy.GATEWAY) {
    items.push({ item: 'NAT gateway', monthlyUsd: monthly(p.natGatewayHourly), assumption: 'one gateway, 730 hours, data processing extra' });
  } else if (inputs.nat === NatStrategy.INSTANCE) {
    items.push({ item: 'NAT instance t4g.nano', monthlyUsd: monthly(p.instanceHourly['t4g.nano']) + monthly(p.publicIpv4Hourly), assumption: 'on-demand plus its public IPv4 address' });
  }
  if (inputs.vpcEndpoints) {
    items.push({ item: 'Interface endpoints (7)', monthlyUsd: 7 * monthly(p.interfaceEndpointHourlyPerAz), assumption: 'seven endpoints in one zone' });
  }
  if (inputs.ingress === HostIngressKind.LOAD_BALANCER || inputs.ingress === HostIngressKind.LOAD_BALANCER_WITH_COGNITO) {
    items.push({ item: 'Application load balancer', monthlyUsd: monthly(p.albHourly + p.albLcuHourly), assumption: '730 hours and one LCU' });
    items.push({ item: 'Public IPv4 (load balancer)', monthlyUsd: 2 * monthly(p.publicIpv4Hourly), assumption: 'one address per zone, two zones' });
    items.push({ item: 'WAF web ACL', monthlyUsd: p.wafWebAclPerMonth + 4 * p.wafRulePerMonth, assumption: 'one web ACL, rate rule and three managed groups; requests extra' });
  }
  if (inputs.ingress === HostIngressKind.PUBLIC_INSTANCE) {
    items.push({ item: 'Elastic IP', monthlyUsd: monthly(p.publicIpv4Hourly), assumption: 'public IPv4 address in use' });
  }
  if (inputs.cognito) {
    items.push({ item: 'Cognito Plus', monthlyUsd: 10 * p.cognitoPlusPerMau, assumption: '10 monthly active users (threat protection needs the Plus plan)' });
  }
  if (inputs.efs) {
    items.push({ item: 'EFS', monthlyUsd: 5 * p.efsStandardPerGbMonth, assumption: '5 GB of agent data in Standard' });
  }
  items.push({ item: `Secrets Manager (${inputs.secrets})`, monthlyUsd: inputs.secrets * p.secretPerMonth, assumption: 'per secret' });
  if (inputs.ownKey) items.push({ item: 'KMS key', monthlyUsd: p.kmsKeyPerMonth, assumption: 'one customer-managed key' });
  items.push({
    item: `CloudWatch (${inputs.alarms} alarms, 4 custom metrics, logs)`,
    monthlyUsd: inputs.alarms * p.alarmPerMonth + 4 * p.customMetricPerMonth + 1 * p.logsIngestPerGb + p.logsStorePerGbMonth * 6,
    assumption: 'memory and disk from the agent, restarts and error lines from the journal; 1 GB of logs a month, a year kept',
  });
  if (inputs.auditTrail) items.push(...auditTrailCostItems(inputs.auditTrail.cloudWatchLogs));
  // The edge shares the host's key, so its estimate carries no key line of its own.
  for (const line of inputs.edge?.items ?? []) items.push({ ...line, item: `Edge: ${line.item}` });
  items.push({ item: 'S3 (backups, access logs)', monthlyUsd: 2 * p.s3StandardPerGbMonth, assumption: '2 GB' });
  return CostEstimate.of(items);
}
