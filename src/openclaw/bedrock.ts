/**
 * One Amazon Bedrock model offered to the agents (an entry of `models.providers["amazon-bedrock"].models`).
 */
export interface BedrockModelProps {
  /**
   * The Bedrock model or inference profile id, for example
   * `global.anthropic.claude-sonnet-4-5-20250929-v1:0`, or an inference profile ARN.
   */
  readonly modelId: string;

  /**
   * Display name.
   *
   * @default - the model id
   */
  readonly displayName?: string;

  /**
   * Whether the model supports extended reasoning.
   *
   * @default - not set (OpenClaw decides from its model catalogue)
   */
  readonly reasoning?: boolean;

  /**
   * Whether the model accepts images as well as text.
   *
   * @default - not set (OpenClaw decides from its model catalogue)
   */
  readonly acceptsImages?: boolean;

  /**
   * Context window in tokens.
   *
   * @default - not set (OpenClaw decides from its model catalogue)
   */
  readonly contextWindow?: number;

  /**
   * Maximum output tokens per response.
   *
   * @default - not set (OpenClaw decides from its model catalogue)
   */
  readonly maxTokens?: number;
}

/**
 * The Amazon Bedrock model provider (`models.providers["amazon-bedrock"]`), authenticated with the
 * AWS SDK default credential chain (on EC2: the instance role; on EKS: Pod Identity). No API key.
 */
export interface BedrockProviderOptions {
  /**
   * Region of the Bedrock runtime endpoint. May be a token.
   *
   * @default - the stack's region (`AWS::Region`)
   */
  readonly region?: string;

  /**
   * The agents' primary model (`agents.defaults.model.primary`).
   *
   * @default - `global.anthropic.claude-sonnet-4-5-20250929-v1:0` (global cross-region inference profile)
   */
  readonly primaryModel?: BedrockModelProps;

  /**
   * Further models the agents may switch to.
   *
   * @default - none
   */
  readonly additionalModels?: BedrockModelProps[];
}
