import { App, CfnParameter, Fn, Stack, Token } from 'aws-cdk-lib';
import {
  ExecMode, GatewayAuth, GatewayBind, OpenClawConfig, OpenClawSecretResolver, SecretRef, ToolProfile,
} from '../../src/openclaw';

function stack(): Stack {
  return new Stack(new App(), 'Test', { env: { region: 'eu-west-1', account: '111122223333' } });
}

/** Renders in a stack with a concrete region, so tokens resolve to plain text. */
function rendered(config: OpenClawConfig): any {
  const s = stack();
  return JSON.parse(s.resolve(config.renderJson(s)));
}

describe('the hardened default configuration', () => {
  const json = rendered(new OpenClawConfig());

  test('listens on loopback, port 18789, in local mode', () => {
    expect(json.gateway).toMatchObject({ mode: 'local', bind: 'loopback', port: 18789 });
  });

  test('uses token auth whose token is a SecretRef to Secrets Manager through the exec resolver, never a value', () => {
    expect(json.gateway.auth.mode).toBe('token');
    expect(json.gateway.auth.token).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id: 'openclaw/gateway-token' });
    expect(json.secrets.providers['aws-secrets-manager']).toEqual({
      source: 'exec',
      command: '/opt/openclaw/bin/openclaw-secret-resolver',
      args: ['--allow-prefix', 'openclaw/'],
      timeoutMs: 10000,
      jsonOnly: true,
      passEnv: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    });
  });

  test('limits failed authentication attempts', () => {
    expect(json.gateway.auth.rateLimit).toEqual({ maxAttempts: 10, windowMs: 60000, lockoutMs: 300000 });
  });

  test('applies the hardened tool baseline: messaging profile, exec denied, workspace-only files, no elevated exec', () => {
    expect(json.tools).toEqual({
      profile: 'messaging',
      deny: ['group:automation', 'group:runtime', 'group:fs', 'sessions_spawn', 'sessions_send'],
      fs: { workspaceOnly: true },
      exec: { mode: 'deny' },
      elevated: { enabled: false },
    });
  });

  test('uses Amazon Bedrock in the stack region through the AWS SDK credential chain, with no API key', () => {
    expect(json.models.providers['amazon-bedrock']).toEqual({
      baseUrl: 'https://bedrock-runtime.eu-west-1.amazonaws.com',
      api: 'bedrock-converse-stream',
      auth: 'aws-sdk',
      models: [{ id: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', name: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0' }],
    });
    expect(json.agents.defaults.model.primary).toBe('amazon-bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(JSON.stringify(json)).not.toMatch(/apiKey/);
  });

  test('offers no operator terminal: OpenClaw would give every admin-scope client a host shell whatever tools.exec says', () => {
    expect(json.gateway.terminal).toEqual({ enabled: false });
  });

  test('checks for no update at start-up and downloads no model catalog: the version is pinned by the deployment', () => {
    expect(json.update).toEqual({ checkOnStart: false });
    expect(json.models.catalogRefresh).toEqual({ enabled: false });
  });

  test('offers the operator terminal only when asked to', () => {
    expect(rendered(new OpenClawConfig({ gateway: { operatorTerminal: true } })).gateway.terminal).toEqual({ enabled: true });
    expect(rendered(new OpenClawConfig({ gateway: { operatorTerminal: false } })).gateway.terminal).toEqual({ enabled: false });
  });

  test('keeps the operator terminal choice when the host replaces the gateway settings', () => {
    const withTerminal = new OpenClawConfig({ gateway: { operatorTerminal: true } }).withGateway({ bind: GatewayBind.LAN, controlUi: { allowedOrigins: ['https://openclaw.example.com'] } });
    expect(rendered(withTerminal).gateway.terminal).toEqual({ enabled: true });
  });

  test('lets an override turn the update check back on', () => {
    const c = new OpenClawConfig();
    c.addOverride('update.checkOnStart', true);
    expect(rendered(c).update).toEqual({ checkOnStart: true });
  });

  test('never emits the retired dangerouslyDisableDeviceAuth key', () => {
    expect(JSON.stringify(json)).not.toMatch(/dangerouslyDisableDeviceAuth/i);
  });

  test('hardenedDefaults() is the same as new OpenClawConfig()', () => {
    expect(rendered(OpenClawConfig.hardenedDefaults())).toEqual(json);
  });

  test('exposes the gateway port, bind, auth and primary model', () => {
    const c = new OpenClawConfig();
    expect(c.gatewayPort).toBe(18789);
    expect(c.gatewayBind).toBe(GatewayBind.LOOPBACK);
    expect(c.gatewayAuth.mode).toBe('token');
    expect(c.primaryModelId).toBe('global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(c.secretResolverProvider?.command).toBe('/opt/openclaw/bin/openclaw-secret-resolver');
  });
});

