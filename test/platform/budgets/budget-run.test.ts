import { FakeBudgetAws, emptyBlockDocument, invocationRecord, namespacesOf } from './fake-budget-aws';
import { PRICES, at, counts, fixtureWorld, harness, monthCounts } from './harness';
import {
  BudgetConfig, MAX_MODELS_PER_UPDATE, OTHER_MODELS, POLL_MARGIN_MS, WINDOW_MARGIN_MS, aggregateUsage, budgetConfigFromEnvironment, createHandler,
  deniedNamespaces, formatUsd, parseUsageRows, parseUsd, splitLastChars, tenantUpdate, usageQuery,
} from '../../../src/platform/budgets/budget-run';
import { handler as lambdaHandler } from '../../../src/platform/budgets/budget.lambda';
import { QUERY_ROW_LIMIT, blockPolicyDocument, costNano, monthOf } from '../../../src/platform/budgets/contract';

const NOW = '2026-11-05T00:00:00Z';
const ROLE = 'Platform-BedrockRole3F5A0C1B-Q1w2E3r4T5y6';
const SONNET_US = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const SONNET_GLOBAL = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU_US = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const NOVA_LITE = 'amazon.nova-lite-v1:0';
const NOVA_PRO = 'amazon.nova-pro-v1:0';
const LLAMA = 'meta.llama3-3-70b-instruct-v1:0';

// The expected costs, by hand from the fixture records and PRICES (nano-dollars per token).
// alice: two us. Sonnet calls (one named by its profile ARN), priced by the model's own entry (no entry for the profile).
const ALICE_SONNET = (1520 + 2210) * 3300 + (412 + 1033) * 16500 + (12000 + 0) * 330 + (0 + 8800) * 4125; // 76,411,500
const ALICE_LITE = 350 * 60 + 120 * 240; // 49,800
// Llama has no price: the highest of the table, field by field (input 3300, output 16500, cache read 800, write 4125).
const ALICE_LLAMA = 800 * 3300 + 200 * 16500; // 5,940,000
// bob: the global. Sonnet profile has its own entry; the us. Haiku profile is priced by its model's entry.
const BOB_SONNET = 4100 * 3000 + 2250 * 15000 + 30000 * 300 + 2000 * 3750; // 62,550,000
const BOB_HAIKU = 900 * 1100 + 300 * 5500; // 2,640,000 (plus a throttled call without tokens)
const BOB_PRO = 1200 * 800 + 640 * 3200; // 3,008,000
const CAROL_LITE = (100 + 70) * 60 + (50 + 30) * 240; // 29,400

describe('usageQuery', () => {
  const window = { from: at('2026-11-01T00:00:00Z'), to: at('2026-11-04T23:45:00Z') };

  test('is one Logs Insights query of the window, the Bedrock role\'s calls parsed from whole STS ARNs, summed by tenant and model', () => {
    expect(usageQuery(window, ROLE)).toBe([
      'filter schemaType = "ModelInvocationLog" and @timestamp >= fromMillis(1793491200000) and @timestamp < fromMillis(1793835900000)',
      '| parse identity.arn /^arn:aws[a-z-]*:sts::\\d{12}:assumed-role\\/(?<callerRole>[^\\/]+)\\/(?<tenant>[^\\/]+)$/',
      `| filter callerRole = "${ROLE}"`,
      '| stats sum(input.inputTokenCount) as inputTokens, sum(output.outputTokenCount) as outputTokens, '
        + 'sum(input.cacheReadInputTokenCount) as cacheReadTokens, sum(input.cacheWriteInputTokenCount) as cacheWriteTokens, '
        + 'count(*) as calls by tenant, modelId',
      '| limit 10000',
    ].join('\n'));
  });

  test('a partition keeps the tenants ending in its characters; the limit is the row limit given', () => {
    const text = usageQuery(window, ROLE, { lastChars: '0123abc', limit: 50 });
    expect(text).toContain('\n| filter tenant like /[0123abc]$/\n| stats ');
    expect(text.endsWith('\n| limit 50')).toBe(true);
  });

  test('refuses a role ARN, characters a namespace cannot end with, and an empty or reversed window', () => {
    expect(() => usageQuery(window, `arn:aws:iam::111122223333:role/${ROLE}`)).toThrow(/is not an IAM role name/);
    expect(() => usageQuery(window, ROLE, { lastChars: 'a]$/ or x' })).toThrow(/not a set of characters/);
    expect(() => usageQuery({ from: window.to, to: window.from }, ROLE)).toThrow(/is not a range/);
  });

  test('the row-limit partitions halve the 36 characters a namespace ends with, down to one', () => {
    expect(splitLastChars('0123456789abcdefghijklmnopqrstuvwxyz')).toEqual(['0123456789abcdefgh', 'ijklmnopqrstuvwxyz']);
    expect(splitLastChars('abc')).toEqual(['ab', 'c']);
    expect(QUERY_ROW_LIMIT).toBe(10_000);
  });
});

describe('parseUsageRows', () => {
  const row = (fields: Record<string, string>) => Object.entries(fields).map(([field, value]) => ({ field, value }));

  test('a missing sum counts 0; counts are whole numbers', () => {
    const { rows, rejected } = parseUsageRows([row({ tenant: 'openclaw-a', modelId: NOVA_LITE, inputTokens: '12', calls: '3' })]);
    expect(rejected).toEqual([]);
    expect(rows).toEqual([{ tenant: 'openclaw-a', modelId: NOVA_LITE, tokens: { input: 12, output: 0, cacheRead: 0, cacheWrite: 0 }, calls: 3 }]);
  });

  test.each([
    ['a tenant that is not a namespace name', { tenant: 'Openclaw_A', modelId: NOVA_LITE, calls: '1' }],
    ['a tenant longer than 63 characters', { tenant: `a${'b'.repeat(63)}`, modelId: NOVA_LITE, calls: '1' }],
    ['no tenant', { modelId: NOVA_LITE, calls: '1' }],
    ['no model', { tenant: 'openclaw-a', calls: '1' }],
    ['a negative count', { tenant: 'openclaw-a', modelId: NOVA_LITE, inputTokens: '-5', calls: '1' }],
    ['a fractional count', { tenant: 'openclaw-a', modelId: NOVA_LITE, outputTokens: '1.5', calls: '1' }],
    ['a count beyond 2^53', { tenant: 'openclaw-a', modelId: NOVA_LITE, inputTokens: '9007199254740993', calls: '1' }],
    ['a count that is not a number', { tenant: 'openclaw-a', modelId: NOVA_LITE, calls: 'many' }],
  ])('rejects a row with %s', (_name, fields) => {
    const { rows, rejected } = parseUsageRows([row(fields)]);
    expect(rows).toEqual([]);
    expect(rejected).toHaveLength(1);
  });
});

