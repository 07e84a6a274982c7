import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { CostEstimate, OpenClawTenantPlatform, SecureOpenClawHost } from 'cdk-openclaw';

/** One unacknowledged cdk-nag finding. */
export interface NagFinding {
  readonly rule: string;
  readonly path: string;
  readonly description: string;
}

/** The four packs every reference app must pass with zero unacknowledged findings. */
export const NAG_PACKS: Array<{ name: string; create: () => NagPack }> = [
  { name: 'AwsSolutions', create: () => new AwsSolutionsChecks() },
  { name: 'HIPAA', create: () => new HIPAASecurityChecks() },
  { name: 'NIST-800-53-R5', create: () => new NIST80053R5Checks() },
  { name: 'PCI-DSS-3.2.1', create: () => new PCIDSS321Checks() },
];

/** Runs every pack over a synthesized app and returns the unacknowledged findings per pack. */
export function runNagPacks(app: App): Record<string, NagFinding[]> {
  const result: Record<string, NagFinding[]> = {};
  for (const pack of NAG_PACKS) {
    const report = pack.create().validateScope(app);
    result[pack.name] = report.violations.flatMap((v) => v.violatingResources.map((r) => ({
      rule: v.ruleName,
      path: r.constructPath ?? '(unknown)',
      description: v.description,
    })));
  }
  return result;
}

/** The cost estimates of every construct of this library in the tree. */
export function costEstimates(scope: IConstruct): CostEstimate[] {
  return scope.node.findAll()
    .filter((c): c is SecureOpenClawHost | OpenClawTenantPlatform => c instanceof SecureOpenClawHost || c instanceof OpenClawTenantPlatform)
    .map((c) => c.estimatedMonthlyCost);
}
