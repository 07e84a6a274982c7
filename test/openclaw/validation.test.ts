import { Lazy, Token } from 'aws-cdk-lib';
import {
  GatewayAuth, GatewayBind, GatewayOptions, OpenClawConfig, OpenClawSecretResolver, SecretRef,
} from '../../src/openclaw';

/** A non-loopback gateway that is otherwise valid, to vary one setting at a time. */
const LAN: GatewayOptions = { bind: GatewayBind.LAN, controlUi: { allowedOrigins: ['https://openclaw.example.com'] } };

const proxyAuth = () => GatewayAuth.trustedProxy({ userHeader: 'x-amzn-oidc-identity' });

describe('gateway.port', () => {
  test.each([0, 65536, -1, 1.5])('port %p fails naming gateway.port and the allowed range', (port) => {
    expect(() => new OpenClawConfig({ gateway: { port } })).toThrow(
      `OpenClawConfig: gateway.port must be an integer between 1 and 65535, got '${port}'`);
  });

  test.each([1, 443, 65535])('port %p is accepted', (port) => {
    expect(new OpenClawConfig({ gateway: { port } }).gatewayPort).toBe(port);
  });

  test('a token port is not validated', () => {
    const port = Token.asNumber(Lazy.number({ produce: () => 99999 }));
    expect(() => new OpenClawConfig({ gateway: { port } })).not.toThrow();
  });
});

describe('gateway.operatorTerminal', () => {
  test.each(['yes', 'true', 1, 0, null])('%p (not a boolean, as plain JavaScript or Python could pass) fails naming gateway.operatorTerminal', (value) => {
    expect(() => new OpenClawConfig({ gateway: { operatorTerminal: value as any } })).toThrow(
      'OpenClawConfig: gateway.operatorTerminal must be true or false, got');
  });
});

describe('gateway.bind and gateway.customBindHost', () => {
  test.each(['::1', 'localhost', '10.0.0', '256.1.1.1', ''])('a custom bind host %p that is not IPv4 fails naming gateway.customBindHost', (host) => {
    expect(() => GatewayBind.custom(host)).toThrow(`OpenClawConfig: gateway.customBindHost must be an IPv4 address, got '${host}'`);
  });

  test('a custom bind on 127.0.0.1 counts as loopback', () => {
    expect(GatewayBind.custom('127.0.0.1').isLoopback).toBe(true);
    expect(GatewayBind.custom('0.0.0.0').isLoopback).toBe(false);
  });
});

describe('gateway.auth', () => {
  test.each([
    ['lan', GatewayBind.LAN],
    ['tailnet', GatewayBind.TAILNET],
    ['auto', GatewayBind.AUTO],
    ['custom', GatewayBind.custom('0.0.0.0')],
  ])('no auth with a %s bind fails as insecure, naming gateway.auth', (mode, bind) => {
    expect(() => new OpenClawConfig({ gateway: { ...LAN, bind, auth: GatewayAuth.none() } })).toThrow(
      `OpenClawConfig: gateway.auth must be token, password or trusted-proxy auth when gateway.bind is '${mode}' (no auth is only allowed on loopback), got 'none'`);
  });

  test('no auth on loopback is accepted', () => {
    expect(new OpenClawConfig({ gateway: { auth: GatewayAuth.none() } }).toJson().gateway.auth.mode).toBe('none');
  });

  test('token auth on a lan bind is accepted (the origins requirement still applies)', () => {
    expect(() => new OpenClawConfig({ gateway: { ...LAN } })).not.toThrow();
  });

  test('a token SecretRef naming an undeclared exec provider fails naming gateway.auth.token.provider', () => {
    expect(() => new OpenClawConfig({ gateway: { auth: GatewayAuth.token(SecretRef.fromExec('vault', 'gw/token')) } })).toThrow(
      "OpenClawConfig: gateway.auth.token.provider must be one of the declared exec secret providers (aws-secrets-manager), got 'vault'");
  });

  test('a password SecretRef naming an undeclared exec provider fails naming gateway.auth.password.provider', () => {
    expect(() => new OpenClawConfig({
      enableSecretResolver: false,
      gateway: { auth: GatewayAuth.password(OpenClawSecretResolver.secretRef('openclaw/pw')) },
    })).toThrow("OpenClawConfig: gateway.auth.password.provider must be one of the declared exec secret providers (none), got 'aws-secrets-manager'");
  });

  test('a token SecretRef naming a declared extra provider is accepted', () => {
    expect(() => new OpenClawConfig({
      gateway: { auth: GatewayAuth.token(SecretRef.fromExec('vault', 'gw/token')) },
      secretProviders: [{ name: 'vault', command: '/usr/local/bin/vault-resolver' }],
    })).not.toThrow();
  });
});