describe('budgetConfigFromEnvironment', () => {
  const world = new FakeBudgetAws();
  const env = world.environment({ prices: PRICES, thresholds: [50, 80, 100], defaultBudgetUsd: 25 });

  test('reads every variable', () => {
    expect(budgetConfigFromEnvironment(env)).toEqual<BudgetConfig>({
      tableName: world.tableName,
      logGroupName: world.logGroupName,
      bedrockRoleName: world.bedrockRoleName,
      topicArn: world.topicArn,
      blockPolicyArns: world.policyArns,
      enforcement: 'BLOCK',
      thresholds: [50, 80, 100],
      defaultBudgetUsd: 25,
      prices: PRICES,
      secretPrefix: 'openclaw/',
    });
  });

  test('ALERT enforcement may have no block policies; BLOCK may not', () => {
    expect(budgetConfigFromEnvironment({ ...env, BUDGET_ENFORCEMENT: 'ALERT', BLOCK_POLICY_ARNS: '' }).blockPolicyArns).toEqual([]);
    expect(() => budgetConfigFromEnvironment({ ...env, BLOCK_POLICY_ARNS: '' })).toThrow(/BLOCK_POLICY_ARNS must be at least one policy ARN when BUDGET_ENFORCEMENT is BLOCK/);
  });

  test.each<[string, string | undefined, RegExp]>([
    ['BUDGET_TABLE_NAME', undefined, /BUDGET_TABLE_NAME must be set/],
    ['BUDGET_TABLE_NAME', 'a', /BUDGET_TABLE_NAME must be a DynamoDB table name, got 'a'/],
    ['INVOCATION_LOG_GROUP_NAME', '', /INVOCATION_LOG_GROUP_NAME must be set/],
    ['BEDROCK_ROLE_NAME', 'arn:aws:iam::111122223333:role/x', /BEDROCK_ROLE_NAME must be an IAM role name \(not an ARN\)/],
    ['BUDGET_TOPIC_ARN', 'my-topic', /BUDGET_TOPIC_ARN must be an SNS topic ARN, got 'my-topic'/],
    ['BLOCK_POLICY_ARNS', 'arn:aws:iam::111122223333:role/x', /BLOCK_POLICY_ARNS must be a comma-separated list of distinct IAM policy ARNs/],
    ['BLOCK_POLICY_ARNS', `${world.policyArns[0]},${world.policyArns[0]}`, /BLOCK_POLICY_ARNS must be a comma-separated list of distinct/],
    ['BUDGET_ENFORCEMENT', 'block', /BUDGET_ENFORCEMENT must be ALERT or BLOCK, got 'block'/],
    ['ALERT_THRESHOLDS', '100,80', /ALERT_THRESHOLDS must be comma-separated whole percentages from 1, strictly ascending/],
    ['ALERT_THRESHOLDS', '0,80', /ALERT_THRESHOLDS must be comma-separated whole percentages from 1/],
    ['ALERT_THRESHOLDS', '80.5', /ALERT_THRESHOLDS must be comma-separated whole percentages/],
    ['DEFAULT_BUDGET_USD', undefined, /DEFAULT_BUDGET_USD must be set/],
    ['DEFAULT_BUDGET_USD', '0', /DEFAULT_BUDGET_USD must be a positive number of US dollars of at most 1000000, got '0'/],
    ['DEFAULT_BUDGET_USD', '-5', /DEFAULT_BUDGET_USD must be a positive number/],
    ['DEFAULT_BUDGET_USD', '2000000', /DEFAULT_BUDGET_USD must be a positive number/],
    ['PRICES', '{', /PRICES must be JSON/],
    ['PRICES', '{}', /PRICES must be a non-empty JSON object of model ids to prices/],
    ['PRICES', '{"m":{"input":1.5,"output":1,"cacheRead":1,"cacheWrite":1}}', /PRICES must be JSON whose every price has .* whole nano-dollars per token; 'm' does not/],
    ['PRICES', '{"m":{"input":1,"output":1}}', /'m' does not/],
    ['TENANT_SECRET_PREFIX', undefined, /TENANT_SECRET_PREFIX must be set/],
  ])('names %s when it is %p', (name, value, message) => {
    expect(() => budgetConfigFromEnvironment({ ...env, [name]: value })).toThrow(message);
  });
});

describe('arithmetic helpers', () => {
  test('budgets are positive decimals of dollars, to the nano-dollar, at most 1,000,000', () => {
    expect(parseUsd('12.5')).toEqual({ usd: 12.5, nano: 12_500_000_000 });
    expect(parseUsd('0.000000001')).toEqual({ usd: 1e-9, nano: 1 });
    expect(parseUsd('1000000')?.nano).toBe(1e15);
    for (const bad of ['0', '0.0', '-1', '1e3', '1.0000000001', '1000000.01', 'lots', '', undefined, ' ']) expect(parseUsd(bad)).toBeUndefined();
  });

  test('dollars are shown with cents, rounded half up, with thousands separators', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(4_999_999)).toBe('$0.00');
    expect(formatUsd(5_000_000)).toBe('$0.01');
    expect(formatUsd(82_401_300)).toBe('$0.08');
    expect(formatUsd(1_234_567_890_000)).toBe('$1,234.57');
  });

  test('a block policy document reads back as its namespaces; anything else is not one', () => {
    expect(deniedNamespaces(blockPolicyDocument(['openclaw-b', 'openclaw-a']))).toEqual(['openclaw-a', 'openclaw-b']);
    expect(deniedNamespaces(emptyBlockDocument())).toEqual([]);
    const tampered = blockPolicyDocument(['openclaw-a']) as any;
    tampered.Statement[0].Action = ['bedrock:InvokeModel'];
    expect(deniedNamespaces(tampered)).toBeUndefined();
    expect(deniedNamespaces({ Statement: [] })).toBeUndefined();
    expect(deniedNamespaces(null)).toBeUndefined();
  });

  test('a tenant with more models in a window than one update holds has the cheapest added together, its totals exact', () => {
    const rows = Array.from({ length: MAX_MODELS_PER_UPDATE + 5 }, (_, i) => ({
      tenant: 'openclaw-a', modelId: `vendor.model-${i}`, tokens: { input: i + 1, output: 0, cacheRead: 0, cacheWrite: 0 }, calls: 1,
    }));
    const prices = Object.fromEntries(rows.map((r) => [r.modelId, { input: 1000, output: 0, cacheRead: 0, cacheWrite: 0 }]));
    const usage = aggregateUsage(rows, prices).tenants.get('openclaw-a')!;
    const update = tenantUpdate('t', '2026-11', usage, { from: 0, to: 60_000 });
    expect(update.UpdateExpression!.length).toBeLessThan(4096);
    const names = Object.values(update.ExpressionAttributeNames!);
    expect(names.filter((n) => n.startsWith('cost:'))).toHaveLength(MAX_MODELS_PER_UPDATE);
    const other = Object.entries(update.ExpressionAttributeNames!).find(([, n]) => n === `cost:${OTHER_MODELS}`)![0];
    // The six cheapest (1 to 6 input tokens) under OTHER_MODELS.
    expect(update.ExpressionAttributeValues![other.replace('#', ':')]).toEqual({ N: String((1 + 2 + 3 + 4 + 5 + 6) * 1000) });
    expect(usage.costNano).toBe(((45 * 46) / 2) * 1000);
  });
});