describe('rendering', () => {
  test('renders pretty JSON with sorted keys', () => {
    const s = stack();
    const text = s.resolve(new OpenClawConfig().renderJson(s));
    expect(text.startsWith('{\n  "agents": {')).toBe(true);
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual([...keys].sort());
  });

  test('resolves a token region into a CloudFormation join at deploy time', () => {
    const s = new Stack(new App(), 'Agnostic');
    const resolved = s.resolve(new OpenClawConfig().renderJson(s));
    expect(resolved['Fn::Join'][1]).toEqual(expect.arrayContaining([{ Ref: 'AWS::Region' }, { Ref: 'AWS::URLSuffix' }]));
  });

  test('accepts tokens for the port, trusted proxies, origins and secret ids without validating them', () => {
    const s = stack();
    const port = new CfnParameter(s, 'Port', { type: 'Number' }).valueAsNumber;
    const cidrs = new CfnParameter(s, 'Cidrs', { type: 'CommaDelimitedList' }).valueAsList;
    const origin = new CfnParameter(s, 'Origin').valueAsString;
    const arn = new CfnParameter(s, 'SecretArn').valueAsString;
    const config = new OpenClawConfig({
      gateway: {
        port,
        bind: GatewayBind.LAN,
        auth: GatewayAuth.trustedProxy({ userHeader: 'x-amzn-oidc-identity' }),
        trustedProxies: cidrs,
        controlUi: { allowedOrigins: [origin] },
      },
      secretResolver: { allowedPrefixes: [arn], region: s.region },
    });
    const text = JSON.stringify(s.resolve(config.renderJson(s)));
    expect(text).toContain('{"Ref":"Port"}');
    expect(text).toContain('{"Ref":"Origin"}');
    expect(text).toContain('{"Ref":"SecretArn"}');
    expect(config.gatewayPort).toBe(port);
  });

  test('accepts a token secret ARN in a SecretRef', () => {
    const s = stack();
    const arn = Fn.importValue('GatewayTokenArn');
    const config = new OpenClawConfig({
      gateway: { auth: GatewayAuth.token(OpenClawSecretResolver.secretRef(arn)) },
      secretResolver: { allowedPrefixes: [arn] },
    });
    expect(Token.isUnresolved(config.gatewayAuth.tokenRef!.id)).toBe(true);
    expect(JSON.stringify(s.resolve(config.renderJson(s)))).toContain('Fn::ImportValue');
  });

  test('renders a custom bind with its host', () => {
    const json = rendered(new OpenClawConfig({
      gateway: { bind: GatewayBind.custom('10.0.1.5'), controlUi: { enabled: false } },
    }));
    expect(json.gateway).toMatchObject({ bind: 'custom', customBindHost: '10.0.1.5', controlUi: { enabled: false } });
  });

  test('renders trusted-proxy auth with its proxy settings and no shared token', () => {
    const json = rendered(new OpenClawConfig({
      gateway: {
        bind: GatewayBind.LAN,
        auth: GatewayAuth.trustedProxy({
          userHeader: 'x-amzn-oidc-identity',
          requiredHeaders: ['x-amzn-oidc-data'],
          allowUsers: ['alice@example.com'],
        }),
        trustedProxies: ['10.0.0.0/24', '10.0.1.0/24'],
        controlUi: { allowedOrigins: ['https://openclaw.example.com'], basePath: '/openclaw' },
      },
    }));
    expect(json.gateway.auth).toEqual({
      mode: 'trusted-proxy',
      trustedProxy: { userHeader: 'x-amzn-oidc-identity', requiredHeaders: ['x-amzn-oidc-data'], allowUsers: ['alice@example.com'] },
      rateLimit: { maxAttempts: 10, windowMs: 60000, lockoutMs: 300000 },
    });
    expect(json.gateway.trustedProxies).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(json.gateway.controlUi).toEqual({ enabled: true, basePath: '/openclaw', allowedOrigins: ['https://openclaw.example.com'] });
  });

  test('renders a trusted-proxy local password fallback as a SecretRef', () => {
    const json = rendered(new OpenClawConfig({
      gateway: {
        bind: GatewayBind.LAN,
        auth: GatewayAuth.trustedProxy({ userHeader: 'x-forwarded-user', localPassword: SecretRef.fromEnv('OPENCLAW_GATEWAY_PASSWORD') }),
        trustedProxies: ['10.0.0.0/16'],
        controlUi: { allowedOrigins: ['https://a.example.com'] },
      },
    }));
    expect(json.gateway.auth.password).toEqual({ source: 'env', provider: 'default', id: 'OPENCLAW_GATEWAY_PASSWORD' });
    expect(json.gateway.auth.token).toBeUndefined();
  });

  test('renders password auth from a SecretRef', () => {
    const json = rendered(new OpenClawConfig({
      gateway: { auth: GatewayAuth.password(OpenClawSecretResolver.secretRef('openclaw/gateway-password')) },
    }));
    expect(json.gateway.auth).toMatchObject({ mode: 'password', password: { source: 'exec', provider: 'aws-secrets-manager', id: 'openclaw/gateway-password' } });
  });

  test('renders a custom tool policy and rate limit', () => {
    const json = rendered(new OpenClawConfig({
      tools: { profile: ToolProfile.CODING, alsoAllow: ['web_fetch'], deny: ['group:ui'], fsWorkspaceOnly: false, execMode: ExecMode.ASK, elevatedEnabled: true },
      gateway: { authRateLimit: { maxAttempts: 5, windowMs: 30000, lockoutMs: 600000, exemptLoopback: false } },
    }));
    expect(json.tools).toEqual({
      profile: 'coding',
      alsoAllow: ['web_fetch'],
      deny: ['group:ui'],
      fs: { workspaceOnly: false },
      exec: { mode: 'ask' },
      elevated: { enabled: true },
    });
    expect(json.gateway.auth.rateLimit).toEqual({ maxAttempts: 5, windowMs: 30000, lockoutMs: 600000, exemptLoopback: false });
  });

  test('renders the primary and additional Bedrock models with their limits', () => {
    const json = rendered(new OpenClawConfig({
      bedrock: {
        region: 'us-west-2',
        primaryModel: { modelId: 'us.anthropic.claude-opus-4-6-v1', displayName: 'Opus', reasoning: true, acceptsImages: true, contextWindow: 200000, maxTokens: 8192 },
        additionalModels: [{ modelId: 'amazon.nova-lite-v1:0', acceptsImages: false }],
      },
    }));
    const provider = json.models.providers['amazon-bedrock'];
    expect(provider.baseUrl).toBe('https://bedrock-runtime.us-west-2.amazonaws.com');
    expect(provider.models).toEqual([
      { id: 'us.anthropic.claude-opus-4-6-v1', name: 'Opus', reasoning: true, input: ['text', 'image'], contextWindow: 200000, maxTokens: 8192 },
      { id: 'amazon.nova-lite-v1:0', name: 'amazon.nova-lite-v1:0', input: ['text'] },
    ]);
    expect(json.agents.defaults.model.primary).toBe('amazon-bedrock/us.anthropic.claude-opus-4-6-v1');
  });

  test('renders extra exec secret providers next to the resolver', () => {
    const json = rendered(new OpenClawConfig({
      secretProviders: [{ name: 'vault', command: '/usr/local/bin/vault-resolver', args: ['--profile', 'prod'], passEnv: ['VAULT_ADDR'], trustedDirs: ['/usr/local/bin'] }],
    }));
    expect(Object.keys(json.secrets.providers)).toEqual(['aws-secrets-manager', 'vault']);
    expect(json.secrets.providers.vault).toEqual({
      source: 'exec', command: '/usr/local/bin/vault-resolver', args: ['--profile', 'prod'], jsonOnly: true, passEnv: ['VAULT_ADDR'], trustedDirs: ['/usr/local/bin'],
    });
  });

  test('leaves the resolver out when enableSecretResolver is false', () => {
    const config = new OpenClawConfig({
      enableSecretResolver: false,
      gateway: { auth: GatewayAuth.token(SecretRef.fromEnv('OPENCLAW_GATEWAY_TOKEN')) },
    });
    expect(config.secretResolverProvider).toBeUndefined();
    expect(rendered(config).secrets.providers).toEqual({});
  });
});

