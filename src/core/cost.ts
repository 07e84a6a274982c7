/**
 * The price table behind every cost estimate of this library: on-demand list prices in US East (N. Virginia),
 * recorded 2026-11. Estimates are for planning, not billing: data transfer, requests and usage-based charges
 * beyond the stated assumptions are not included.
 */
export const PRICE_TABLE = {
  region: 'us-east-1',
  recorded: '2026-11',
  hoursPerMonth: 730,
  /** USD per instance-hour, Linux on-demand. */
  instanceHourly: {
    't3.micro': 0.0104,
    't3.small': 0.0208,
    't3.medium': 0.0416,
    't3.large': 0.0832,
    't3.xlarge': 0.1664,
    't3a.small': 0.0188,
    't3a.medium': 0.0376,
    't3a.large': 0.0752,
    't4g.nano': 0.0042,
    't4g.micro': 0.0084,
    't4g.small': 0.0168,
    't4g.medium': 0.0336,
    't4g.large': 0.0672,
    'm7i.large': 0.1008,
    'm7g.large': 0.0816,
    'm6i.large': 0.096,
    'c7i.large': 0.0893,
    'r7i.large': 0.1323,
  } as Record<string, number>,
  gp3PerGbMonth: 0.08,
  ebsSnapshotPerGbMonth: 0.05,
  efsStandardPerGbMonth: 0.30,
  s3StandardPerGbMonth: 0.023,
  natGatewayHourly: 0.045,
  albHourly: 0.0225,
  albLcuHourly: 0.008,
  publicIpv4Hourly: 0.005,
  interfaceEndpointHourlyPerAz: 0.01,
  secretPerMonth: 0.40,
  kmsKeyPerMonth: 1.0,
  wafWebAclPerMonth: 5.0,
  wafRulePerMonth: 1.0,
  alarmPerMonth: 0.10,
  customMetricPerMonth: 0.30,
  dashboardPerMonth: 3,
  logsIngestPerGb: 0.50,
  logsStorePerGbMonth: 0.03,
  cognitoPlusPerMau: 0.02,
  /** A trail's copy of management events beyond the account's first (free) copy, per 100,000 events. */
  cloudTrailManagementPer100k: 2.0,
  wafRequestsPerMillion: 0.60,
  botControlPerMonth: 10.0,
  botControlRequestsPerMillion: 1.0,
  cloudFrontDataOutPerGb: 0.085,
  cloudFrontHttpsRequestsPer10k: 0.01,
  lambdaPerMillionRequests: 0.20,
  /** An EKS cluster in standard support, per hour. */
  eksClusterHourly: 0.10,
  /** EKS Auto Mode's management fee as a share of the instance's on-demand price (AWS lists it per instance type). */
  eksAutoModeFeeShare: 0.12,
} as const;

/** USD per month for something billed by the hour. */
export function monthly(hourly: number): number {
  return hourly * PRICE_TABLE.hoursPerMonth;
}
