/**
 * The budget function (budget-run.ts) against moto: the usage table made from the template, its conditional
 * month-to-date updates and run state evaluated by DynamoDB, budgets from the tags of real Secrets Manager secrets,
 * block policies as real IAM managed policy versions, and alerts published to a real SNS topic (read back through an
 * SQS subscription).
 *
 * Kept on our fake: Logs Insights (moto has no query engine). The usage query is answered by FakeLogs, the
 * interpreter of test/platform/budgets/fake-budget-aws.ts, over invocation log records the test writes.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { CreatePolicyCommand, GetPolicyCommand, GetPolicyVersionCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MOTO_ACCOUNT, RESOURCES, answeredByFake, createTableFromTemplate, tableKeysOf, useMoto } from './support/moto';
import { BudgetRunSummary, budgetConfigFromEnvironment, createHandler, deniedNamespaces } from '../../src/platform/budgets/budget-run';
import {
  ENV_BEDROCK_ROLE_NAME, ENV_BLOCK_POLICY_ARNS, ENV_DEFAULT_BUDGET_USD, ENV_ENFORCEMENT, ENV_LOG_GROUP_NAME, ENV_PRICES, ENV_SECRET_PREFIX,
  ENV_TABLE_NAME, ENV_THRESHOLDS, ENV_TOPIC_ARN, PriceTable, STATE_KEY, TABLE_PARTITION_KEY, TABLE_SORT_KEY,
} from '../../src/platform/budgets/contract';
import { FakeLogs, bedrockCaller, emptyBlockDocument, invocationRecord } from '../platform/budgets/fake-budget-aws';

jest.setTimeout(60_000);

const moto = useMoto();
const TABLE = 'openclaw-budgets';
const LOG_GROUP = '/aws/bedrock/modelinvocations';
const ROLE = 'Platform-BedrockRole3F5A0C1B-Q1w2E3r4T5y6';
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const PRICES: PriceTable = { [HAIKU]: { input: 1100, output: 5500, cacheRead: 110, cacheWrite: 1375 } };
const NOW = Date.parse('2026-12-07T10:00:00Z');
const MONTH = '2026-12';

let dynamodb: DynamoDBClient;
let secrets: SecretsManagerClient;
let sns: SNSClient;
let iam: IAMClient;
let sqs: SQSClient;
let logs: CloudWatchLogsClient;
let fakeLogs: FakeLogs;
let env: Record<string, string>;
let alertQueueUrl: string;
let policyArns: string[];

beforeEach(async () => {
  const config = moto().clientConfig;
  dynamodb = new DynamoDBClient(config);
  secrets = new SecretsManagerClient(config);
  sns = new SNSClient(config);
  iam = new IAMClient(config);
  sqs = new SQSClient(config);
  fakeLogs = new FakeLogs(LOG_GROUP);
  logs = answeredByFake(new CloudWatchLogsClient(config), 'CloudWatchLogs', fakeLogs.operations);

  await createTableFromTemplate(dynamodb, RESOURCES.usageTable, TABLE);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'openclaw-budgets' }))).TopicArn!;
  // What an operator's subscription would receive, readable by the test.
  alertQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'budget-alerts' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  policyArns = [];
  for (let i = 0; i < 2; i++) {
    const created = await iam.send(new CreatePolicyCommand({ PolicyName: `openclaw-budget-block-${i}`, PolicyDocument: JSON.stringify(emptyBlockDocument()) }));
    policyArns.push(created.Policy!.Arn!);
  }
  env = {
    [ENV_TABLE_NAME]: TABLE,
    [ENV_LOG_GROUP_NAME]: LOG_GROUP,
    [ENV_BEDROCK_ROLE_NAME]: ROLE,
    [ENV_TOPIC_ARN]: topicArn,
    [ENV_BLOCK_POLICY_ARNS]: policyArns.join(','),
    [ENV_ENFORCEMENT]: 'BLOCK',
    [ENV_THRESHOLDS]: '80,100',
    [ENV_DEFAULT_BUDGET_USD]: '50',
    [ENV_PRICES]: JSON.stringify(PRICES),
    [ENV_SECRET_PREFIX]: 'openclaw/',
  };
});

afterEach(() => {
  for (const client of [dynamodb, secrets, sns, iam, sqs, logs]) client.destroy();
});

/** A tenant's gateway-token secret with its budget tag, as the provisioner tags it. */
async function tenant(namespace: string, budgetUsd: string) {
  await secrets.send(new CreateSecretCommand({
    Name: `openclaw/${namespace.replace(/^openclaw-/, '')}/gateway-token`,
    SecretString: 'x'.repeat(48),
    Tags: [
      { Key: 'tenant-namespace', Value: namespace },
      { Key: 'budget-usd', Value: budgetUsd },
      { Key: 'openclaw:provisioned-by', Value: 'self-service' },
    ],
  }));
}