describe('a run over the fixture invocation logs', () => {
  test('adds each tenant\'s exact nano-dollar cost per model and in total, with tokens and calls', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    expect(ALICE_SONNET).toBe(76_411_500);
    expect(ALICE_LLAMA).toBe(5_940_000);
    expect(BOB_SONNET).toBe(62_550_000);
    expect(monthCounts(h.world, '2026-11')).toEqual({
      'openclaw-alice': {
        costNano: ALICE_SONNET + ALICE_LITE + ALICE_LLAMA,
        calls: 4,
        inputTokens: 1520 + 2210 + 350 + 800,
        outputTokens: 412 + 1033 + 120 + 200,
        cacheReadTokens: 12000,
        cacheWriteTokens: 8800,
        [`in:${SONNET_US}`]: 3730,
        [`out:${SONNET_US}`]: 1445,
        [`cr:${SONNET_US}`]: 12000,
        [`cw:${SONNET_US}`]: 8800,
        [`calls:${SONNET_US}`]: 2,
        [`cost:${SONNET_US}`]: ALICE_SONNET,
        [`in:${NOVA_LITE}`]: 350,
        [`out:${NOVA_LITE}`]: 120,
        [`calls:${NOVA_LITE}`]: 1,
        [`cost:${NOVA_LITE}`]: ALICE_LITE,
        [`in:${LLAMA}`]: 800,
        [`out:${LLAMA}`]: 200,
        [`calls:${LLAMA}`]: 1,
        [`cost:${LLAMA}`]: ALICE_LLAMA,
      },
      'openclaw-bob': {
        costNano: BOB_SONNET + BOB_HAIKU + BOB_PRO,
        calls: 4,
        inputTokens: 4100 + 900 + 1200,
        outputTokens: 2250 + 300 + 640,
        cacheReadTokens: 30000,
        cacheWriteTokens: 2000,
        [`in:${SONNET_GLOBAL}`]: 4100,
        [`out:${SONNET_GLOBAL}`]: 2250,
        [`cr:${SONNET_GLOBAL}`]: 30000,
        [`cw:${SONNET_GLOBAL}`]: 2000,
        [`calls:${SONNET_GLOBAL}`]: 1,
        [`cost:${SONNET_GLOBAL}`]: BOB_SONNET,
        [`in:${HAIKU_US}`]: 900,
        [`out:${HAIKU_US}`]: 300,
        [`calls:${HAIKU_US}`]: 2,
        [`cost:${HAIKU_US}`]: BOB_HAIKU,
        [`in:${NOVA_PRO}`]: 1200,
        [`out:${NOVA_PRO}`]: 640,
        [`calls:${NOVA_PRO}`]: 1,
        [`cost:${NOVA_PRO}`]: BOB_PRO,
      },
      'openclaw-carol': {
        costNano: CAROL_LITE,
        calls: 2,
        inputTokens: 170,
        outputTokens: 80,
        [`in:${NOVA_LITE}`]: 170,
        [`out:${NOVA_LITE}`]: 80,
        [`calls:${NOVA_LITE}`]: 2,
        [`cost:${NOVA_LITE}`]: CAROL_LITE,
      },
    });
  });

  test('counts only the Bedrock role\'s sessions: other roles, users, a user whose path imitates the role, and a non-namespace session are not', async () => {
    const h = harness(fixtureWorld());
    const summary = await h.run(NOW);
    expect(Object.keys(monthCounts(h.world, '2026-11')).sort()).toEqual(['openclaw-alice', 'openclaw-bob', 'openclaw-carol']);
    // The other principals' calls (5000, 9999, 7777 and 6666 input tokens) are in no total.
    const input = Object.values(monthCounts(h.world, '2026-11')).reduce((n, c) => n + c.inputTokens, 0);
    expect(input).toBe(1520 + 2210 + 350 + 800 + 4100 + 900 + 1200 + 100 + 70);
    expect(summary.rowsRejected).toBe(1);
    expect(h.logs).toContainEqual(expect.objectContaining({
      level: 'warn',
      message: 'usage rows rejected as malformed',
      fields: expect.objectContaining({ count: 1, examples: [expect.objectContaining({ tenant: 'Not_A_Namespace' })] }),
    }));
  });

  test('one query for the window; an unpriced model is named in a warning and in the summary', async () => {
    const h = harness(fixtureWorld());
    const summary = await h.run(NOW);
    expect(summary).toEqual(expect.objectContaining({ windows: 1, queries: 1, tenantsUpdated: 3, unpricedModels: [LLAMA], watermark: at('2026-11-04T23:45:00Z'), lagMinutes: 15 }));
    expect(h.world.count('StartQuery')).toBe(1);
    expect(h.logs).toContainEqual({ level: 'warn', message: 'a model has no price: charged the highest price of the table', fields: { model: LLAMA } });
    const query = h.world.logs.queries[0];
    expect([query.startTime, query.endTime]).toEqual([at('2026-11-01T00:00:00Z') / 1000, at('2026-11-04T23:45:00Z') / 1000]);
  });

  test('tenants without a valid budget tag get the default budget, with a warning naming their secrets (never a value)', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    const warning = h.logs.find((l) => l.message.startsWith('gateway-token secrets without a valid budget-usd tag'))!;
    expect(warning.fields).toEqual({
      count: 2,
      examples: [{ secret: 'openclaw/carol/gateway-token', value: '(none)' }, { secret: 'openclaw/erin/gateway-token', value: 'lots' }],
      defaultBudgetUsd: 50,
    });
  });

  test('writes one EMF line per tenant of the month (budget but no usage included) and one for the run', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    const tenantLines = h.metrics.filter((m) => m.Tenant !== undefined);
    expect(tenantLines.map((m) => m.Tenant)).toEqual(['openclaw-alice', 'openclaw-bob', 'openclaw-carol', 'openclaw-dave', 'openclaw-erin']);
    for (const line of h.metrics) {
      const directive = line._aws.CloudWatchMetrics[0];
      expect(line._aws.Timestamp).toBe(at(NOW));
      expect(directive.Namespace).toBe('OpenClaw/Budgets');
      expect(directive.Metrics.length).toBeLessThanOrEqual(100);
      for (const dims of directive.Dimensions) for (const d of dims) expect(typeof line[d]).toBe('string');
      for (const m of directive.Metrics) expect(typeof line[m.Name]).toBe('number');
    }
    expect(tenantLines[1]).toEqual({
      _aws: {
        Timestamp: at(NOW),
        CloudWatchMetrics: [{
          Namespace: 'OpenClaw/Budgets',
          Dimensions: [['Tenant']],
          // Two metrics per tenant; BudgetUsedPercent is a plain field of the line, not a (billed) metric.
          Metrics: [{ Name: 'MonthToDateSpendUsd', Unit: 'None' }, { Name: 'MonthToDateTokens', Unit: 'Count' }],
        }],
      },
      Tenant: 'openclaw-bob',
      MonthToDateSpendUsd: (BOB_SONNET + BOB_HAIKU + BOB_PRO) / 1e9,
      MonthToDateTokens: 6200 + 3190 + 30000 + 2000,
      BudgetUsedPercent: ((BOB_SONNET + BOB_HAIKU + BOB_PRO) / 50_000_000) * 100,
    });
    expect(tenantLines[3]).toEqual(expect.objectContaining({ Tenant: 'openclaw-dave', MonthToDateSpendUsd: 0, BudgetUsedPercent: 0 }));
    expect(h.metrics[h.metrics.length - 1]).toEqual(expect.objectContaining({
      TenantsBlocked: 1, TenantsOverBudget: 1, TenantsOverBlockCapacity: 0, UsageLagMinutes: 15,
    }));
    expect(h.metrics[h.metrics.length - 1]._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
  });

  test('pages through query results, secrets and the month\'s items', async () => {
    const world = fixtureWorld();
    world.logs.resultPageSize = 2;
    world.dynamodb.pageBytes = 200;
    for (let i = 0; i < 230; i++) world.addTenant(`openclaw-extra-${i}`, 10);
    const h = harness(world);
    await h.run(NOW);
    expect(counts(world.month('2026-11', 'openclaw-bob')).costNano).toBe(BOB_SONNET + BOB_HAIKU + BOB_PRO);
    expect(world.count('GetQueryResults')).toBe(5); // 10 rows, 2 a page
    expect(world.count('ListSecrets')).toBe(3); // 235 secrets, 100 a page
    expect(world.count('Query')).toBeGreaterThan(1);
    expect(h.metrics.filter((m) => m.Tenant !== undefined)).toHaveLength(235);
  });
});

