import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { NanoPrice, PriceTable, priceOf } from './contract';
import { BedrockModelPrice } from './model-price';
import { invalidProp } from '../../core/validation';

/** The date of the default prices (us-east-1, on-demand, standard tier), taken from public summaries of the Amazon Bedrock pricing page. */
export const DEFAULT_PRICES_AS_OF = '2026-11-21';

/** Claude 4.5 in a region or a geographic profile; `global.` profiles cost 10 % less. */
function claude(model: string, global: [number, number, number, number], regional: [number, number, number, number]): BedrockModelPrice[] {
  const price = (modelId: string, [i, o, w, r]: [number, number, number, number]): BedrockModelPrice => ({
    modelId, inputPerMillionTokens: i, outputPerMillionTokens: o, cacheWritePerMillionTokens: w, cacheReadPerMillionTokens: r,
  });
  return [price(model, regional), price(`global.${model}`, global)];
}

/**
 * Default prices: the Claude 4.5 family (in-region and geographic profiles at the regional price, `global.` profiles
 * at the global price, cache writes at 1.25 and reads at 0.1 times input), Claude 3.5 Haiku and Amazon Nova Pro,
 * Lite and Micro. Source: the Amazon Bedrock pricing page (us-east-1), as public summaries of it gave them on
 * {@link DEFAULT_PRICES_AS_OF}.
 * @internal
 */
export const DEFAULT_PRICES: BedrockModelPrice[] = [
  //                                                    input  output  cache write  cache read
  ...claude('anthropic.claude-sonnet-4-5-20250929-v1:0', [3, 15, 3.75, 0.3], [3.3, 16.5, 4.125, 0.33]),
  ...claude('anthropic.claude-haiku-4-5-20251001-v1:0', [1, 5, 1.25, 0.1], [1.1, 5.5, 1.375, 0.11]),
  ...claude('anthropic.claude-opus-4-5-20251101-v1:0', [5, 25, 6.25, 0.5], [5.5, 27.5, 6.875, 0.55]),
  {
    modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
    inputPerMillionTokens: 0.8,
    outputPerMillionTokens: 4,
    cacheWritePerMillionTokens: 1,
    cacheReadPerMillionTokens: 0.08,
  },
  { modelId: 'amazon.nova-pro-v1:0', inputPerMillionTokens: 0.8, outputPerMillionTokens: 3.2 },
  { modelId: 'amazon.nova-lite-v1:0', inputPerMillionTokens: 0.06, outputPerMillionTokens: 0.24 },
  { modelId: 'amazon.nova-micro-v1:0', inputPerMillionTokens: 0.035, outputPerMillionTokens: 0.14 },
];

const MAX_PRICE = 10_000;
const MODEL_ID = /^[a-z0-9][a-z0-9.:_-]{2,199}$/;

/** Dollars per million tokens to whole nano-dollars per token, refusing more than three decimals. */
function toNano(scope: IConstruct, prop: string, value: number): number {
  const nano = Math.round(value * 1000);
  if (!Number.isFinite(value) || value < 0 || value > MAX_PRICE || Math.abs(nano - value * 1000) > 1e-6) {
    invalidProp(scope, prop, value, `dollars per million tokens from 0 to ${MAX_PRICE} with at most three decimals (a thousandth of a dollar)`);
  }
  return nano;
}

/**
 * The price table the budget function uses: the defaults with the given entries added or replacing the default of
 * the same model id. Throws at synthesis on a bad entry and when an allowed model has no price.
 * @internal
 */
export function resolvePrices(scope: IConstruct, given: readonly BedrockModelPrice[] | undefined, allowedModelIds: readonly string[]): PriceTable {
  const table: PriceTable = {};
  const seen = new Set<string>();
  const add = (p: BedrockModelPrice, prop: string) => {
    const input = toNano(scope, `${prop}.inputPerMillionTokens`, p.inputPerMillionTokens);
    const price: NanoPrice = {
      input,
      output: toNano(scope, `${prop}.outputPerMillionTokens`, p.outputPerMillionTokens),
      cacheRead: p.cacheReadPerMillionTokens === undefined ? input : toNano(scope, `${prop}.cacheReadPerMillionTokens`, p.cacheReadPerMillionTokens),
      cacheWrite: p.cacheWritePerMillionTokens === undefined ? input : toNano(scope, `${prop}.cacheWritePerMillionTokens`, p.cacheWritePerMillionTokens),
    };
    table[p.modelId] = price;
  };
  for (const p of DEFAULT_PRICES) add(p, 'prices');
  (given ?? []).forEach((p, i) => {
    const prop = `budgets.prices[${i}]`;
    if (Token.isUnresolved(p.modelId) || !MODEL_ID.test(p.modelId)) {
      invalidProp(scope, `${prop}.modelId`, p.modelId, 'a literal Bedrock model or inference profile id such as amazon.nova-pro-v1:0 (no ARN)');
    }
    if (seen.has(p.modelId)) invalidProp(scope, `${prop}.modelId`, p.modelId, 'each model id once');
    seen.add(p.modelId);
    add(p, prop);
  });
  for (const id of allowedModelIds) {
    if (!Token.isUnresolved(id) && !priceOf(table, id)) {
      invalidProp(scope, 'budgets.prices', id,
        'a price for every allowed model: add { modelId, inputPerMillionTokens, outputPerMillionTokens } for it (or for its model, for a cross-region profile)');
    }
  }
  return table;
}
