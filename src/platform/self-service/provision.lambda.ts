/**
 * The provisioning function: the SQS handler of `provision.ts` over the real clients (the Lambda runtime's AWS SDK)
 * and the cluster API client. Environment: see `provisionConfigFromEnvironment`, plus what the cluster client reads
 * (CLUSTER_ENDPOINT, CLUSTER_CA, CLUSTER_NAME, AWS_REGION and the function's credentials).
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Kube } from './contract';
import { KubeClient } from './kube-client';
import { ProvisionConfig, createHandler, provisionConfigFromEnvironment } from './provision';

let kube: Kube | undefined;
let config: ProvisionConfig | undefined;

/** The provisioning queue's handler (`reportBatchItemFailures`). */
export const handler = createHandler({
  cognito: new CognitoIdentityProviderClient({}),
  dynamodb: new DynamoDBClient({}),
  secrets: new SecretsManagerClient({}),
  eks: new EKSClient({}),
  kube: () => (kube ??= KubeClient.fromEnvironment()),
  config: () => (config ??= provisionConfigFromEnvironment()),
});
