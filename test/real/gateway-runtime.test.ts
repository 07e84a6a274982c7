/**
 * The real OpenClaw gateway running what the library renders for a host (test/real/support/gateway.ts says what is
 * substituted): its health endpoints, who it admits, its failed-auth lockout, its browser-origin check, its
 * trusted-proxy mode, the hardened defaults of docs/hardened-defaults.md, and the backups of its state.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { HostIngress, SecureOpenClawHost } from '../../src';
import { RealGateway } from './support/gateway';
import { installTool, removeDir, tempDir, waitFor } from './support/servers';

/**
 * The host name of the registry the npm the gateway spawns uses: found on the gateway's PATH, with a home that has
 * no .npmrc (as the gateway's), so npm's default.
 */
function npmRegistryHost(): string {
  const [nodeDir] = installTool('openclaw', { OPENCLAW_VERSION: SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION });
  const home = tempDir('npm-home');
  try {
    const registry = execFileSync('npm', ['config', 'get', 'registry'], {
      env: { HOME: home, PATH: `${path.join(nodeDir, 'bin')}:/usr/local/bin:/usr/bin:/bin` }, encoding: 'utf8',
    });
    return new URL(registry.trim()).hostname;
  } finally {
    removeDir(home);
  }
}

const START_MS = 300_000;
const STOP_MS = 60_000;
const TEST_MS = 120_000;

/** A connect refused by the gateway's auth: the `details.code` it names. */
function refusal(r: { ok: boolean; error?: any; upgradeStatus?: number; closeCode?: number }): string {
  expect(r.ok).toBe(false);
  return r.error?.details?.code ?? r.error?.code ?? `upgrade ${r.upgradeStatus} close ${r.closeCode}`;
}

