/**
 * The budget function's test harness: a world of fakes (fake-budget-aws.ts), the handler wired to it through
 * aws-sdk-client-mock with a settable clock, and the log lines and metric lines it wrote.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { FakeBudgetAws, Item, WorldOptions } from './fake-budget-aws';
import { BudgetRunSummary, budgetConfigFromEnvironment, createHandler } from '../../../src/platform/budgets/budget-run';
import { PriceTable } from '../../../src/platform/budgets/contract';

/** A small price table (nano-dollars per token = USD per million tokens × 1000). */
export const PRICES: PriceTable = {
  'anthropic.claude-sonnet-4-5-20250929-v1:0': { input: 3300, output: 16500, cacheRead: 330, cacheWrite: 4125 },
  'global.anthropic.claude-sonnet-4-5-20250929-v1:0': { input: 3000, output: 15000, cacheRead: 300, cacheWrite: 3750 },
  'anthropic.claude-haiku-4-5-20251001-v1:0': { input: 1100, output: 5500, cacheRead: 110, cacheWrite: 1375 },
  'amazon.nova-lite-v1:0': { input: 60, output: 240, cacheRead: 60, cacheWrite: 60 },
  'amazon.nova-pro-v1:0': { input: 800, output: 3200, cacheRead: 800, cacheWrite: 800 },
};

/** The invocation log records of fixtures/invocation-logs.json. */
export const FIXTURES: Record<string, unknown>[] = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'invocation-logs.json'), 'utf8'));

export const at = (iso: string) => Date.parse(iso);

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** What a run is given besides the world. */
export interface RunOptions {
  /** Environment variables to change for this run. */
  readonly env?: Record<string, string>;
  readonly remainingMs?: () => number;
  readonly queryRowLimit?: number;
}

export interface Harness {
  readonly world: FakeBudgetAws;
  readonly logs: LogLine[];
  readonly metrics: any[];
  /** One run at the given time; throws what the handler throws. */
  run(when: string | number, options?: RunOptions): Promise<BudgetRunSummary>;
}

/** A harness over a new world (or the one given). */
export function harness(world: FakeBudgetAws | WorldOptions = {}, settings: { enforcement?: 'ALERT' | 'BLOCK'; thresholds?: number[]; defaultBudgetUsd?: number } = {}): Harness {
  const w = world instanceof FakeBudgetAws ? world : new FakeBudgetAws(world);
  const logs: LogLine[] = [];
  const metrics: any[] = [];
  const config = { region: 'us-east-1' };
  const clients = {
    logs: new CloudWatchLogsClient(config),
    dynamodb: new DynamoDBClient(config),
    secrets: new SecretsManagerClient(config),
    sns: new SNSClient(config),
    iam: new IAMClient(config),
  };
  return {
    world: w,
    logs,
    metrics,
    run: async (when, options = {}) => {
      w.routeMocks();
      const now = typeof when === 'number' ? when : Date.parse(when);
      const handler = createHandler({
        ...clients,
        config: () => budgetConfigFromEnvironment({ ...w.environment({ prices: PRICES, ...settings }), ...options.env }),
        now: () => now,
        sleep: async () => {},
        emit: (line) => metrics.push(line),
        log: (level, message, fields = {}) => logs.push({ level, message, fields }),
        remainingMs: options.remainingMs,
        queryRowLimit: options.queryRowLimit,
      });
      return handler({});
    },
  };
}

/** A tenant-month's counts as numbers, without `appliedThrough` and `alerted`. */
export function counts(item: Item | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    if (value.N !== undefined && name !== 'appliedThrough') out[name] = Number(value.N);
  }
  return out;
}

/** Every tenant-month's counts of a month. */
export function monthCounts(world: FakeBudgetAws, month: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [sk, item] of world.dynamodb.partition(world.tableName, `MONTH#${month}`)) {
    const c = counts(item);
    if (Object.keys(c).length > 0) out[sk] = c;
  }
  return out;
}

/** The fixture world: its records, and tenants alice ($0.09), bob ($0.05), carol (no tag), dave ($20, no usage), erin (a bad tag). */
export function fixtureWorld(options: WorldOptions = {}): FakeBudgetAws {
  const world = new FakeBudgetAws(options);
  for (const record of FIXTURES) world.logs.add(record);
  world.addTenant('openclaw-alice', '0.09');
  world.addTenant('openclaw-bob', '0.05');
  world.addTenant('openclaw-carol');
  world.addTenant('openclaw-dave', 20);
  world.addTenant('openclaw-erin', 'lots');
  return world;
}
