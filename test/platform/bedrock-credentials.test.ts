import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { samplePlatform, sampleTenant } from '../../oracles/lib/tenant-sample';
import { AWS_CONFIG_KEY, AWS_CONFIG_PATH, bedrockAwsConfig, renderTenant, tenantConfig } from '../../src/platform/tenant-manifests';
import { NodeSha256 } from '../util';

// The gateway's Bedrock credentials, resolved by the real AWS SDK for JavaScript v3 default chain (as OpenClaw's
// Bedrock client resolves them) from the config file the renderer puts in the tenant's ConfigMap, against local fakes
// of the EKS Pod Identity agent and of STS.
//
// @aws-sdk/credential-provider-node is the default credential chain of every SDK v3 client.

const NAMESPACE = 'openclaw-acme';
const BEDROCK_ROLE_ARN = samplePlatform().bedrockRoleArn;
const REGION = 'us-east-1';
// What the Pod Identity agent hands the pod: the tenant role's session.
const POD_CREDS = { AccessKeyId: 'ASIAPODIDENTITYTENANT', SecretAccessKey: 'pod/identity/SECRET/key', Token: 'pod-identity-session-token', Expiration: '2099-01-01T00:00:00Z' };
// What STS hands back for the Bedrock role.
const BEDROCK_CREDS = { AccessKeyId: 'ASIABEDROCKROLEACME', SecretAccessKey: 'bedrock/role/SECRET/key', SessionToken: 'bedrock-role-session-token', Expiration: '2099-01-01T01:00:00Z' };
const AGENT_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.pod-identity-token.sig';

// Every variable the SDK's chain or endpoint resolution reads that the test sets or must keep unset.
const ENV_KEYS = [
  'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'AWS_EC2_METADATA_DISABLED', 'AWS_STS_REGIONAL_ENDPOINTS',
];

interface Recorded { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

async function listen(handle: (req: Recorded, res: http.ServerResponse) => void) {
  const calls: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      calls.push(rec);
      handle(rec, res);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, calls, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const assumeRoleXml = (c: typeof BEDROCK_CREDS, roleArn: string, session: string) => `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLEBEDROCK:${session}</AssumedRoleId>
      <Arn>${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${c.AccessKeyId}</AccessKeyId>
      <SecretAccessKey>${c.SecretAccessKey}</SecretAccessKey>
      <SessionToken>${c.SessionToken}</SessionToken>
      <Expiration>${c.Expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;

const accessDeniedXml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error>
  <RequestId>11111111-2222-3333-4444-666666666666</RequestId>
</ErrorResponse>`;

let agent: Awaited<ReturnType<typeof listen>>;
let sts: Awaited<ReturnType<typeof listen>>;
let bedrockStandIn: Awaited<ReturnType<typeof listen>>;
let stsDenies = false;
let root: string;
let savedEnv: Record<string, string | undefined>;

beforeAll(async () => {
  agent = await listen((req, res) => {
    if (req.method !== 'GET' || req.url !== '/v1/credentials' || req.headers.authorization !== AGENT_TOKEN) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"Code":"Unauthorized","Message":"bad token"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(POD_CREDS));
  });
  sts = await listen((req, res) => {
    if (stsDenies) {
      res.writeHead(403, { 'content-type': 'text/xml' }).end(accessDeniedXml);
      return;
    }
    const form = new URLSearchParams(req.body);
    res.writeHead(200, { 'content-type': 'text/xml' }).end(assumeRoleXml(BEDROCK_CREDS, form.get('RoleArn') ?? '', form.get('RoleSessionName') ?? ''));
  });
  // Any SDK client built without credentials, as OpenClaw builds its Bedrock client (no Bedrock client is installed
  // here; Secrets Manager's JSON API stands in).
  bedrockStandIn = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ Name: 'x', SecretString: 'y' }));
  });
});

afterAll(async () => {
  for (const s of [agent, sts, bedrockStandIn]) {
    s.server.closeAllConnections();
    await new Promise((done) => s.server.close(done));
  }
});

beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  agent.calls.length = 0;
  sts.calls.length = 0;
  bedrockStandIn.calls.length = 0;
  stsDenies = false;

  // The pod as the renderer and Pod Identity set it up.
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-bedrock-creds-'));
  const rendered = renderTenant(sampleTenant('acme'), samplePlatform());
  const configMap = rendered.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'openclaw-config');
  const gateway = rendered.objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0];
  const podEnv = Object.fromEntries(gateway.env.map((e: any) => [e.name, e.value]));
  expect(podEnv.AWS_CONFIG_FILE).toBe(AWS_CONFIG_PATH);
  expect(podEnv.AWS_PROFILE).toBe('default');
  const configFile = path.join(root, AWS_CONFIG_KEY);
  fs.writeFileSync(configFile, configMap.data[AWS_CONFIG_KEY]);
  const credentialsFile = path.join(root, 'credentials');
  fs.writeFileSync(credentialsFile, '');
  const tokenFile = path.join(root, 'eks-pod-identity-token');
  fs.writeFileSync(tokenFile, AGENT_TOKEN);

  Object.assign(process.env, {
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_PROFILE: podEnv.AWS_PROFILE,
    AWS_REGION: REGION,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
    // Honoured by the SDK's inner STS client (serviceId 'STS'); no clientConfig override is needed.
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: bedrockStandIn.url,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
});

afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** Recomputes the request's SigV4 signature with the given credentials. */
async function expectSignedWith(req: Recorded, creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string }, service: string) {
  const auth = String(req.headers.authorization);
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(auth);
  expect(match).not.toBeNull();
  const [, keyId, , region, signedService, signedHeaders] = match!;
  expect(keyId).toBe(creds.accessKeyId);
  expect(region).toBe(REGION);
  expect(signedService).toBe(service);
  expect(req.headers['x-amz-security-token']).toBe(creds.sessionToken);
  const amzDate = String(req.headers['x-amz-date']);
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const headers = Object.fromEntries(signedHeaders.split(';')
    .filter((h) => h !== 'x-amz-date' && h !== 'x-amz-security-token')
    .map((h) => [h, String(req.headers[h])]));
  const url = new URL(`http://${req.headers.host}${req.url}`);
  const signer = new SignatureV4({ credentials: creds, region, service, sha256: NodeSha256 as any, applyChecksum: false });
  const signed = await signer.sign({
    method: req.method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers, body: req.body,
  } as Parameters<SignatureV4['presign']>[0], { signingDate });
  expect(auth).toBe(signed.headers.authorization);
}

describe("the gateway's Bedrock credentials (real SDK v3 default chain, fake Pod Identity agent and STS)", () => {
  test('the default chain assumes the Bedrock role with the namespace as session name, signed with the Pod Identity credentials', async () => {
    const creds = await defaultProvider()();

    // The Pod Identity agent was asked once, with the token file's content.
    expect(agent.calls).toHaveLength(1);
    expect(agent.calls[0].headers.authorization).toBe(AGENT_TOKEN);

    // STS was called once: AssumeRole of the Bedrock role, session name = the tenant's namespace.
    expect(sts.calls).toHaveLength(1);
    const call = sts.calls[0];
    const form = Object.fromEntries(new URLSearchParams(call.body));
    expect(form).toEqual({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: BEDROCK_ROLE_ARN,
      RoleSessionName: NAMESPACE,
      DurationSeconds: '3600',
    });
    // Signed with the Pod Identity (tenant role) credentials, the signature recomputed with their secret.
    await expectSignedWith(call, { accessKeyId: POD_CREDS.AccessKeyId, secretAccessKey: POD_CREDS.SecretAccessKey, sessionToken: POD_CREDS.Token }, 'sts');

    // The credentials the SDK hands its clients are the Bedrock role's.
    expect(creds).toMatchObject({
      accessKeyId: BEDROCK_CREDS.AccessKeyId,
      secretAccessKey: BEDROCK_CREDS.SecretAccessKey,
      sessionToken: BEDROCK_CREDS.SessionToken,
      accountId: '123456789012',
    });
    expect(creds.expiration?.toISOString()).toBe('2099-01-01T01:00:00.000Z');
  });

  test('a client built without credentials (as OpenClaw builds its Bedrock client) signs its calls as the Bedrock role', async () => {
    const client = new SecretsManagerClient({ region: REGION });
    try {
      await client.send(new GetSecretValueCommand({ SecretId: 'x' }));
    } finally {
      client.destroy();
    }
    expect(sts.calls).toHaveLength(1);
    expect(new URLSearchParams(sts.calls[0].body).get('RoleSessionName')).toBe(NAMESPACE);
    expect(bedrockStandIn.calls).toHaveLength(1);
    await expectSignedWith(bedrockStandIn.calls[0], {
      accessKeyId: BEDROCK_CREDS.AccessKeyId, secretAccessKey: BEDROCK_CREDS.SecretAccessKey, sessionToken: BEDROCK_CREDS.SessionToken,
    }, 'secretsmanager');
  });

  test('when STS refuses the role, the chain fails: it never falls back to the Pod Identity (tenant role) credentials', async () => {
    stsDenies = true;
    await expect(defaultProvider()()).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(sts.calls.length).toBeGreaterThanOrEqual(1);
    for (const c of sts.calls) expect(new URLSearchParams(c.body).get('RoleSessionName')).toBe(NAMESPACE);
  });
});

describe('the Bedrock profile and the secret resolver', () => {
  test("the config text for namespace openclaw-acme is exactly the profile, with the tenant's namespace as session name", () => {
    expect(bedrockAwsConfig(NAMESPACE, BEDROCK_ROLE_ARN)).toBe([
      '[default]',
      'role_arn = arn:aws:iam::123456789012:role/openclaw-bedrock',
      'role_session_name = openclaw-acme',
      'credential_source = EcsContainer',
      '',
    ].join('\n'));
  });

  test('the secret resolver keeps the tenant role: its passEnv has neither AWS_CONFIG_FILE nor AWS_PROFILE', () => {
    const provider = tenantConfig(sampleTenant('acme'), samplePlatform()).secrets.providers['aws-secrets-manager'];
    expect(provider.passEnv).not.toContain('AWS_CONFIG_FILE');
    expect(provider.passEnv).not.toContain('AWS_PROFILE');
    expect(provider.passEnv).toEqual(['AWS_REGION', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']);
    expect(provider.env).toBeUndefined();
  });
});