describe('re-runs and failures count every call exactly once', () => {
  const table = (world: FakeBudgetAws) => structuredClone([...world.dynamodb.tables.get(world.tableName)!].map(([pk, p]) => [pk, [...p]]));

  test('a second run at the same time changes nothing and writes nothing', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    const before = table(h.world);
    const policies = h.world.policyArns.map((a) => h.world.iam.policies.get(a)!.versions.length);
    const messages = h.world.sns.messages.length;
    h.world.resetCounts();
    const summary = await h.run(NOW);
    expect(table(h.world)).toEqual(before);
    expect(summary).toEqual(expect.objectContaining({ windows: 0, queries: 0, tenantsUpdated: 0, alertsSent: 0, blocked: 0, unblocked: 0 }));
    for (const write of ['UpdateItem', 'StartQuery', 'Publish', 'CreatePolicyVersion', 'DeletePolicyVersion']) expect(h.world.count(write)).toBe(0);
    expect(h.world.policyArns.map((a) => h.world.iam.policies.get(a)!.versions.length)).toEqual(policies);
    expect(h.world.sns.messages).toHaveLength(messages);
  });

  test.each([
    ['after bob\'s update was written (the caller saw an error)', true],
    ['before bob\'s update was written', false],
  ])('a run that fails %s leaves its window pending; the next run resumes it and counts each call once', async (_name, after) => {
    const reference = harness(fixtureWorld());
    await reference.run(NOW);

    const h = harness(fixtureWorld());
    h.world.inject({ operation: 'UpdateItem', after, when: (input) => input.Key.sk.S === 'openclaw-bob' && input.UpdateExpression.startsWith('ADD') });
    await expect(h.run(NOW)).rejects.toThrow(/injected failure of DynamoDB UpdateItem/);
    expect(h.world.state()?.pending).toEqual({ M: { from: { N: String(at('2026-11-01T00:00:00Z')) }, to: { N: String(at('2026-11-04T23:45:00Z')) } } });
    expect(h.world.sns.messages).toEqual([]);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/^budget run failed/) }));

    const summary = await h.run(NOW);
    expect(summary).toEqual(expect.objectContaining({ windows: 1, tenantsUpdated: after ? 0 : 1, tenantsAlreadyApplied: after ? 3 : 2 }));
    expect(monthCounts(h.world, '2026-11')).toEqual(monthCounts(reference.world, '2026-11'));
    expect(h.world.state()?.pending).toBeUndefined();
    expect(h.world.sns.messages.map((m) => m.subject)).toEqual(reference.world.sns.messages.map((m) => m.subject));
  });

  test('a run whose window finish fails is resumed without counting twice', async () => {
    const reference = harness(fixtureWorld());
    await reference.run(NOW);
    const h = harness(fixtureWorld());
    h.world.inject({ operation: 'UpdateItem', when: (input) => input.UpdateExpression.includes('REMOVE #pending') });
    await expect(h.run(NOW)).rejects.toThrow(/injected failure/);
    await h.run(NOW);
    expect(monthCounts(h.world, '2026-11')).toEqual(monthCounts(reference.world, '2026-11'));
  });

  test.each(['Failed', 'Cancelled', 'Timeout'] as const)('a query that ends %s fails the run; the next run counts the same window', async (status) => {
    const h = harness(fixtureWorld());
    h.world.logs.outcome = () => status;
    await expect(h.run(NOW)).rejects.toThrow(new RegExp(`the usage query q-1 ended ${status}; the window is counted again next run`));
    expect(h.world.state()?.pending).toBeDefined();
    h.world.logs.outcome = undefined;
    h.world.logs.pollsUntilComplete = 3;
    const summary = await h.run('2026-11-05T06:00:00Z');
    expect(summary.windows).toBe(2); // the pending window, then the settled hours since
    expect(h.world.logs.queries[1].queryString).toBe(h.world.logs.queries[0].queryString);
    expect(h.world.count('GetQueryResults')).toBe(1 + 4 + 4);
    expect(counts(h.world.month('2026-11', 'openclaw-carol')).costNano).toBe(CAROL_LITE);
  });
});

