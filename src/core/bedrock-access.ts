import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BLOCKED_ACTIONS } from '../platform/budgets/contract';

const INFERENCE_PROFILE = /^(us|eu|apac|us-gov|ca|jp|au|global)\.(.+)$/;

/**
 * The ARNs that let a role invoke a model id: a foundation model in this region, or a cross-region inference
 * profile (`us.`, `eu.`, `apac.`, `global.` prefix) in this account plus the foundation model it routes to in any region.
 */
export function bedrockResourceArns(modelId: string): string[] {
  const profile = INFERENCE_PROFILE.exec(modelId);
  if (profile) {
    const arns = [
      `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:inference-profile/${modelId}`,
      `arn:${Aws.PARTITION}:bedrock:*::foundation-model/${profile[2]}`,
    ];
    // A global profile may route to any commercial region; its model ARN then carries no region at all.
    if (profile[1] === 'global') arns.push(`arn:${Aws.PARTITION}:bedrock:::foundation-model/${profile[2]}`);
    return arns;
  }
  return [`arn:${Aws.PARTITION}:bedrock:${Aws.REGION}::foundation-model/${modelId}`];
}

/** The actions that run a model (Converse and ConverseStream are authorized as these): what a budget block denies. */
export const BEDROCK_INVOKE_ACTIONS = BLOCKED_ACTIONS;
/** The actions that list models and inference profiles (no resource-level permissions). */
export const BEDROCK_DISCOVERY_ACTIONS = ['bedrock:ListFoundationModels', 'bedrock:ListInferenceProfiles', 'bedrock:GetInferenceProfile'];

/**
 * Lets `role` invoke exactly these models (statement `invokeSid`) and list models and inference profiles, which have
 * no resource-level permissions (statement `DiscoverBedrockModels`).
 */
export function grantBedrockInvoke(role: iam.IRole, modelIds: string[], invokeSid: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: invokeSid,
    actions: BEDROCK_INVOKE_ACTIONS,
    resources: modelIds.flatMap((modelId) => bedrockResourceArns(modelId)),
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'DiscoverBedrockModels',
    actions: BEDROCK_DISCOVERY_ACTIONS,
    resources: ['*'],
  }));
}

/** cdk-nag IAM5 findings (and reasons) that the cross-region inference profiles among `modelIds` cause. */
export function inferenceProfileFindings(modelIds: string[]): Array<[string, string]> {
  return modelIds.flatMap((modelId): Array<[string, string]> => {
    const profile = INFERENCE_PROFILE.exec(modelId);
    return profile ? [[`Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${profile[2]}`,
      `A cross-region inference profile (${modelId}) routes to the same foundation model in any of its regions; the model itself is fixed.`]] : [];
  });
}
