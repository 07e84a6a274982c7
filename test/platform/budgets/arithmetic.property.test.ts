import fc from 'fast-check';
import { FakeBudgetAws } from './fake-budget-aws';
import { PRICES, at, harness, monthCounts } from './harness';
import { UsageRow, aggregateUsage } from '../../../src/platform/budgets/budget-run';
import { NanoPrice, PriceTable, TokenCounts, costNano, highestPrice, priceOf } from '../../../src/platform/budgets/contract';

const FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite'] as const;
const tokens = (max: number) => fc.record({
  input: fc.nat({ max }), output: fc.nat({ max }), cacheRead: fc.nat({ max }), cacheWrite: fc.nat({ max }),
});
const price = fc.record({
  input: fc.nat({ max: 100_000 }), output: fc.nat({ max: 100_000 }), cacheRead: fc.nat({ max: 100_000 }), cacheWrite: fc.nat({ max: 100_000 }),
});

describe('cost arithmetic', () => {
  test('cost never falls when any one token count grows', () => {
    fc.assert(fc.property(tokens(1_000_000_000), price, fc.constantFrom(...FIELDS), fc.nat({ max: 1_000_000 }), (t, p, field, more) => {
      const grown: TokenCounts = { ...t, [field]: t[field] + more };
      expect(costNano(grown, p)).toBeGreaterThanOrEqual(costNano(t, p));
    }));
  });

  test('costs are exact integers below 2^53 (equal to the same sum in BigInt)', () => {
    fc.assert(fc.property(tokens(2 ** 31), fc.record({
      input: fc.nat({ max: 2 ** 20 }), output: fc.nat({ max: 2 ** 20 }), cacheRead: fc.nat({ max: 2 ** 20 }), cacheWrite: fc.nat({ max: 2 ** 20 }),
    }), (t, p) => {
      const cost = costNano(t, p);
      expect(Number.isSafeInteger(cost)).toBe(true);
      expect(BigInt(cost)).toBe(FIELDS.reduce((sum, f) => sum + BigInt(t[f]) * BigInt(p[f]), 0n));
    }));
  });

  test('a cost beyond exact integer arithmetic fails loudly instead of being rounded', () => {
    const row: UsageRow = { tenant: 'openclaw-a', modelId: 'm', tokens: { input: 2 ** 40, output: 0, cacheRead: 0, cacheWrite: 0 }, calls: 1 };
    expect(() => aggregateUsage([row], { m: { input: 2 ** 20, output: 0, cacheRead: 0, cacheWrite: 0 } })).toThrow(/beyond exact integer arithmetic/);
  });

  const MODELS = ['amazon.nova-lite-v1:0', 'us.amazon.nova-lite-v1:0', 'global.vendor.priced-v1:0', 'vendor.unpriced-v1:0',
    'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-lite-v1:0'];
  const rows = fc.array(fc.record({
    tenant: fc.constantFrom('openclaw-a', 'openclaw-b', 'openclaw-c'),
    modelId: fc.constantFrom(...MODELS),
    tokens: tokens(1_000_000),
    calls: fc.nat({ max: 1000 }),
  }), { maxLength: 40 });
  const tables = fc.record({ 'amazon.nova-lite-v1:0': price, 'global.vendor.priced-v1:0': price }) as fc.Arbitrary<PriceTable>;

  test('a tenant\'s total is the sum of its per-model costs, and each model\'s cost is its tokens at its price', () => {
    fc.assert(fc.property(rows, tables, (rs, table) => {
      const { tenants } = aggregateUsage(rs, table);
      for (const usage of tenants.values()) {
        const models = [...usage.models.values()];
        expect(usage.costNano).toBe(models.reduce((n, m) => n + m.costNano, 0));
        expect(usage.calls).toBe(models.reduce((n, m) => n + m.calls, 0));
        for (const [model, m] of usage.models) {
          const p: NanoPrice = priceOf(table, model) ?? highestPrice(table);
          expect(m.costNano).toBe(costNano(m.tokens, p));
        }
      }
      // Adding rows up first or pricing each row alone gives the same total.
      const total = [...tenants.values()].reduce((n, u) => n + u.costNano, 0);
      expect(total).toBe(rs.reduce((n, r) => n + costNano(r.tokens, priceOf(table, r.modelId) ?? highestPrice(table)), 0));
    }));
  });
});