describe('trusted-proxy auth', () => {
  test('without trustedProxies fails naming gateway.trustedProxies', () => {
    expect(() => new OpenClawConfig({ gateway: { ...LAN, auth: proxyAuth() } })).toThrow(
      "OpenClawConfig: gateway.trustedProxies must be a non-empty list of proxy addresses or CIDR blocks when gateway.auth is trusted-proxy, got 'undefined'");
  });

  test('with an empty trustedProxies list fails naming gateway.trustedProxies', () => {
    expect(() => new OpenClawConfig({ gateway: { ...LAN, auth: proxyAuth(), trustedProxies: [] } })).toThrow(/gateway\.trustedProxies must be a non-empty list.*got '\[\]'/);
  });

  test.each(['', 'x forwarded user', 'x-user:'])('an invalid userHeader %p fails naming gateway.auth.trustedProxy.userHeader', (userHeader) => {
    expect(() => GatewayAuth.trustedProxy({ userHeader })).toThrow(
      `OpenClawConfig: gateway.auth.trustedProxy.userHeader must be a non-empty HTTP header name, got '${userHeader}'`);
  });

  test('on a loopback bind without allowLoopback fails naming gateway.bind', () => {
    expect(() => new OpenClawConfig({ gateway: { auth: proxyAuth(), trustedProxies: ['127.0.0.1'] } })).toThrow(
      "OpenClawConfig: gateway.bind must be a non-loopback bind (lan, tailnet, custom, auto) for trusted-proxy auth, unless gateway.auth.trustedProxy.allowLoopback is true, got 'loopback'");
  });

  test('on a loopback bind with allowLoopback is accepted', () => {
    expect(() => new OpenClawConfig({
      gateway: { auth: GatewayAuth.trustedProxy({ userHeader: 'x-forwarded-user', allowLoopback: true }), trustedProxies: ['127.0.0.1'] },
    })).not.toThrow();
  });

  test('a token trustedProxies list is accepted without validation', () => {
    const trustedProxies = Token.asList(Lazy.list({ produce: () => [] }));
    expect(() => new OpenClawConfig({ gateway: { ...LAN, auth: proxyAuth(), trustedProxies } })).not.toThrow();
  });
});

describe('gateway.trustedProxies entries', () => {
  test.each(['10.0.0.0/33', 'not-an-ip', '10.0.0.0/', '10.0.0.256', 'fd00::/129', 'fe80::1%eth0', '10.0.0.0/8 '])(
    '%p fails naming the entry and the allowed forms', (cidr) => {
      expect(() => new OpenClawConfig({ gateway: { ...LAN, auth: proxyAuth(), trustedProxies: ['10.1.0.0/16', cidr] } })).toThrow(
        `OpenClawConfig: gateway.trustedProxies[1] must be an IPv4/IPv6 address or CIDR block such as 10.0.0.0/16, got '${cidr}'`);
    });

  test.each(['10.0.0.0/8', '10.0.0.1', '0.0.0.0/0', 'fd00::/8', '2001:db8::1', '::ffff:10.0.0.1', '::/0'])('%p is accepted', (cidr) => {
    expect(() => new OpenClawConfig({ gateway: { ...LAN, auth: proxyAuth(), trustedProxies: [cidr] } })).not.toThrow();
  });

  test('a token entry is not validated', () => {
    const cidr = Lazy.string({ produce: () => 'nonsense' });
    expect(() => new OpenClawConfig({ gateway: { ...LAN, auth: proxyAuth(), trustedProxies: [cidr] } })).not.toThrow();
  });
});

describe('gateway.controlUi', () => {
  test.each([
    'http://openclaw.example.com',
    'https://openclaw.example.com/',
    'https://openclaw.example.com/path',
    'https://user@openclaw.example.com',
    'openclaw.example.com',
    '*',
    'https://*.example.com',
    'https://example.com:99999',
  ])('the allowed origin %p fails naming the entry', (origin) => {
    expect(() => new OpenClawConfig({ gateway: { controlUi: { allowedOrigins: [origin] } } })).toThrow(
      `OpenClawConfig: gateway.controlUi.allowedOrigins[0] must be an https:// origin without path (http:// only for localhost, 127.0.0.1 or [::1]), got '${origin}'`);
  });

  test.each([
    'https://openclaw.example.com',
    'https://openclaw.example.com:8443',
    'https://10.0.0.5',
    'http://localhost:18789',
    'http://127.0.0.1:18789',
    'http://[::1]:18789',
  ])('the allowed origin %p is accepted', (origin) => {
    expect(() => new OpenClawConfig({ gateway: { controlUi: { allowedOrigins: [origin] } } })).not.toThrow();
  });

  test('a non-loopback bind with the Control UI enabled and no allowedOrigins fails naming gateway.controlUi.allowedOrigins', () => {
    expect(() => new OpenClawConfig({ gateway: { bind: GatewayBind.LAN } })).toThrow(
      "OpenClawConfig: gateway.controlUi.allowedOrigins must be a non-empty list of https:// browser origins when gateway.bind is 'lan' and the Control UI is enabled (or set gateway.controlUi.enabled to false), got 'undefined'");
  });

  test('a non-loopback bind with the Control UI disabled needs no allowedOrigins', () => {
    expect(() => new OpenClawConfig({ gateway: { bind: GatewayBind.LAN, controlUi: { enabled: false } } })).not.toThrow();
  });

  test.each(['openclaw', '/openclaw/', '/open claw', '/a/../b', '//x'])('the basePath %p fails naming gateway.controlUi.basePath', (basePath) => {
    expect(() => new OpenClawConfig({ gateway: { controlUi: { basePath } } })).toThrow(
      `OpenClawConfig: gateway.controlUi.basePath must be a path starting with '/' made of letters, digits and . _ ~ - segments (no . or ..), without a trailing '/', got '${basePath}'`);
  });

  test.each(['/openclaw', '/a/b-c/d_e'])('the basePath %p is accepted', (basePath) => {
    expect(() => new OpenClawConfig({ gateway: { controlUi: { basePath } } })).not.toThrow();
  });
});