describe('windows: a missed day, a month rollover, a long outage', () => {
  const TENANTS = ['openclaw-t1', 'openclaw-t2', 'openclaw-t3'];
  const MODELS = [SONNET_US, NOVA_LITE, `arn:aws:bedrock:us-east-1:111122223333:inference-profile/${SONNET_GLOBAL}`, LLAMA];

  /** A call every 20 minutes (and one at each window edge) from `from` to `to`, tenants and models in turn. */
  function addCalls(world: FakeBudgetAws, from: string, to: string): { tenant: string; month: string; cost: number }[] {
    const made: { tenant: string; month: string; cost: number }[] = [];
    for (let t = at(from), i = 0; t < at(to); t += 20 * 60_000, i++) {
      const tenant = TENANTS[i % TENANTS.length];
      const modelId = MODELS[i % MODELS.length];
      const cacheRead = i % 3 === 0 ? 50 : undefined;
      const call = { at: t + (i % 7) * 1000, caller: world.caller(tenant), modelId, input: 100 + i, output: 10 + (i % 13), cacheRead };
      world.addCall(call);
      const id = modelId.replace(/^arn:.*\//, '');
      const price = PRICES[id] ?? PRICES[id.replace(/^(us|global)\./, '')] ?? { input: 3300, output: 16500, cacheRead: 800, cacheWrite: 4125 };
      const cost = costNano({ input: call.input, output: call.output, cacheRead: call.cacheRead ?? 0, cacheWrite: 0 }, price);
      made.push({ tenant, month: monthOf(call.at), cost });
    }
    return made;
  }

  const expectedCosts = (made: { tenant: string; month: string; cost: number }[], month: string) => {
    const out: Record<string, number> = {};
    for (const m of made) if (m.month === month) out[m.tenant] = (out[m.tenant] ?? 0) + m.cost;
    return out;
  };
  const costsOf = (world: FakeBudgetAws, month: string) => Object.fromEntries(
    Object.entries(monthCounts(world, month)).map(([t, c]) => [t, c.costNano]));

  test('no runs for 30 hours, then one: the same month totals as hourly runs over the same records', async () => {
    const hourly = harness();
    const missed = harness();
    const made = addCalls(hourly.world, '2026-11-10T00:00:00Z', '2026-11-11T12:00:00Z');
    addCalls(missed.world, '2026-11-10T00:00:00Z', '2026-11-11T12:00:00Z');
    for (const h of [hourly, missed]) for (const t of TENANTS) h.world.addTenant(t, 100);
    await hourly.run('2026-11-10T00:05:00Z');
    await missed.run('2026-11-10T00:05:00Z');
    for (let hour = 1; hour <= 30; hour++) await hourly.run(at('2026-11-10T00:05:00Z') + hour * 3_600_000);
    const summary = await missed.run(at('2026-11-10T00:05:00Z') + 30 * 3_600_000);
    expect(summary.windows).toBe(1);
    expect(monthCounts(missed.world, '2026-11')).toEqual(monthCounts(hourly.world, '2026-11'));
    // Settled through 2026-11-11T06:05 - 15 minutes, floored to the minute.
    const settled = made.filter((_, i) => at('2026-11-10T00:00:00Z') + i * 20 * 60_000 + (i % 7) * 1000 < at('2026-11-11T05:50:00Z'));
    expect(costsOf(missed.world, '2026-11')).toEqual(expectedCosts(settled, '2026-11'));
  });

  test('usage on each side of midnight UTC of the 1st goes to its month, no window crosses it, and blocks lift when the month turns', async () => {
    const h = harness();
    for (const t of TENANTS) h.world.addTenant(t, '0.01');
    // t1 spends its October budget early on.
    h.world.addCall({ at: at('2026-10-20T12:00:00Z'), caller: h.world.caller('openclaw-t1'), modelId: NOVA_PRO, input: 20_000, output: 0 });
    await h.run('2026-10-31T22:15:00Z');
    expect(h.world.blocked()).toEqual(['openclaw-t1']);
    const made = addCalls(h.world, '2026-10-31T22:00:00Z', '2026-11-01T00:14:00Z');
    h.world.addCall({ at: at('2026-11-01T00:00:00Z'), caller: h.world.caller('openclaw-t2'), modelId: NOVA_LITE, input: 1, output: 1 });
    h.world.addCall({ at: at('2026-10-31T23:59:59.999Z'), caller: h.world.caller('openclaw-t2'), modelId: NOVA_LITE, input: 2, output: 2 });
    const summary = await h.run('2026-11-01T00:30:00Z');

    expect(summary.windows).toBe(2);
    for (const q of h.world.logs.queries) {
      const [from, to] = [...q.queryString.matchAll(/fromMillis\((\d+)\)/g)].map((m) => Number(m[1]));
      expect(monthOf(from)).toBe(monthOf(to - 1));
    }
    expect(h.world.logs.queries.slice(1).map((q) => [q.startTime, q.endTime].map((s) => new Date(s * 1000).toISOString()))).toEqual([
      ['2026-10-31T22:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      ['2026-11-01T00:00:00.000Z', '2026-11-01T00:15:00.000Z'],
    ]);
    const october = expectedCosts(made, '2026-10');
    october['openclaw-t1'] += 20_000 * 800;
    october['openclaw-t2'] += 2 * 60 + 2 * 240;
    expect(costsOf(h.world, '2026-10')).toEqual(october);
    const november = expectedCosts(made, '2026-11');
    november['openclaw-t2'] = (november['openclaw-t2'] ?? 0) + 60 + 240;
    expect(costsOf(h.world, '2026-11')).toEqual(november);
    expect(counts(h.world.month('2026-10', 'openclaw-t2'))[`calls:${NOVA_LITE}`]).toBeGreaterThanOrEqual(1);
    expect(counts(h.world.month('2026-11', 'openclaw-t2'))[`calls:${NOVA_LITE}`]).toBe(1);

    // November is evaluated: everyone starts at zero, so t1's block lifts, and it is told why.
    expect(h.world.blocked()).toEqual([]);
    expect(summary.unblocked).toBe(1);
    const notice = h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-t1 unblocked')!;
    expect(notice.message).toMatch(/no longer blocked: a new month began\./);
    expect(notice.attributes).toEqual({ tenant: 'openclaw-t1', event: 'unblocked' });
  });

  test('after an outage over two month ends, each month is counted in its own windows in one run', async () => {
    const h = harness();
    h.world.addTenant('openclaw-t1', 100);
    await h.run('2026-09-20T00:00:00Z');
    const made = addCalls(h.world, '2026-09-25T00:00:00Z', '2026-11-02T00:00:00Z');
    const summary = await h.run('2026-11-02T00:00:00Z');
    expect(summary.windows).toBe(3);
    expect(h.world.logs.queries.slice(1).map((q) => new Date(q.startTime * 1000).toISOString())).toEqual([
      '2026-09-19T23:45:00.000Z', '2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z',
    ]);
    for (const month of ['2026-09', '2026-10', '2026-11']) expect(costsOf(h.world, month)).toEqual(expectedCosts(made, month));
  });

  test('with no state, counting starts at the start of the current month (usage before the deployment counts)', async () => {
    const h = harness();
    h.world.addTenant('openclaw-t1', 100);
    h.world.addCall({ at: at('2026-11-01T00:00:00Z'), caller: h.world.caller('openclaw-t1'), modelId: NOVA_LITE, input: 10, output: 0 });
    h.world.addCall({ at: at('2026-10-31T23:59:59Z'), caller: h.world.caller('openclaw-t1'), modelId: NOVA_LITE, input: 1000, output: 0 });
    await h.run('2026-11-12T08:00:00Z');
    expect(costsOf(h.world, '2026-11')).toEqual({ 'openclaw-t1': 600 });
    expect(monthCounts(h.world, '2026-10')).toEqual({});
  });

  test('in the first 15 minutes of a month without state nothing is settled yet: no window, no query', async () => {
    const h = harness();
    const summary = await h.run('2026-11-01T00:10:00Z');
    expect(summary).toEqual(expect.objectContaining({ windows: 0, queries: 0 }));
    expect(h.world.state()).toBeUndefined();
  });
});

describe('thresholds are announced once per tenant and month', () => {
  function spend(h: ReturnType<typeof harness>, when: string, inputTokens: number) {
    // amazon.nova-pro-v1:0 at 800 nano-dollars per input token.
    h.world.addCall({ at: at(when), caller: h.world.caller('openclaw-t1'), modelId: NOVA_PRO, input: inputTokens, output: 0 });
  }

  test('80 % then 100 %, each once, never twice when re-run', async () => {
    const h = harness();
    h.world.addTenant('openclaw-t1', 1); // $1 = 1,250,000 input tokens
    spend(h, '2026-11-02T10:00:00Z', 625_000); // 50 %
    await h.run('2026-11-02T12:00:00Z');
    expect(h.world.sns.messages).toEqual([]);
    spend(h, '2026-11-02T12:30:00Z', 437_500); // 85 %
    await h.run('2026-11-02T13:00:00Z');
    await h.run('2026-11-02T13:00:00Z');
    await h.run('2026-11-02T14:00:00Z');
    expect(h.world.sns.messages.map((m) => m.subject)).toEqual(['OpenClaw budget: openclaw-t1 reached 80% (2026-11)']);
    spend(h, '2026-11-02T14:10:00Z', 187_500); // exactly 100 %
    await h.run('2026-11-02T15:00:00Z');
    await h.run('2026-11-02T16:00:00Z');
    spend(h, '2026-11-02T16:10:00Z', 10);
    await h.run('2026-11-02T17:00:00Z');
    expect(h.world.sns.messages.map((m) => m.subject)).toEqual([
      'OpenClaw budget: openclaw-t1 reached 80% (2026-11)',
      'OpenClaw budget: openclaw-t1 reached 100% (2026-11)',
      'OpenClaw budget: openclaw-t1 blocked',
    ]);
    expect(h.world.month('2026-11', 'openclaw-t1')?.alerted?.SS?.sort()).toEqual(['100', '80']);
  });

  test('a threshold reached in another month is announced again', async () => {
    const h = harness();
    h.world.addTenant('openclaw-t1', 1);
    spend(h, '2026-10-30T10:00:00Z', 1_100_000);
    await h.run('2026-10-31T00:00:00Z');
    spend(h, '2026-11-02T10:00:00Z', 1_100_000);
    await h.run('2026-11-03T00:00:00Z');
    expect(h.world.sns.messages.filter((m) => m.attributes.event === 'threshold').map((m) => m.subject)).toEqual([
      'OpenClaw budget: openclaw-t1 reached 80% (2026-10)',
      'OpenClaw budget: openclaw-t1 reached 80% (2026-11)',
    ]);
  });

  test('a Publish that fails is retried by the next run, and then sent once', async () => {
    const h = harness();
    h.world.addTenant('openclaw-t1', 1);
    spend(h, '2026-11-02T10:00:00Z', 1_100_000); // 88 %
    h.world.inject({ operation: 'Publish' });
    const first = await h.run('2026-11-02T12:00:00Z');
    expect(first).toEqual(expect.objectContaining({ alertsSent: 0, alertsFailed: 1 }));
    expect(h.world.sns.messages).toEqual([]);
    expect(h.world.month('2026-11', 'openclaw-t1')?.alerted).toBeUndefined();
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'could not send a budget alert; it is sent again next run' }));
    const second = await h.run('2026-11-02T12:00:00Z');
    await h.run('2026-11-02T13:00:00Z');
    expect(second).toEqual(expect.objectContaining({ alertsSent: 1, alertsFailed: 0 }));
    expect(h.world.sns.messages.map((m) => m.subject)).toEqual(['OpenClaw budget: openclaw-t1 reached 80% (2026-11)']);
  });

  test('a threshold another run marked meanwhile is not announced by this one', async () => {
    const h = harness();
    h.world.addTenant('openclaw-t1', 1);
    spend(h, '2026-11-02T10:00:00Z', 1_100_000);
    h.world.onCall = (operation, input) => {
      if (operation === 'UpdateItem' && input.UpdateExpression === 'ADD #alerted :mark') {
        h.world.month('2026-11', 'openclaw-t1')!.alerted = { SS: ['80'] };
      }
    };
    const summary = await h.run('2026-11-02T12:00:00Z');
    expect(summary.alertsSent).toBe(0);
    expect(h.world.sns.messages).toEqual([]);
  });

  test('the alert names the tenant, month, spend and budget in dollars, percent, top models and what happens next', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    const alert = h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-bob reached 100% (2026-11)')!;
    expect(alert.attributes).toEqual({ tenant: 'openclaw-bob', event: 'threshold', threshold: '100' });
    expect(alert.message).toBe([
      'The Amazon Bedrock spend of an OpenClaw tenant reached 100% of its monthly budget.',
      '',
      'Tenant: openclaw-bob',
      'Month: 2026-11 (UTC)',
      'Spend: $0.07 of a budget of $0.05 (136.4%)',
      '',
      'Top models by cost this month:',
      `  ${SONNET_GLOBAL}: $0.06`,
      `  ${NOVA_PRO}: $0.00`,
      `  ${HAIKU_US}: $0.00`,
      '',
      'What happens next: The tenant\'s Bedrock calls are blocked until the month ends (2026-12-01 00:00 UTC) or its budget-usd tag is raised above its spend.',
    ].join('\n'));
    const alice = h.world.sns.messages.find((m) => m.attributes.tenant === 'openclaw-alice')!;
    expect(alice.subject).toBe('OpenClaw budget: openclaw-alice reached 80% (2026-11)');
    expect(alice.message).toContain('Spend: $0.08 of a budget of $0.09 (91.6%)');
    expect(alice.message).toContain('What happens next: The tenant\'s Bedrock calls will be blocked when its spend reaches the budget.');
    expect(h.world.sns.messages.map((m) => m.subject)).toEqual([
      'OpenClaw budget: openclaw-alice reached 80% (2026-11)',
      'OpenClaw budget: openclaw-bob reached 80% (2026-11)',
      'OpenClaw budget: openclaw-bob reached 100% (2026-11)',
      'OpenClaw budget: openclaw-bob blocked',
    ]);
  });

  test('a subject stays within SNS\'s 100 characters for the longest namespace', async () => {
    const h = harness();
    const long = `openclaw-${'x'.repeat(54)}`;
    h.world.addTenant(long, 1);
    h.world.addCall({ at: at('2026-11-02T10:00:00Z'), caller: h.world.caller(long), modelId: NOVA_PRO, input: 2_000_000, output: 0 });
    await h.run('2026-11-03T00:00:00Z');
    expect(h.world.sns.messages.length).toBe(3);
    for (const m of h.world.sns.messages) expect(m.subject!.length).toBeLessThanOrEqual(100);
  });
});

