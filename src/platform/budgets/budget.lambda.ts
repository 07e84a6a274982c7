/**
 * The budget function: the scheduled handler of `budget-run.ts` over the real clients (the Lambda runtime's AWS
 * SDK). Environment: see `budgetConfigFromEnvironment`.
 */
/* eslint-disable import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external) */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { BudgetConfig, budgetConfigFromEnvironment, createHandler } from './budget-run';

let config: BudgetConfig | undefined;

/** The hourly run (EventBridge schedule). */
export const handler = createHandler({
  logs: new CloudWatchLogsClient({}),
  dynamodb: new DynamoDBClient({}),
  secrets: new SecretsManagerClient({}),
  sns: new SNSClient({}),
  iam: new IAMClient({}),
  config: () => (config ??= budgetConfigFromEnvironment()),
});