describe('gateway.authRateLimit', () => {
  test.each([
    ['maxAttempts', 0, 'an integer between 1 and 10000'],
    ['windowMs', 10, 'an integer between 1000 and 86400000'],
    ['lockoutMs', 1.5, 'an integer between 1000 and 86400000'],
  ])('%s = %p fails naming it', (key, value, allowed) => {
    expect(() => new OpenClawConfig({ gateway: { authRateLimit: { [key]: value } } })).toThrow(
      `OpenClawConfig: gateway.authRateLimit.${key} must be ${allowed}, got '${value}'`);
  });
});

describe('tools', () => {
  test('allow together with alsoAllow fails naming tools.alsoAllow', () => {
    expect(() => new OpenClawConfig({ tools: { allow: ['read'], alsoAllow: ['web_fetch'] } })).toThrow(/^OpenClawConfig: tools\.alsoAllow must be unset when tools\.allow is set/);
  });

  test.each([
    ['allow', 'group:'],
    ['deny', 'group:FS'],
    ['alsoAllow', 'rm -rf'],
    ['deny', ''],
  ])('tools.%s entry %p fails naming it', (key, entry) => {
    expect(() => new OpenClawConfig({ tools: { [key]: [entry] } })).toThrow(
      `OpenClawConfig: tools.${key}[0] must be a tool name, a '*' pattern or a group such as group:fs, got '${entry}'`);
  });

  test.each(['group:fs', 'group:runtime', 'exec', 'web_*', 'bundle-mcp', '*'])('the tool entry %p is accepted', (entry) => {
    expect(() => new OpenClawConfig({ tools: { deny: [entry] } })).not.toThrow();
  });
});