describe('block policies', () => {
  /** Every namespace any version of any block policy ever denied. */
  const everWritten = (world: FakeBudgetAws) => [
    ...new Set(world.policyArns.flatMap((a) => world.iam.policies.get(a)!.history.flatMap(namespacesOf))),
  ].sort();

  test('a tenant over budget is denied in a block policy version; no other namespace is ever written', async () => {
    const h = harness(fixtureWorld());
    const summary = await h.run(NOW);
    expect(summary).toEqual(expect.objectContaining({ blocked: 1, tenantsBlocked: 1, tenantsOverBudget: 1, policyVersionsCreated: 1 }));
    expect(h.world.iam.denied(h.world.policyArns[0])).toEqual(['openclaw-bob']);
    expect(h.world.iam.denied(h.world.policyArns[1])).toEqual([]);
    expect(JSON.parse(h.world.iam.document(h.world.policyArns[0]))).toEqual(blockPolicyDocument(['openclaw-bob']));
    expect(everWritten(h.world)).toEqual(['openclaw-bob']);
    const notice = h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-bob blocked')!;
    expect(notice.message).toMatch(/are now blocked: its spend this month reached its budget\./);
    expect(notice.attributes).toEqual({ tenant: 'openclaw-bob', event: 'blocked' });
  });

  test('a raised budget tag unblocks the tenant on the next run, and says so', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    h.world.setBudget('openclaw-bob', '1.50');
    const summary = await h.run('2026-11-05T01:00:00Z');
    expect(summary).toEqual(expect.objectContaining({ unblocked: 1, tenantsBlocked: 0 }));
    expect(h.world.blocked()).toEqual([]);
    const notice = h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-bob unblocked')!;
    expect(notice.message).toContain('no longer blocked: its budget was raised above its spend.');
    expect(notice.message).toContain('Spend: $0.07 of a budget of $1.50 (4.5%)');
  });

  test('ALERT enforcement never writes a namespace, still announces thresholds, and says calls are not blocked', async () => {
    const h = harness(fixtureWorld(), { enforcement: 'ALERT' });
    const summary = await h.run(NOW);
    await h.run('2026-11-05T01:00:00Z');
    expect(everWritten(h.world)).toEqual([]);
    expect(h.world.count('CreatePolicyVersion')).toBe(0);
    expect(summary).toEqual(expect.objectContaining({ tenantsOverBudget: 1, tenantsBlocked: 0, alertsSent: 3 }));
    expect(h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-bob reached 100% (2026-11)')!.message)
      .toContain('What happens next: Enforcement is ALERT: the tenant\'s Bedrock calls are not blocked, whatever it spends.');
  });

  test('switching from BLOCK to ALERT lifts every block', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    expect(h.world.blocked()).toEqual(['openclaw-bob']);
    await h.run('2026-11-05T01:00:00Z', { env: { BUDGET_ENFORCEMENT: 'ALERT' } });
    expect(h.world.blocked()).toEqual([]);
    expect(h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-bob unblocked')!.message)
      .toContain('no longer blocked: budget enforcement is now ALERT, which blocks no one.');
  });

  test('with five versions, the oldest non-default one is deleted before a new default is created', async () => {
    const world = fixtureWorld();
    const arn = world.policyArns[0];
    for (let i = 0; i < 4; i++) world.iam.addVersion(arn, emptyBlockDocument());
    expect(world.iam.policies.get(arn)!.defaultId).toBe('v1');
    const h = harness(world);
    const summary = await h.run(NOW);
    expect(summary).toEqual(expect.objectContaining({ policyVersionsDeleted: 1, policyVersionsCreated: 1 }));
    expect(world.iam.policies.get(arn)!.versions.map((v) => v.id)).toEqual(['v1', 'v3', 'v4', 'v5', 'v6']);
    expect(world.iam.policies.get(arn)!.defaultId).toBe('v6');
    expect(world.iam.denied(arn)).toEqual(['openclaw-bob']);
  });

  test('only slots whose namespaces change are written', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    expect(h.world.calls.get('IAM CreatePolicyVersion')).toBe(1);
    expect(h.world.iam.policies.get(h.world.policyArns[1])!.versions).toHaveLength(1);
    h.world.resetCounts();
    await h.run('2026-11-05T01:00:00Z');
    expect(h.world.count('CreatePolicyVersion') + h.world.count('ListPolicyVersions')).toBe(0);
    expect(h.world.count('GetPolicy')).toBe(2);
  });

  test('a namespace that moves to another slot stays blocked at every moment of the rewrite', async () => {
    const h = harness({ blockPolicies: 3 });
    const over = (ns: string, when = '2026-11-02T10:00:00Z') => {
      h.world.addTenant(ns, 1);
      h.world.addCall({ at: at(when), caller: h.world.caller(ns), modelId: NOVA_PRO, input: 2_000_000, output: 0 });
    };
    const names = Array.from({ length: 100 }, (_, i) => `openclaw-m${String(i).padStart(3, '0')}-${'n'.repeat(49)}`);
    names.forEach((ns) => over(ns));
    await h.run('2026-11-03T00:00:00Z');
    const before = h.world.policyArns.map((a) => h.world.iam.denied(a));
    expect(before[1].length).toBeGreaterThan(0);
    // A name that sorts first pushes the last of slot 0 into slot 1.
    over(`openclaw-a-${'n'.repeat(52)}`, '2026-11-03T00:10:00Z');
    const gaps: string[] = [];
    const order: string[] = [];
    const check = () => {
      const blocked = new Set(h.world.blocked());
      gaps.push(...names.filter((ns) => !blocked.has(ns)));
    };
    h.world.onCall = (operation, input) => {
      if (operation === 'CreatePolicyVersion') order.push(input.PolicyArn);
      if (operation === 'CreatePolicyVersion' || operation === 'DeletePolicyVersion') check();
    };
    await h.run('2026-11-03T01:00:00Z');
    check();
    const after = h.world.policyArns.map((a) => h.world.iam.denied(a));
    expect(after[1][0]).toBe(before[0][before[0].length - 1]);
    expect(order).toEqual([h.world.policyArns[1], h.world.policyArns[0]]);
    expect(gaps).toEqual([]);
  });

  test('a block policy edited by hand is rewritten, even when it lists the same namespaces', async () => {
    const h = harness(fixtureWorld());
    await h.run(NOW);
    const edited = blockPolicyDocument(['openclaw-bob']) as any;
    edited.Statement[0].Effect = 'Allow';
    h.world.iam.addVersion(h.world.policyArns[0], edited, true);
    await h.run('2026-11-05T01:00:00Z');
    expect(JSON.parse(h.world.iam.document(h.world.policyArns[0]))).toEqual(blockPolicyDocument(['openclaw-bob']));
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', message: 'a block policy is not in the form this function writes: it is rewritten' }));
  });

  test('tenants beyond what the policies hold are logged, counted in a metric, and told they are not blocked', async () => {
    const h = harness({ blockPolicies: 1 });
    const names = Array.from({ length: 120 }, (_, i) => `openclaw-${String(i).padStart(3, '0')}-${'n'.repeat(50)}`);
    for (const ns of names) {
      h.world.addTenant(ns, 1);
      h.world.addCall({ at: at('2026-11-02T10:00:00Z'), caller: h.world.caller(ns), modelId: NOVA_PRO, input: 2_000_000, output: 0 });
    }
    const summary = await h.run('2026-11-03T00:00:00Z');
    const blocked = h.world.blocked();
    expect(blocked.length + summary.tenantsOverBlockCapacity).toBe(120);
    expect(summary.tenantsOverBlockCapacity).toBeGreaterThan(0);
    expect(h.world.iam.document(h.world.policyArns[0]).length).toBeLessThanOrEqual(6144);
    expect(h.metrics[h.metrics.length - 1].TenantsOverBlockCapacity).toBe(summary.tenantsOverBlockCapacity);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'more tenants are over budget than the block policies hold: these are NOT blocked' }));
    const last = names[names.length - 1];
    expect(blocked).not.toContain(last);
    expect(h.world.sns.messages.find((m) => m.subject?.includes(`${last} reached 100%`))!.message).toContain('over budget but NOT blocked');
  });

  test('a policy that cannot be written fails the run after the rest is done; the next run writes it', async () => {
    const h = harness(fixtureWorld());
    h.world.inject({ operation: 'CreatePolicyVersion' });
    await expect(h.run(NOW)).rejects.toThrow(/injected failure of IAM CreatePolicyVersion/);
    expect(h.world.blocked()).toEqual([]);
    expect(h.world.sns.messages.find((m) => m.subject === 'OpenClaw budget: openclaw-bob reached 100% (2026-11)')!.message)
      .toContain('What happens next: The tenant is over budget but its block could not be written yet: the next run tries again.');
    expect(h.world.sns.messages.filter((m) => m.attributes.event === 'blocked')).toEqual([]);
    expect(h.metrics.length).toBeGreaterThan(0);
    await h.run('2026-11-05T01:00:00Z');
    expect(h.world.blocked()).toEqual(['openclaw-bob']);
    expect(h.world.sns.messages.filter((m) => m.attributes.event === 'blocked')).toHaveLength(1);
  });
});

