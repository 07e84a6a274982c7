import { Aws, Stack, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { IConstruct } from 'constructs';
import { BedrockModelProps, BedrockProviderOptions } from './bedrock';
import { GatewayAuth, GatewayBind, GatewayOptions } from './gateway';
import { assertNoRetiredKeys, normalize, parseOverridePath, setAtPath } from './private/overrides';
import { renderExecProvider, validateExecProvider } from './private/secrets-render';
import { checkInt, fail, isToken } from './private/validate';
import { validateGateway } from './private/validate-gateway';
import { validateTools } from './private/validate-tools';
import { OpenClawSecretResolver, SecretResolverOptions } from './resolver/secret-resolver';
import { ExecSecretProviderProps } from './secret-provider';
import { SecretRef } from './secret-ref';
import { ExecMode, ToolProfile, ToolsPolicyOptions } from './tools';

/**
 * The typed model of `openclaw.json`.
 */
export interface OpenClawConfigProps {
  /**
   * Gateway network and authentication settings.
   *
   * @default - loopback bind on port 18789, token auth with the token read from AWS Secrets Manager
   */
  readonly gateway?: GatewayOptions;

  /**
   * The agents' tool policy.
   *
   * @default - the hardened baseline: messaging profile; automation, runtime and file tools denied;
   *   file tools limited to the workspace; exec denied; elevated exec disabled
   */
  readonly tools?: ToolsPolicyOptions;

  /**
   * The Amazon Bedrock model provider.
   *
   * @default - Bedrock in the stack's region through the AWS SDK credential chain, primary model
   *   `global.anthropic.claude-sonnet-4-5-20250929-v1:0`
   */
  readonly bedrock?: BedrockProviderOptions;

  /**
   * Whether to declare the AWS Secrets Manager exec resolver as a secret provider.
   *
   * @default true
   */
  readonly enableSecretResolver?: boolean;

  /**
   * Settings of the AWS Secrets Manager exec resolver provider.
   *
   * @default - see `SecretResolverOptions`
   */
  readonly secretResolver?: SecretResolverOptions;

  /**
   * Further exec secret providers.
   *
   * @default - none
   */
  readonly secretProviders?: ExecSecretProviderProps[];
}

/** The Bedrock model used when none is given. */
const DEFAULT_MODEL_ID = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';

/** The tool deny list of the hardened baseline (OpenClaw's security guide). */
const DEFAULT_TOOL_DENY = ['group:automation', 'group:runtime', 'group:fs', 'sessions_spawn', 'sessions_send'];

/**
 * The OpenClaw gateway configuration (`openclaw.json`), validated when constructed.
 *
 * With no props it describes a hardened gateway: loopback only, token auth whose token lives in
 * AWS Secrets Manager (the file holds only a SecretRef), a failed-auth rate limit, a restrictive
 * tool policy, no operator terminal, no update check or model catalog download, and Amazon Bedrock through the
 * instance role (docs/hardened-defaults.md lists every decision). Values may be CDK tokens; use
 * `renderJson(scope)` to get the file content with tokens resolved at deploy time.
 */
export class OpenClawConfig {
  /** The default gateway port. */
  public static readonly DEFAULT_PORT = 18789;

  /** The hardened default configuration (same as `new OpenClawConfig()`). */
  public static hardenedDefaults(): OpenClawConfig {
    return new OpenClawConfig();
  }

  /** The props this configuration was built from, for deriving a modified copy. */
  public readonly props: OpenClawConfigProps;

  /** The port the gateway listens on (for security group rules and health checks). */
  public readonly gatewayPort: number;

  /** The interface the gateway listens on. */
  public readonly gatewayBind: GatewayBind;

  /** How clients authenticate to the gateway. */
  public readonly gatewayAuth: GatewayAuth;

  /** The Bedrock model id of the agents' primary model. */
  public readonly primaryModelId: string;

  /**
   * The AWS Secrets Manager resolver provider entry; the host installs the resolver script at its `command`.
   *
   * @default - not set when `enableSecretResolver` is false
   */
  public readonly secretResolverProvider?: ExecSecretProviderProps;

  private readonly overrides: Array<{ readonly path: string[]; readonly value: any; readonly remove: boolean }> = [];

  constructor(props: OpenClawConfigProps = {}) {
    this.props = props;
    const gateway = props.gateway ?? {};
    this.gatewayPort = gateway.port ?? OpenClawConfig.DEFAULT_PORT;
    this.gatewayBind = gateway.bind ?? GatewayBind.LOOPBACK;
    this.gatewayAuth = gateway.auth ?? GatewayAuth.token(OpenClawSecretResolver.secretRef(
      OpenClawSecretResolver.DEFAULT_GATEWAY_TOKEN_SECRET_NAME,
      props.secretResolver?.providerName,
    ));
    this.primaryModelId = props.bedrock?.primaryModel?.modelId ?? DEFAULT_MODEL_ID;
    if (props.enableSecretResolver !== false) {
      this.secretResolverProvider = OpenClawSecretResolver.execProvider(props.secretResolver);
    }

    validateGateway(gateway, this.gatewayPort, this.gatewayBind, this.gatewayAuth);
    validateTools(props.tools ?? {});
    this.validateModels();
    this.validateSecretProviders();
  }

  /**
   * A copy of this configuration with some gateway settings replaced (the other gateway settings,
   * the rest of the props and every override are kept). Validated like a new configuration.
   */
  public withGateway(gateway: GatewayOptions): OpenClawConfig {
    const merged: GatewayOptions = { ...this.props.gateway, ...withoutUndefined(gateway) };
    const copy = new OpenClawConfig({ ...this.props, gateway: merged });
    copy.overrides.push(...this.overrides);
    return copy;
  }

  /**
   * A copy of this configuration with other props (every override is kept). Validated like a new configuration.
   * @internal
   */
  public _withProps(props: OpenClawConfigProps): OpenClawConfig {
    const copy = new OpenClawConfig(props);
    copy.overrides.push(...this.overrides);
    return copy;
  }

  /**
   * Sets a raw setting not covered by the typed props, like `CfnResource.addOverride`.
   * `path` is dot-separated (`agents.defaults.thinkingDefault`); write `\.` for a literal dot.
   * Objects are set as given, replacing what was at that path. The retired
   * `dangerouslyDisableDeviceAuth` key is refused anywhere, and so is a plain string at
   * `gateway.auth.token` or `gateway.auth.password` (use a SecretRef object).
   */
  public addOverride(path: string, value: any): void {
    const segments = parseOverridePath(path);
    assertNoRetiredKeys(segments, value);
    this.overrides.push({ path: segments, value, remove: false });
    try {
      this.toJson(); // fail now, naming the problem, rather than at synth
    } catch (e) {
      this.overrides.pop(); // a refused override leaves the configuration unchanged
      throw e;
    }
  }

  /** Removes a setting from the rendered file. `path` is dot-separated, as in `addOverride`. */
  public addDeletionOverride(path: string): void {
    this.overrides.push({ path: parseOverridePath(path), value: undefined, remove: true });
  }

  /**
   * The configuration as a plain JSON object (keys sorted), for inspection. Tokens stay unresolved
   * and the Bedrock region defaults to the `AWS::Region` pseudo parameter; use `renderJson` for the
   * file content.
   */
  public toJson(): any {
    return this.build(Aws.REGION, Aws.URL_SUFFIX);
  }

  /** The `openclaw.json` content: pretty-printed JSON in which tokens resolve at deploy time. */
  public renderJson(scope: IConstruct): string {
    return Stack.of(scope).toJsonString(this._toObject(scope), 2);
  }

  /**
   * The `openclaw.json` content as an object, for a renderer that adds its own keys before serializing it.
   * Strings may hold tokens (the Bedrock region of an environment-agnostic stack).
   * @internal
   */
  public _toObject(scope: IConstruct): any {
    const stack = Stack.of(scope);
    // A concrete stack region gives a plain endpoint; an agnostic stack resolves it at deploy time.
    const suffix = Token.isUnresolved(stack.region) ? undefined : RegionInfo.get(stack.region).domainSuffix;
    return this.build(stack.region, suffix ?? stack.urlSuffix);
  }

  private build(defaultRegion: string, urlSuffix: string): any {
    const doc: any = {
      gateway: this.renderGateway(),
      tools: this.renderTools(),
      models: {
        providers: { 'amazon-bedrock': this.renderBedrock(defaultRegion, urlSuffix) },
        // The Bedrock models are declared here; OpenClaw's background refresh of its hosted model catalog would
        // only let a third-party host change their metadata, and is egress a private host does not need.
        catalogRefresh: { enabled: false },
      },
      agents: { defaults: { model: { primary: `amazon-bedrock/${this.primaryModelId}` } } },
      secrets: { providers: this.renderSecretProviders() },
      // The OpenClaw version is pinned by the deployment and changed by redeploying: no update check (nor the
      // anonymous ping that goes with it) at start-up, and therefore no automatic update either.
      update: { checkOnStart: false },
    };
    for (const o of this.overrides) {
      setAtPath(doc, o.path, o.value, o.remove);
    }
    const out = normalize(doc);
    assertNoRetiredKeys([], out);
    for (const key of ['token', 'password']) {
      const v = out.gateway?.auth?.[key];
      if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
        fail(`gateway.auth.${key}`, 'a SecretRef object {source, provider, id} (never a secret value)', typeof v === 'string' ? '<string>' : v);
      }
    }
    return out;
  }

  private renderGateway(): any {
    const g = this.props.gateway ?? {};
    const auth = this.gatewayAuth;
    const rate = g.authRateLimit ?? {};
    const tp = auth.trustedProxyOptions;
    return {
      mode: 'local',
      port: this.gatewayPort,
      bind: this.gatewayBind.mode,
      customBindHost: this.gatewayBind.customBindHost,
      auth: {
        mode: auth.mode,
        token: auth.tokenRef?.toJson(),
        password: auth.passwordRef?.toJson(),
        trustedProxy: tp && {
          userHeader: tp.userHeader,
          requiredHeaders: tp.requiredHeaders,
          allowUsers: tp.allowUsers,
          allowLoopback: tp.allowLoopback,
        },
        rateLimit: {
          maxAttempts: rate.maxAttempts ?? 10,
          windowMs: rate.windowMs ?? 60_000,
          lockoutMs: rate.lockoutMs ?? 300_000,
          exemptLoopback: rate.exemptLoopback,
        },
      },
      trustedProxies: g.trustedProxies,
      controlUi: {
        enabled: g.controlUi?.enabled ?? true,
        basePath: g.controlUi?.basePath,
        allowedOrigins: g.controlUi?.allowedOrigins,
      },
      terminal: { enabled: g.operatorTerminal ?? false },
    };
  }

  private renderTools(): any {
    const t = this.props.tools ?? {};
    return {
      profile: t.profile ?? ToolProfile.MESSAGING,
      allow: t.allow,
      alsoAllow: t.alsoAllow,
      deny: t.deny ?? DEFAULT_TOOL_DENY,
      fs: { workspaceOnly: t.fsWorkspaceOnly ?? true },
      exec: { mode: t.execMode ?? ExecMode.DENY },
      elevated: { enabled: t.elevatedEnabled ?? false },
    };
  }

  private renderBedrock(defaultRegion: string, urlSuffix: string): any {
    const b = this.props.bedrock ?? {};
    const region = b.region ?? defaultRegion;
    const models = [b.primaryModel ?? { modelId: DEFAULT_MODEL_ID }, ...(b.additionalModels ?? [])];
    return {
      baseUrl: `https://bedrock-runtime.${region}.${urlSuffix}`,
      api: 'bedrock-converse-stream',
      auth: 'aws-sdk',
      models: models.map(renderModel),
    };
  }

  private renderSecretProviders(): any {
    const out: any = {};
    for (const p of this.allSecretProviders()) {
      out[p.name] = renderExecProvider(p);
    }
    return out;
  }

  private allSecretProviders(): ExecSecretProviderProps[] {
    return [...(this.secretResolverProvider ? [this.secretResolverProvider] : []), ...(this.props.secretProviders ?? [])];
  }

  private validateModels(): void {
    const b = this.props.bedrock ?? {};
    const models: Array<[string, BedrockModelProps]> = [
      ['bedrock.primaryModel', b.primaryModel ?? { modelId: DEFAULT_MODEL_ID }],
      ...(b.additionalModels ?? []).map((m, i): [string, BedrockModelProps] => [`bedrock.additionalModels[${i}]`, m]),
    ];
    const seen = new Set<string>();
    for (const [path, m] of models) {
      if (!isToken(m.modelId) && !/^\S+$/.test(m.modelId ?? '')) {
        fail(`${path}.modelId`, 'a non-empty Bedrock model or inference profile id without spaces', m.modelId ?? '');
      }
      if (!isToken(m.modelId) && seen.has(m.modelId)) {
        fail(`${path}.modelId`, 'unique among the Bedrock models', m.modelId);
      }
      seen.add(m.modelId);
      checkInt(`${path}.contextWindow`, m.contextWindow, 1, 100_000_000);
      checkInt(`${path}.maxTokens`, m.maxTokens, 1, 100_000_000);
    }
    if (b.region !== undefined && !isToken(b.region) && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(b.region)) {
      fail('bedrock.region', 'an AWS region name such as us-east-1', b.region);
    }
  }

  private validateSecretProviders(): void {
    const names = new Set<string>();
    (this.props.secretProviders ?? []).forEach((p, i) => validateExecProvider(`secretProviders[${i}]`, p));
    if (this.secretResolverProvider) {
      validateExecProvider('secretResolver', this.secretResolverProvider);
    }
    for (const p of this.allSecretProviders()) {
      if (!isToken(p.name) && names.has(p.name)) {
        fail('secretProviders[].name', 'unique (the secret resolver uses its providerName too)', p.name);
      }
      names.add(p.name);
    }
    const refs: Array<[string, SecretRef | undefined]> = [
      ['gateway.auth.token', this.gatewayAuth.tokenRef],
      ['gateway.auth.password', this.gatewayAuth.passwordRef],
    ];
    for (const [path, ref] of refs) {
      if (ref && ref.source === 'exec' && !isToken(ref.provider) && !names.has(ref.provider)) {
        fail(`${path}.provider`, `one of the declared exec secret providers (${[...names].join(', ') || 'none'})`, ref.provider);
      }
    }
  }
}

function renderModel(m: BedrockModelProps): any {
  return {
    id: m.modelId,
    name: m.displayName ?? m.modelId,
    reasoning: m.reasoning,
    input: m.acceptsImages === undefined ? undefined : m.acceptsImages ? ['text', 'image'] : ['text'],
    contextWindow: m.contextWindow,
    maxTokens: m.maxTokens,
  };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