describe('overrides', () => {
  test('addOverride sets raw settings not covered by the typed props', () => {
    const config = new OpenClawConfig();
    config.addOverride('session.dmScope', 'per-channel-peer');
    config.addOverride('gateway.http.endpoints.responses.enabled', false);
    config.addOverride('models.providers.amazon-bedrock.models', [{ id: 'x', name: 'x' }]);
    const json = rendered(config);
    expect(json.session).toEqual({ dmScope: 'per-channel-peer' });
    expect(json.gateway.http).toEqual({ endpoints: { responses: { enabled: false } } });
    expect(json.models.providers['amazon-bedrock'].models).toEqual([{ id: 'x', name: 'x' }]);
  });

  test('a backslash-escaped dot is a literal dot in a key', () => {
    const config = new OpenClawConfig();
    config.addOverride('plugins.entries.my\\.plugin.enabled', true);
    expect(rendered(config).plugins.entries['my.plugin']).toEqual({ enabled: true });
  });

  test('addDeletionOverride removes a setting', () => {
    const config = new OpenClawConfig();
    config.addDeletionOverride('gateway.auth.rateLimit');
    config.addDeletionOverride('does.not.exist');
    expect(rendered(config).gateway.auth.rateLimit).toBeUndefined();
  });

  test('the rendered key order does not depend on the order of overrides', () => {
    const a = new OpenClawConfig();
    a.addOverride('zeta.b', 1);
    a.addOverride('alpha.a', 2);
    const b = new OpenClawConfig();
    b.addOverride('alpha.a', 2);
    b.addOverride('zeta.b', 1);
    const s = stack();
    expect(s.resolve(a.renderJson(s))).toEqual(s.resolve(b.renderJson(s)));
  });

  test.each([
    ['as the last path key', 'gateway.controlUi.dangerouslyDisableDeviceAuth', true],
    ['inside an object value', 'gateway.controlUi', { dangerouslyDisableDeviceAuth: true }],
    ['deep inside an array value', 'agents.list', [{ nested: { DangerouslyDisableDeviceAuth: false } }]],
    ['at the root', 'gateway', { controlUi: { dangerouslyDisableDeviceAuth: true } }],
  ])('refuses the retired dangerouslyDisableDeviceAuth key %s', (_name, path, value) => {
    const config = new OpenClawConfig();
    expect(() => config.addOverride(path as string, value)).toThrow(/dangerouslyDisableDeviceAuth is retired/);
    expect(JSON.stringify(rendered(config))).not.toMatch(/dangerouslyDisableDeviceAuth/i);
  });

  test('refuses a plain string secret at gateway.auth.token', () => {
    const config = new OpenClawConfig();
    expect(() => config.addOverride('gateway.auth.token', 'hunter2-plaintext')).toThrow(
      "OpenClawConfig: gateway.auth.token must be a SecretRef object {source, provider, id} (never a secret value), got '<string>'");
  });

  test('refuses a plain string secret at gateway.auth.password set through a parent object', () => {
    const config = new OpenClawConfig();
    expect(() => config.addOverride('gateway.auth', { mode: 'password', password: 'hunter2' })).toThrow(/gateway\.auth\.password must be a SecretRef object/);
    expect(JSON.stringify(rendered(config))).not.toContain('hunter2');
  });

  test.each(['', 'a..b', 'gateway.__proto__.x', 'constructor'])('refuses the malformed override path %p', (path) => {
    expect(() => new OpenClawConfig().addOverride(path, 1)).toThrow(/addOverride path must be/);
  });

  test('does not mutate the object given to addOverride', () => {
    const value = { a: { b: 1 } };
    const config = new OpenClawConfig();
    config.addOverride('x', value);
    config.addOverride('x.a.c', 2);
    rendered(config);
    expect(value).toEqual({ a: { b: 1 } });
  });
});

