import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on one construct of ours, with one specific reason.
 *
 * Acknowledgements are scoped to the construct that causes the finding (never to a stack), so that a user's
 * own nag run still reports everything that comes from their code.
 */
export function acknowledge(scope: IConstruct, ruleIds: string[], reason: string): void {
  for (const id of ruleIds) {
    if (id.includes('::')) {
      recordAcknowledgement(scope, id, reason);
    } else {
      Validations.of(scope).acknowledge({ id, reason });
    }
  }
}

/**
 * Findings about a managed policy carry its ARN in their id (`AwsSolutions-IAM4[Policy::arn:…]`), and
 * `Validations.acknowledge` refuses ids with `::`. This writes the same metadata entry it would write
 * (`annotation::<id>` -> reason), which is what cdk-nag reads.
 */
function recordAcknowledgement(scope: IConstruct, id: string, reason: string): void {
  const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
  const entries = scope.node.metadata.filter((m) => m.type === key);
  const acknowledged = { ...(entries.length > 0 ? entries[entries.length - 1].data : {}) };
  acknowledged[`annotation::${id}`] = reason;
  scope.node.addMetadata(key, acknowledged);
}