/** One Bedrock call of a tenant, in the invocation log. */
function call(namespace: string, at: string, input: number, output: number) {
  fakeLogs.add(invocationRecord({ at: Date.parse(at), caller: bedrockCaller(ROLE, namespace, MOTO_ACCOUNT), modelId: HAIKU, input, output }));
}

function run(now = NOW): Promise<BudgetRunSummary> {
  return createHandler({
    logs,
    dynamodb,
    secrets,
    sns,
    iam,
    config: () => budgetConfigFromEnvironment(env),
    now: () => now,
    sleep: async () => {},
    emit: () => {},
    log: () => {},
  })({});
}

/** Every tenant's month item, its numbers only (without the window bookkeeping). */
async function month(): Promise<Record<string, Record<string, number>>> {
  const got = await dynamodb.send(new QueryCommand({
    TableName: TABLE,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
    ExpressionAttributeValues: { ':pk': { S: `MONTH#${MONTH}` } },
    ConsistentRead: true,
  }));
  return Object.fromEntries((got.Items ?? []).map((item) => [item[TABLE_SORT_KEY].S!, Object.fromEntries(Object.entries(item)
    .filter(([name, value]) => value.N !== undefined && name !== 'appliedThrough').map(([name, value]) => [name, Number(value.N)]))]));
}

async function state() {
  return (await dynamodb.send(new GetItemCommand({
    TableName: TABLE, Key: { [TABLE_PARTITION_KEY]: { S: STATE_KEY.pk }, [TABLE_SORT_KEY]: { S: STATE_KEY.sk } }, ConsistentRead: true,
  }))).Item;
}

/** The alerts on the topic, as its SQS subscriber receives them (SNS's JSON envelope). */
async function alerts(): Promise<{ subject: string; message: string; attributes: Record<string, string> }[]> {
  const out: { subject: string; message: string; attributes: Record<string, string> }[] = [];
  for (;;) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: alertQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    if (!got.Messages?.length) return out;
    for (const m of got.Messages) {
      const envelope = JSON.parse(m.Body!);
      out.push({
        subject: envelope.Subject,
        message: envelope.Message,
        attributes: Object.fromEntries(Object.entries<any>(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value])),
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: alertQueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

async function blocked(): Promise<string[]> {
  const out: string[] = [];
  for (const arn of policyArns) {
    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.Policy!.DefaultVersionId! }));
    // IAM returns the document URL-encoded.
    const denied = deniedNamespaces(JSON.parse(decodeURIComponent(version.PolicyVersion!.Document!)));
    if (!denied) throw new Error(`the block policy ${arn} is not in the form the function writes`);
    out.push(...denied);
  }
  return out.sort();
}

// alice: 10,000 input and 2,000 output tokens of Haiku = 11,000,000 + 11,000,000 nano-dollars.
const ALICE_COST = 22_000_000;
// bob: 1,000 and 100 = 1,100,000 + 550,000.
const BOB_COST = 1_650_000;

function usage() {
  call('openclaw-alice', '2026-12-07T08:00:00Z', 6_000, 1_000);
  call('openclaw-alice', '2026-12-07T08:30:00Z', 4_000, 1_000);
  call('openclaw-bob', '2026-12-03T12:00:00Z', 1_000, 100);
}