describe('concurrent runs', () => {
  test('a run that loses the claim of its window stops without any other call', async () => {
    const h = harness(fixtureWorld());
    h.world.onCall = (operation, input) => {
      if (operation === 'UpdateItem' && input.UpdateExpression === 'SET #watermark = :from, #pending = :pending') {
        h.world.dynamodb.put(h.world.tableName, { pk: { S: 'STATE' }, sk: { S: 'STATE' }, watermark: { N: '0' }, pending: { M: { from: { N: '0' }, to: { N: '60000' } } } });
      }
    };
    const summary = await h.run(NOW);
    expect(summary.claimLost).toBe(true);
    expect(h.world.log).toEqual(['DynamoDB GetItem', 'DynamoDB UpdateItem']);
    expect(h.metrics).toEqual([]);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'info', message: 'lost the claim of a window to another run' }));
  });

  test('two runs at once count every call once', async () => {
    const reference = harness(fixtureWorld());
    await reference.run(NOW);
    const h = harness(fixtureWorld());
    const other = harness(h.world);
    const results = await Promise.all([h.run(NOW), other.run(NOW)]);
    expect(results.filter((r) => r.claimLost)).toHaveLength(1);
    expect(monthCounts(h.world, '2026-11')).toEqual(monthCounts(reference.world, '2026-11'));
    expect(h.world.sns.messages).toHaveLength(reference.world.sns.messages.length);
  });
});