describe('deriving an effective configuration (as the host construct does)', () => {
  test('withGateway replaces gateway settings and keeps the rest, including overrides', () => {
    const user = new OpenClawConfig({
      tools: { execMode: ExecMode.ASK },
      gateway: { port: 18800, authRateLimit: { maxAttempts: 3 } },
    });
    user.addOverride('session.dmScope', 'per-channel-peer');
    const effective = user.withGateway({
      bind: GatewayBind.LAN,
      auth: GatewayAuth.trustedProxy({ userHeader: 'x-amzn-oidc-identity' }),
      trustedProxies: ['10.0.0.0/24'],
      controlUi: { allowedOrigins: ['https://openclaw.example.com'] },
    });
    const json = rendered(effective);
    expect(effective.gatewayPort).toBe(18800);
    expect(json.gateway).toMatchObject({ bind: 'lan', port: 18800, trustedProxies: ['10.0.0.0/24'] });
    expect(json.gateway.auth).toMatchObject({ mode: 'trusted-proxy', rateLimit: { maxAttempts: 3 } });
    expect(json.tools.exec.mode).toBe('ask');
    expect(json.session.dmScope).toBe('per-channel-peer');
    // the original is unchanged
    expect(rendered(user).gateway.bind).toBe('loopback');
  });

  test('withGateway ignores undefined fields instead of clearing settings', () => {
    const user = new OpenClawConfig({ gateway: { port: 18800 } });
    expect(user.withGateway({ port: undefined }).gatewayPort).toBe(18800);
  });

  test('withGateway validates the result', () => {
    expect(() => new OpenClawConfig().withGateway({ bind: GatewayBind.LAN })).toThrow(/gateway\.controlUi\.allowedOrigins/);
  });

  test('props can be spread into a new configuration', () => {
    const user = new OpenClawConfig({ tools: { profile: ToolProfile.MINIMAL } });
    const copy = new OpenClawConfig({ ...user.props, gateway: { ...user.props.gateway, port: 19000 } });
    expect(rendered(copy).tools.profile).toBe('minimal');
    expect(copy.gatewayPort).toBe(19000);
  });
});