describe('month-to-date usage in the table made from the template', () => {
  test('the usage table is keyed as the function reads and writes it', () => {
    expect(tableKeysOf(RESOURCES.usageTable)).toEqual({ hash: TABLE_PARTITION_KEY, range: TABLE_SORT_KEY });
  });

  test('a run adds each tenant\'s window to its month; a second run counts nothing again', async () => {
    await tenant('openclaw-alice', '50');
    await tenant('openclaw-bob', '50');
    usage();
    const first = await run();
    expect(first).toMatchObject({ windows: 1, tenantsUpdated: 2, tenantsAlreadyApplied: 0, claimLost: false });
    const counted = await month();
    expect(counted['openclaw-alice']).toMatchObject({ costNano: ALICE_COST, calls: 2, inputTokens: 10_000, outputTokens: 2_000 });
    expect(counted['openclaw-bob']).toMatchObject({ costNano: BOB_COST, calls: 1, inputTokens: 1_000, outputTokens: 100 });

    const second = await run();
    expect(second).toMatchObject({ windows: 0, tenantsUpdated: 0 });
    expect(await month()).toEqual(counted);
  });

  test('a window resumed after a run died between the tenants\' updates and the watermark adds nothing twice', async () => {
    await tenant('openclaw-alice', '50');
    await tenant('openclaw-bob', '50');
    usage();
    await run();
    const counted = await month();
    const finished = await state();
    const window = { from: Date.parse('2026-12-01T00:00:00Z'), to: Number(finished!.watermark.N) };
    // The state as the dead run left it: the window claimed (pending), the tenants already updated.
    await dynamodb.send(new PutItemCommand({
      TableName: TABLE,
      Item: {
        [TABLE_PARTITION_KEY]: { S: STATE_KEY.pk },
        [TABLE_SORT_KEY]: { S: STATE_KEY.sk },
        watermark: { N: String(window.from) },
        pending: { M: { from: { N: String(window.from) }, to: { N: String(window.to) } } },
      },
    }));
    const resumed = await run();
    expect(resumed).toMatchObject({ windows: 1, tenantsUpdated: 0, tenantsAlreadyApplied: 2 });
    expect(await month()).toEqual(counted);
    expect((await state())!.pending).toBeUndefined();
  });

  test('two runs at once: usage is counted once, whichever way they interleave', async () => {
    await tenant('openclaw-alice', '50');
    usage();
    // The second run either loses the claim or resumes the first one's pending window and finds it applied.
    const results = await Promise.all([run(), run()]);
    expect(results[0].tenantsUpdated + results[1].tenantsUpdated).toBe(2); // alice and bob, once each
    const counted = await month();
    expect(counted['openclaw-alice']).toMatchObject({ costNano: ALICE_COST, calls: 2 });
    expect(counted['openclaw-bob']).toMatchObject({ costNano: BOB_COST, calls: 1 });
  });
});

describe('alerts on the SNS topic and blocks in the IAM policies', () => {
  test('a tenant over its budget: 80 % and 100 % announced once each, blocked, and nothing sent again on the next run', async () => {
    await tenant('openclaw-alice', '0.02'); // $0.022 spent: 110 %
    await tenant('openclaw-bob', '50');
    usage();
    const summary = await run();
    expect(summary).toMatchObject({ alertsSent: 2, alertsFailed: 0, blocked: 1, tenantsBlocked: 1, tenantsOverBudget: 1 });

    const sent = await alerts();
    expect(sent.map((a) => a.subject).sort()).toEqual([
      'OpenClaw budget: openclaw-alice blocked',
      `OpenClaw budget: openclaw-alice reached 100% (${MONTH})`,
      `OpenClaw budget: openclaw-alice reached 80% (${MONTH})`,
    ]);
    const hundred = sent.find((a) => a.subject.includes('100%'))!;
    expect(hundred.attributes).toEqual({ tenant: 'openclaw-alice', event: 'threshold', threshold: '100' });
    expect(hundred.message).toContain('Spend: $0.02 of a budget of $0.02 (110.0%)');
    expect(await blocked()).toEqual(['openclaw-alice']);

    // The next hour: no new usage, nothing announced again, the block stays.
    const next = await run(NOW + 3_600_000);
    expect(next).toMatchObject({ alertsSent: 0, blocked: 0, unblocked: 0, tenantsBlocked: 1 });
    expect(await alerts()).toEqual([]);
    expect(await blocked()).toEqual(['openclaw-alice']);
  });

  test('raising the budget tag above the spend unblocks the tenant on the next run, with a notice', async () => {
    await tenant('openclaw-alice', '0.02');
    usage();
    await run();
    await alerts();
    await secrets.send(new TagResourceCommand({ SecretId: 'openclaw/alice/gateway-token', Tags: [{ Key: 'budget-usd', Value: '1' }] }));
    const summary = await run(NOW + 3_600_000);
    expect(summary).toMatchObject({ unblocked: 1, tenantsBlocked: 0 });
    expect((await alerts()).map((a) => a.subject)).toEqual(['OpenClaw budget: openclaw-alice unblocked']);
    expect(await blocked()).toEqual([]);
  });
});