describe('the row limit', () => {
  /** One call by each namespace, all in one window. */
  function world(namespaces: string[], maxRows: number): FakeBudgetAws {
    const w = new FakeBudgetAws({ maxRows });
    namespaces.forEach((ns, i) => {
      w.addTenant(ns, 100);
      w.addCall({ at: at('2026-11-02T10:00:00Z') + i * 1000, caller: w.caller(ns), modelId: NOVA_LITE, input: 1000 + i, output: 0 });
    });
    return w;
  }

  test('below the limit a window takes one query', async () => {
    const h = harness(world(Array.from({ length: 50 }, (_, i) => `openclaw-t${i}`), QUERY_ROW_LIMIT));
    expect((await h.run('2026-11-03T00:00:00Z')).queries).toBe(1);
  });

  test('a full result is counted again in halves of tenants by their last character, each tenant once', async () => {
    const names = ['0', '5', '9', 'a', 'b', 'h', 'i', 'm', 'r', 'x', 'y', 'z'].map((c) => `openclaw-t${c}`);
    const h = harness(world(names, 4));
    const summary = await h.run('2026-11-03T00:00:00Z', { queryRowLimit: 4 });
    expect(summary.queries).toBeGreaterThan(1);
    expect(Object.fromEntries(Object.entries(monthCounts(h.world, '2026-11')).map(([t, c]) => [t, c.inputTokens])))
      .toEqual(Object.fromEntries(names.map((n, i) => [n, 1000 + i])));
    const partitions = h.world.logs.queries.map((q) => /like \/\[(\w+)\]\$\//.exec(q.queryString)?.[1] ?? 'all');
    expect(partitions.slice(0, 3)).toEqual(['all', '0123456789abcdefgh', 'ijklmnopqrstuvwxyz']);
    // Each full result is logged and counted again in two queries.
    expect(h.logs.filter((l) => l.message.startsWith('a usage query returned the row limit')).length).toBe((summary.queries - 1) / 2);
  });

  test('a full result for a single last character fails the run, naming it', async () => {
    const names = ['ka', 'la', 'ma', 'na', 'oa'].map((p) => `openclaw-${p}`);
    const h = harness(world(names, 4));
    await expect(h.run('2026-11-03T00:00:00Z', { queryRowLimit: 4 })).rejects.toThrow(/more than 4 tenant-model pairs whose tenant ends in 'a' were active between/);
    expect(h.world.state()?.pending).toBeDefined();
  });

  test('the fake refuses a limit above its row limit (as Logs Insights does above 10,000)', async () => {
    const h = harness(world(['openclaw-t1'], 4));
    await expect(h.run('2026-11-03T00:00:00Z')).rejects.toThrow(/limit must be from 1 to 4, got 10000/);
  });
});

describe('Lambda time', () => {
  test('with too little time left no window is started, and budgets are still evaluated', async () => {
    const h = harness(fixtureWorld());
    const summary = await h.run(NOW, { remainingMs: () => WINDOW_MARGIN_MS - 1 });
    expect(summary).toEqual(expect.objectContaining({ windows: 0, queries: 0, tenantsEvaluated: 5 }));
    expect(h.metrics.length).toBe(6);
  });

  test('a query still running when time runs short is stopped, its window left pending for the next run', async () => {
    const h = harness(fixtureWorld());
    h.world.logs.outcome = () => 'Running';
    let left = 5 * 60_000;
    const summary = await h.run(NOW, { remainingMs: () => (left -= 30_000) });
    expect(left).toBeLessThan(POLL_MARGIN_MS);
    expect(summary).toEqual(expect.objectContaining({ windows: 0, queries: 1, windowLeftPending: true, tenantsEvaluated: 5 }));
    expect(h.world.logs.queries[0].status).toBe('Cancelled');
    expect(h.world.state()?.pending).toBeDefined();
    h.world.logs.outcome = undefined;
    await h.run(NOW);
    expect(counts(h.world.month('2026-11', 'openclaw-bob')).costNano).toBe(BOB_SONNET + BOB_HAIKU + BOB_PRO);
  });

  test('the Lambda context\'s remaining time is used when no remainingMs is given (real clients answered by the fakes)', async () => {
    const world = fixtureWorld();
    for (const mock of world.routeMocks()) mock.restore();
    const handler = createHandler({
      ...world.answeredClients(),
      config: () => budgetConfigFromEnvironment(world.environment({ prices: PRICES })),
      now: () => at(NOW),
      emit: () => {},
      log: () => {},
    });
    const short = await handler({}, { getRemainingTimeInMillis: () => 1000 });
    expect(short.windows).toBe(0);
    expect(world.count('StartQuery')).toBe(0);
    const long = await handler({}, { getRemainingTimeInMillis: () => 600_000 });
    expect(long).toEqual(expect.objectContaining({ windows: 1, queries: 1, tenantsUpdated: 3, blocked: 1 }));
  });
});

describe('scale', () => {
  test('3,000 tenants in one window: one query, one update per tenant, every cost exact', async () => {
    const w = new FakeBudgetAws();
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const ns = `openclaw-tenant-${i}`;
      w.addTenant(ns, 100);
      w.logs.add(invocationRecord({ at: at('2026-11-02T10:00:00Z') + i, caller: w.caller(ns), modelId: i % 2 ? NOVA_LITE : SONNET_US, input: i, output: 1 }));
    }
    const h = harness(w);
    const started = Date.now();
    const summary = await h.run('2026-11-03T00:00:00Z');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(summary).toEqual(expect.objectContaining({ queries: 1, tenantsUpdated: n, tenantsEvaluated: n }));
    expect(w.calls.get('DynamoDB UpdateItem')).toBe(n + 2);
    expect(counts(w.month('2026-11', 'openclaw-tenant-2999')).costNano).toBe(2999 * 60 + 240);
    expect(counts(w.month('2026-11', 'openclaw-tenant-2998')).costNano).toBe(2998 * 3300 + 16500);
  });
});

describe('the Lambda entry', () => {
  test('exports the handler over real clients, which reads its settings from the environment when it runs', async () => {
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => {});
    await expect(lambdaHandler({}, { getRemainingTimeInMillis: () => 600_000 })).rejects.toThrow(/The environment variable BUDGET_ENFORCEMENT must be set for the budget function/);
    expect(quiet).toHaveBeenCalledWith(expect.stringContaining('"message":"budget run failed'));
    quiet.mockRestore();
  });
});