describe('a private host (the default shape): token auth with the token in Secrets Manager', () => {
  let gw: RealGateway;

  let startupWhenLive: { status: number; body: string };

  beforeAll(async () => {
    gw = await RealGateway.start({ name: 'private' });
    startupWhenLive = await gw.request('/startupz');
    await waitFor('the gateway to finish starting (/startupz)', 240_000, async () => (await gw.request('/startupz')).status === 200, 1000);
  }, START_MS);

  afterAll(async () => {
    await gw?.stop();
  }, STOP_MS);

  test('the gateway is alive on /healthz as soon as it listens; /startupz and /readyz answer 200 once it has started', async () => {
    // While its start-up sidecars still run, /startupz says 503 (docs/gateway/health.md); a load balancer must not
    // send traffic yet, which is why the host's health check is /healthz for liveness only.
    expect([200, 503]).toContain(startupWhenLive.status);
    if (startupWhenLive.status === 503) expect(JSON.parse(startupWhenLive.body).ok).toBe(false);
    const health = await gw.request('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ ok: true, status: 'live' });
    const startup = await gw.request('/startupz');
    expect(startup.status).toBe(200);
    expect(JSON.parse(startup.body)).toMatchObject({ ok: true, status: 'started' });
    const ready = await gw.request('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, failing: [] });
  }, TEST_MS);

  test('the config file holds only a reference: the token itself comes from Secrets Manager through the shipped resolver', () => {
    const text = fs.readFileSync(gw.configPath, 'utf8');
    expect(text).not.toContain(gw.token);
    expect(gw.config.gateway.auth.token).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id: gw.secretArn });
    expect((fs.statSync(gw.resolverPath).mode % 0o1000).toString(8)).toBe('500');
  });

  test('the configuration the gateway runs, hardened defaults included, passes openclaw config validate', async () => {
    const r = await gw.openclaw(['config', 'validate', '--json']);
    expect({ code: r.code, stderr: r.stderr.slice(-1000) }).toEqual({ code: 0, stderr: expect.anything() });
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, warnings: [] });
    expect(gw.config.gateway.terminal).toEqual({ enabled: false });
    expect(gw.config.update).toEqual({ checkOnStart: false });
  }, TEST_MS);

  test('a client presenting the token the resolver fetched is admitted', async () => {
    const c = await gw.connect({ token: gw.token });
    try {
      expect(c.error).toBeUndefined();
      expect(c.ok).toBe(true);
      expect(c.hello.auth).toMatchObject({ method: 'token', role: 'operator', scopes: ['operator.read'] });
      const health = await c.call('health');
      expect(health.ok).toBe(true);
    } finally {
      c.close();
    }
  }, TEST_MS);

  test('a wrong token is refused, and so is no token', async () => {
    const wrong = await gw.connect({ token: `${gw.token}x` });
    wrong.close();
    expect(refusal(wrong)).toBe('AUTH_TOKEN_MISMATCH');
    const none = await gw.connect({});
    none.close();
    expect(refusal(none)).toMatch(/^AUTH_/);
  }, TEST_MS);

  test('a browser page from a foreign origin is refused even with the token; the same-host origin is admitted', async () => {
    const foreign = await gw.connect({ token: gw.token, clientId: 'webchat-ui', clientMode: 'webchat', headers: { Origin: 'https://attacker.example' } });
    foreign.close();
    expect(refusal(foreign)).toBe('CONTROL_UI_ORIGIN_NOT_ALLOWED');
    // An operator's browser reaches a private host through an SSM port forward: http://localhost:<port>.
    const local = await gw.connect({ token: gw.token, clientId: 'webchat-ui', clientMode: 'webchat', headers: { Origin: `http://localhost:${gw.port}` } });
    local.close();
    expect(local.error).toBeUndefined();
    expect(local.ok).toBe(true);
  }, TEST_MS);

  test('an admin-scope client gets no operator terminal (gateway.terminal.enabled is false)', async () => {
    const admin = await gw.connect({ token: gw.token, scopes: ['operator.admin'] });
    try {
      expect(admin.ok).toBe(true);
      expect(admin.hello.auth.scopes).toEqual(['operator.admin']);
      const open = await admin.call('terminal.open', { cols: 80, rows: 24 });
      expect(open.ok).toBe(false);
      expect(open.payload?.shell).toBeUndefined();
    } finally {
      admin.close();
    }
  }, TEST_MS);

  test('the gateway listens on its one port on loopback only: no second port, no mDNS socket', () => {
    expect(gw.listeningSockets()).toEqual([`tcp 127.0.0.1:${gw.port}`, `tcp [::1]:${gw.port}`].sort());
  });

  test('the gateway makes no update check and downloads no model catalog (update.checkOnStart, models.catalogRefresh)', async () => {
    // Both run in the background once the gateway has started; give them time to try before looking.
    await new Promise((r) => setTimeout(r, 15_000));
    // clawhub.ai is a known finding, not a default: openclaw 2026.9.6 no longer bundles the Amazon Bedrock
    // provider, and its start-up migration tries to install it from ClawHub because the host does not
    // (docs/hardened-defaults.md, "Found while proving"). Everything else the gateway tried is a failure here.
    expect(gw.egress.hosts().filter((h) => h !== 'clawhub.ai')).toEqual([]);
    // The npm the gateway spawns for that plugin install tries the npm registry and nothing else.
    const registry = npmRegistryHost();
    expect(gw.npmEgress.hosts().filter((h) => h !== registry)).toEqual([]);
  }, TEST_MS);

  test('the OpenAI-compatible HTTP endpoints stay off, even for a client with the token', async () => {
    for (const endpoint of ['/v1/chat/completions', '/v1/responses']) {
      const r = await gw.request(endpoint, {
        method: 'POST',
        headers: { 'Authorization': `Bearer ${gw.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'hi' }], input: 'hi' }),
      });
      expect({ endpoint, status: r.status }).toEqual({ endpoint, status: 404 });
    }
  }, TEST_MS);

  test('openclaw backup create --verify and backup verify read the state directory the host backs up', async () => {
    await waitFor('the gateway to create its SQLite state', 60_000, () => fs.existsSync(path.join(gw.stateDir, 'state', 'openclaw.sqlite')));
    const out = path.join(gw.dir, 'backups');
    fs.mkdirSync(out);
    const created = await gw.openclaw(['backup', 'create', '--verify', '--json', '--output', out]);
    expect({ code: created.code, stderr: created.stderr.slice(-2000) }).toEqual({ code: 0, stderr: expect.anything() });
    const archives = fs.readdirSync(out).filter((f) => f.endsWith('.tar.gz'));
    expect(archives).toHaveLength(1);
    const verified = await gw.openclaw(['backup', 'verify', '--json', path.join(out, archives[0])]);
    expect(verified.code).toBe(0);
    // The archive holds the state directory the host's daily backup copies, and OpenClaw's own check passed.
    expect(JSON.parse(created.stdout)).toMatchObject({ verified: true, assets: expect.arrayContaining([expect.objectContaining({ kind: 'state', sourcePath: gw.stateDir })]) });
  }, 300_000);

  test('repeated failed logins from a browser lock it out for the configured time (gateway.auth.rateLimit)', async () => {
    const origin = { Origin: `http://127.0.0.1:${gw.port}` };
    const browser = { clientId: 'webchat-ui', clientMode: 'webchat', headers: origin };
    const limit = gw.config.gateway.auth.rateLimit;
    for (let i = 0; i < limit.maxAttempts; i++) {
      const bad = await gw.connect({ ...browser, token: `wrong-${i}` });
      bad.close();
      expect(refusal(bad)).toBe('AUTH_TOKEN_MISMATCH');
    }
    const locked = await gw.connect({ ...browser, token: gw.token });
    locked.close();
    expect(refusal(locked)).toBe('AUTH_RATE_LIMITED');
    expect(locked.error.retryAfterMs).toBeGreaterThan(limit.lockoutMs - 60_000);
    expect(locked.error.retryAfterMs).toBeLessThanOrEqual(limit.lockoutMs);
    // The lockout is the browser origin's: the operator's own command-line client still gets in.
    const cli = await gw.connect({ token: gw.token });
    cli.close();
    expect(cli.ok).toBe(true);
  }, TEST_MS);
});

describe('a host behind the load balancer with Cognito: trusted-proxy auth on the identity the load balancer sets', () => {
  let gw: RealGateway;
  // The load balancer lives in the public subnets (10.0.0.0/24, 10.0.1.0/24 → 127.0.0.x, 127.0.1.x); another
  // instance of the VPC (a private subnet, 10.0.2.0/24 → 127.0.2.x) is not a proxy and must not be trusted.
  const LOAD_BALANCER = '127.0.0.10';
  const OTHER_INSTANCE = '127.0.2.10';
  const ORIGIN = 'https://openclaw.example.com';
  /** What the ALB's authenticate-cognito action adds to a request it forwards. */
  const proxied = (extra: Record<string, string> = {}) => ({
    'x-amzn-oidc-identity': '8f0c1b2a-0000-4000-8000-000000000001',
    'x-amzn-oidc-data': 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https',
    'Origin': ORIGIN,
    ...extra,
  });
  const browser = { clientId: 'openclaw-control-ui', clientMode: 'webchat', device: false };

  beforeAll(async () => {
    gw = await RealGateway.start({
      name: 'cognito',
      host: (stack) => ({
        ingress: HostIngress.loadBalancerWithCognito({
          domainName: 'openclaw.example.com',
          hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0000000000000000000', zoneName: 'example.com' }),
          cognitoDomainPrefix: 'openclaw-real-test',
        }),
      }),
    });
    await waitFor('the gateway to finish starting (/startupz)', 240_000, async () => (await gw.request('/startupz')).status === 200, 1000);
  }, START_MS);

  afterAll(async () => {
    await gw?.stop();
  }, STOP_MS);

  test('the rendered shape is trusted-proxy on x-amzn-oidc-identity, TLS on the gateway, only the load balancer subnets trusted', () => {
    expect(gw.config.gateway.auth.mode).toBe('trusted-proxy');
    expect(gw.config.gateway.auth.trustedProxy).toMatchObject({ userHeader: 'x-amzn-oidc-identity', requiredHeaders: ['x-amzn-oidc-data'] });
    // The load balancer subnets 10.0.0.0/24 and 10.0.1.0/24, in the tests' 127/8 picture of the VPC.
    expect(gw.config.gateway.trustedProxies).toEqual(['127.0.0.0/24', '127.0.1.0/24']);
    expect(gw.tls).toBe(true);
    expect(gw.baseUrl.startsWith('https://')).toBe(true);
  });

  test('a browser forwarded by the load balancer with the Cognito identity is admitted as that user', async () => {
    const c = await gw.connect({ ...browser, localAddress: LOAD_BALANCER, headers: proxied() });
    c.close();
    expect(c.error).toBeUndefined();
    expect(c.ok).toBe(true);
    expect(c.hello.auth).toMatchObject({ method: 'trusted-proxy', role: 'operator' });
    await waitFor('the gateway to log the connected user', 10_000, () => gw.log().includes('user=8f0c1b2a-0000-4000-8000-000000000001'));
  }, TEST_MS);

  test('the same identity headers from an address outside the load balancer subnets are refused', async () => {
    const c = await gw.connect({ ...browser, localAddress: OTHER_INSTANCE, headers: proxied() });
    c.close();
    expect(c.ok).toBe(false);
    expect(c.upgradeStatus).toBe(403);
    const page = await gw.request('/', { localAddress: OTHER_INSTANCE, headers: proxied() });
    expect(page.status).toBe(403);
  }, TEST_MS);

  test('a request from the load balancer without the signed Cognito data header is refused', async () => {
    const headers: Record<string, string> = proxied();
    delete headers['x-amzn-oidc-data'];
    const c = await gw.connect({ ...browser, localAddress: LOAD_BALANCER, headers });
    c.close();
    expect(c.ok).toBe(false);
  }, TEST_MS);

  test('a browser page from a foreign origin is refused even with a valid identity; the site origin is admitted', async () => {
    const foreign = await gw.connect({ ...browser, localAddress: LOAD_BALANCER, headers: proxied({ Origin: 'https://attacker.example' }) });
    foreign.close();
    expect(refusal(foreign)).toBe('CONTROL_UI_ORIGIN_NOT_ALLOWED');
    const site = await gw.connect({ ...browser, localAddress: LOAD_BALANCER, headers: proxied() });
    site.close();
    expect(site.ok).toBe(true);
  }, TEST_MS);

  test('a new device of a signed-in user waits for approval (deviceAutoApprove stays off)', async () => {
    const c = await gw.connect({ clientId: 'webchat-ui', clientMode: 'webchat', device: true, localAddress: LOAD_BALANCER, headers: proxied() });
    c.close();
    expect(refusal(c)).toBe('PAIRING_REQUIRED');
  }, TEST_MS);
});