describe('windows', () => {
  const TENANTS = ['openclaw-a', 'openclaw-b', 'openclaw-c'];
  const MODELS = ['amazon.nova-lite-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'meta.llama3-3-70b-instruct-v1:0'];
  const START = at('2026-11-02T00:00:00Z');
  /** Calls on a half-hour grid (so that some fall exactly on a window's edge) or anywhere, over four days. */
  const calls = fc.array(fc.record({
    minute: fc.oneof(fc.nat({ max: 4 * 48 }).map((n) => n * 30), fc.nat({ max: 4 * 24 * 60 })),
    second: fc.oneof(fc.constant(0), fc.nat({ max: 59 })),
    tenant: fc.constantFrom(...TENANTS),
    model: fc.constantFrom(...MODELS),
    input: fc.nat({ max: 50_000 }),
    output: fc.nat({ max: 5_000 }),
    cacheRead: fc.option(fc.nat({ max: 50_000 }), { nil: undefined }),
  }), { minLength: 1, maxLength: 25 });
  /** Run times on the same grid plus the settling time, so windows end exactly at calls. */
  const runs = fc.uniqueArray(fc.nat({ max: 5 * 48 }).map((n) => START + n * 30 * 60_000 + 15 * 60_000), { maxLength: 8 })
    .map((r) => r.sort((a, b) => a - b));

  function world(cs: { minute: number; second: number; tenant: string; model: string; input: number; output: number; cacheRead?: number }[]) {
    const w = new FakeBudgetAws();
    for (const t of TENANTS) w.addTenant(t, 1000);
    for (const c of cs) {
      const when = START + c.minute * 60_000 + c.second * 1000;
      w.addCall({ at: when, caller: w.caller(c.tenant), modelId: c.model, input: c.input, output: c.output, cacheRead: c.cacheRead });
    }
    return w;
  }

  test('counting in any sequence of windows, with runs failing midway, gives the month totals of one window', async () => {
    await fc.assert(fc.asyncProperty(calls, runs, fc.option(fc.nat({ max: 7 }), { nil: undefined }), async (cs, times, failing) => {
      const once = harness(world(cs));
      await once.run('2026-11-09T00:00:00Z');
      const split = harness(world(cs));
      for (const [i, t] of times.entries()) {
        if (i === failing) split.world.inject({ operation: 'UpdateItem', after: true, when: (input) => input.UpdateExpression.startsWith('ADD #a0') });
        await split.run(t).catch(() => undefined);
        split.world.clearFailures();
      }
      await split.run('2026-11-09T00:00:00Z');
      expect(monthCounts(split.world, '2026-11')).toEqual(monthCounts(once.world, '2026-11'));
      expect(once.world.count('StartQuery')).toBe(1);
    }), { numRuns: 40 });
  });

  test('the month totals equal the calls priced one by one', async () => {
    await fc.assert(fc.asyncProperty(calls, async (cs) => {
      const h = harness(world(cs));
      await h.run('2026-11-09T00:00:00Z');
      const expected: Record<string, number> = {};
      for (const c of cs) {
        const p = priceOf(PRICES, c.model) ?? highestPrice(PRICES);
        const cost = costNano({ input: c.input, output: c.output, cacheRead: c.cacheRead ?? 0, cacheWrite: 0 }, p);
        expected[c.tenant] = (expected[c.tenant] ?? 0) + cost;
      }
      const got = Object.fromEntries(Object.entries(monthCounts(h.world, '2026-11')).map(([t, c]) => [t, c.costNano]));
      expect(got).toEqual(expected);
    }), { numRuns: 30 });
  });
});
