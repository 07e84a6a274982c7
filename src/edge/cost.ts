import { EdgeFirewallOptions } from './firewall';
import { PRICE_TABLE } from '../core/cost';
import { CostEstimate, CostLineItem } from '../core/cost-estimate';

/** The monthly list-price estimate of one edge: distribution, web ACL and its rules, logs. @internal */
export function estimateEdgeCost(firewall: EdgeFirewallOptions, ownKey: boolean, secrets: number = 0): CostEstimate {
  const p = PRICE_TABLE;
  const requestsMillions = 1;
  const ruleCount = 4 + (firewall.allowedCountries?.length || firewall.blockedCountries?.length ? 1 : 0) + (firewall.customRules?.length ?? 0);
  const items: CostLineItem[] = [
    { item: 'CloudFront data out', monthlyUsd: 10 * p.cloudFrontDataOutPerGb, assumption: '10 GB to viewers in North America and Europe' },
    { item: 'CloudFront HTTPS requests', monthlyUsd: requestsMillions * 100 * p.cloudFrontHttpsRequestsPer10k, assumption: '1 million requests' },
    {
      item: `WAF web ACL (${ruleCount} rules)`,
      monthlyUsd: p.wafWebAclPerMonth + ruleCount * p.wafRulePerMonth + requestsMillions * p.wafRequestsPerMillion,
      assumption: 'one web ACL, each rule or managed group 1 USD, 1 million requests inspected',
    },
    { item: 'WAF logs (CloudWatch Logs, us-east-1)', monthlyUsd: 1 * p.logsIngestPerGb + 6 * p.logsStorePerGbMonth, assumption: '1 GB of WAF logs a month, a year kept' },
    { item: 'S3 (access logs)', monthlyUsd: 1 * p.s3StandardPerGbMonth, assumption: '1 GB' },
    { item: 'CloudWatch alarms (2, us-east-1)', monthlyUsd: 2 * p.alarmPerMonth, assumption: 'blocked requests and 5xx rate' },
  ];
  if (firewall.botControl) {
    items.push({ item: 'WAF Bot Control (common)', monthlyUsd: p.botControlPerMonth + requestsMillions * p.botControlRequestsPerMillion, assumption: 'subscription and 1 million requests inspected' });
  }
  if (secrets > 0) items.push({ item: 'Secrets Manager (origin header)', monthlyUsd: secrets * p.secretPerMonth, assumption: 'the rotated secret header; rotation calls negligible' });
  if (ownKey) items.push({ item: 'KMS key', monthlyUsd: p.kmsKeyPerMonth, assumption: 'one customer-managed key' });
  return CostEstimate.of(items);
}