describe('bedrock', () => {
  test.each(['', ' ', 'anthropic claude'])('the model id %p fails naming bedrock.primaryModel.modelId', (modelId) => {
    expect(() => new OpenClawConfig({ bedrock: { primaryModel: { modelId } } })).toThrow(
      `OpenClawConfig: bedrock.primaryModel.modelId must be a non-empty Bedrock model or inference profile id without spaces, got '${modelId}'`);
  });

  test('an empty additional model id fails naming its index', () => {
    expect(() => new OpenClawConfig({ bedrock: { additionalModels: [{ modelId: 'amazon.nova-lite-v1:0' }, { modelId: '' }] } })).toThrow(/bedrock\.additionalModels\[1\]\.modelId/);
  });

  test('a duplicate model id fails', () => {
    expect(() => new OpenClawConfig({ bedrock: { additionalModels: [{ modelId: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0' }] } })).toThrow(
      "OpenClawConfig: bedrock.additionalModels[0].modelId must be unique among the Bedrock models, got 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'");
  });

  test('a non-positive context window fails naming it', () => {
    expect(() => new OpenClawConfig({ bedrock: { primaryModel: { modelId: 'm', contextWindow: 0 } } })).toThrow(/bedrock\.primaryModel\.contextWindow must be an integer between 1 and/);
  });

  test('a non-positive maxTokens fails naming it', () => {
    expect(() => new OpenClawConfig({ bedrock: { primaryModel: { modelId: 'm', maxTokens: -5 } } })).toThrow(/bedrock\.primaryModel\.maxTokens must be an integer between 1 and/);
  });

  test('a region that is not a region name fails naming bedrock.region', () => {
    expect(() => new OpenClawConfig({ bedrock: { region: 'Frankfurt' } })).toThrow(
      "OpenClawConfig: bedrock.region must be an AWS region name such as us-east-1, got 'Frankfurt'");
  });
});

describe('exec secret providers', () => {
  const provider = { name: 'vault', command: '/usr/local/bin/vault-resolver' };

  test('a relative command fails naming secretProviders[0].command', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, command: 'vault-resolver' }] })).toThrow(
      "OpenClawConfig: secretProviders[0].command must be an absolute path starting with '/' without '.' or '..' segments, got 'vault-resolver'");
  });

  test('a command with .. segments fails', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, command: '/usr/../tmp/x' }] })).toThrow(/secretProviders\[0\]\.command/);
  });

  test.each([0, 120001, 2.5])('timeoutMs %p fails naming secretProviders[0].timeoutMs', (timeoutMs) => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, timeoutMs }] })).toThrow(
      `OpenClawConfig: secretProviders[0].timeoutMs must be an integer between 1 and 120000, got '${timeoutMs}'`);
  });

  test('noOutputTimeoutMs out of range fails naming it', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, noOutputTimeoutMs: 200000 }] })).toThrow(/secretProviders\[0\]\.noOutputTimeoutMs/);
  });

  test('maxOutputBytes above 20 MiB fails naming it', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, maxOutputBytes: 21 * 1024 * 1024 }] })).toThrow(/secretProviders\[0\]\.maxOutputBytes/);
  });

  test.each(['Vault', '1vault', 'vault.prod', ''])('the provider name %p fails naming secretProviders[0].name', (name) => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, name }] })).toThrow(
      `OpenClawConfig: secretProviders[0].name must be a provider alias matching ^[a-z][a-z0-9_-]{0,63}$, got '${name}'`);
  });

  test('a lowercase passEnv name fails naming it', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, passEnv: ['PATH', 'vault_addr'] }] })).toThrow(
      "OpenClawConfig: secretProviders[0].passEnv[1] must be an environment variable name matching ^[A-Z][A-Z0-9_]{0,127}$, got 'vault_addr'");
  });

  test('more than 128 args fails naming args', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, args: new Array(129).fill('x') }] })).toThrow(/secretProviders\[0\]\.args must be a list of at most 128 entries/);
  });

  test('an argument longer than 1024 characters fails naming it', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, args: ['x'.repeat(1025)] }] })).toThrow(/secretProviders\[0\]\.args\[0\] must be at most 1024 characters/);
  });

  test('a relative trusted dir fails naming it', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, trustedDirs: ['bin'] }] })).toThrow(/secretProviders\[0\]\.trustedDirs\[0\]/);
  });

  test('a command outside its trustedDirs fails naming the command', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, trustedDirs: ['/opt/resolvers'] }] })).toThrow(
      "OpenClawConfig: secretProviders[0].command must be inside one of trustedDirs (/opt/resolvers), got '/usr/local/bin/vault-resolver'");
  });

  test('a provider named like the resolver fails as a duplicate', () => {
    expect(() => new OpenClawConfig({ secretProviders: [{ ...provider, name: 'aws-secrets-manager' }] })).toThrow(
      "OpenClawConfig: secretProviders[].name must be unique (the secret resolver uses its providerName too), got 'aws-secrets-manager'");
  });
});

describe('SecretRef', () => {
  test.each(['openclaw_token', '1TOKEN', 'TOKEN-X', ''])('an env ref with the variable name %p fails naming secretRef.id', (name) => {
    expect(() => SecretRef.fromEnv(name)).toThrow(/^OpenClawConfig: secretRef\.id must be/);
  });

  test.each(['-rf', 'a b', '/abs', 'a/../b', 'x'.repeat(257), 'a;b'])('an exec ref with the id %p fails naming secretRef.id', (id) => {
    expect(() => SecretRef.fromExec('aws-secrets-manager', id)).toThrow(/^OpenClawConfig: secretRef\.id must be/);
  });

  test.each(['arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw/gateway-token-AbCdEf', 'openclaw/gateway-token', 'openclaw/creds#password'])(
    'an exec ref with the id %p is accepted', (id) => {
      expect(SecretRef.fromExec('aws-secrets-manager', id).toJson()).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id });
    });

  test('a file ref must use an absolute JSON pointer or value', () => {
    expect(() => SecretRef.fromFile('filemain', 'gateway/token')).toThrow(/secretRef\.id must be an absolute JSON pointer/);
    expect(SecretRef.fromFile('filemain', '/gateway/token').source).toBe('file');
    expect(SecretRef.fromFile('single', 'value').id).toBe('value');
  });

  test.each(['Vault', 'x.y', ''])('the provider alias %p fails naming secretRef.provider', (p) => {
    expect(() => SecretRef.fromExec(p, 'openclaw/x')).toThrow(`OpenClawConfig: secretRef.provider must be a provider alias matching ^[a-z][a-z0-9_-]{0,63}$, got '${p}'`);
  });
});
