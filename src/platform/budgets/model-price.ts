/**
 * The on-demand price of one Amazon Bedrock model or inference profile, in US dollars per million tokens.
 *
 * A cross-region inference profile id that has no entry of its own (`us.amazon.nova-pro-v1:0`) is priced as its
 * model (`amazon.nova-pro-v1:0`); give the profile its own entry when its price differs (Anthropic's Claude 4.5
 * models cost 10 % less through `global.` profiles than in a region or a geographic profile).
 */
export interface BedrockModelPrice {
  /**
   * The model id or inference profile id as the gateway invokes it, e.g. `anthropic.claude-haiku-4-5-20251001-v1:0`
   * or `global.anthropic.claude-sonnet-4-5-20250929-v1:0`.
   */
  readonly modelId: string;

  /** Dollars per million input tokens. */
  readonly inputPerMillionTokens: number;

  /** Dollars per million output tokens. */
  readonly outputPerMillionTokens: number;

  /**
   * Dollars per million input tokens read from the prompt cache.
   * @default - the input price
   */
  readonly cacheReadPerMillionTokens?: number;

  /**
   * Dollars per million input tokens written to the prompt cache.
   * @default - the input price
   */
  readonly cacheWritePerMillionTokens?: number;
}
