import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { SignatureV4 } from '@smithy/signature-v4';
import { podResolverSource } from '../../src/platform/pod-secret-resolver';
import { NodeSha256 } from '../util';

// The resolver runs for real, as OpenClaw runs it in the gateway pod, against a local fake of the Pod Identity
// agent and of Secrets Manager's JSON API. Secret values must never reach stderr.
const CREDS = { AccessKeyId: 'ASIAEXAMPLEKEY', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', Token: 'session-token-xyz', Expiration: '2099-01-01T00:00:00Z' };
const AGENT_TOKEN = 'projected-sa-token-abc';
const SECRETS: Record<string, string> = {
  'openclaw/acme/gateway-token': 'acme-SECRET-token-1',
  'openclaw/acme/json': JSON.stringify({ user: 'svc', pass: 'p@ss-SECRET-2' }),
};
const ERROR_DETAIL = 'leaked-SECRET-in-error-message';

interface Recorded { path: string; headers: http.IncomingHttpHeaders; body: string }

let root: string;
let script: string;
let tokenFile: string;
let server: http.Server;
let port: number;
let agentCalls: Recorded[];
let smCalls: Recorded[];
let smDelayMs = 0;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-pod-resolver-'));
  script = path.join(root, 'openclaw-secret-resolver');
  fs.writeFileSync(script, podResolverSource(process.execPath), { mode: 0o500 });
  tokenFile = path.join(root, 'eks-pod-identity-token');
  fs.writeFileSync(tokenFile, `${AGENT_TOKEN}\n`);
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const rec = { path: req.url ?? '', headers: req.headers, body };
      if (req.url === '/v1/credentials') {
        agentCalls.push(rec);
        if (req.headers.authorization !== AGENT_TOKEN) { res.writeHead(401).end('{}'); return; }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(CREDS));
        return;
      }
      smCalls.push(rec);
      const id = JSON.parse(body).SecretId as string;
      const answer = () => {
        if (id === 'openclaw/acme/denied') {
          res.writeHead(400).end(JSON.stringify({ __type: 'AccessDeniedException', message: ERROR_DETAIL }));
        } else if (id in SECRETS) {
          res.writeHead(200).end(JSON.stringify({ ARN: 'arn', Name: id, SecretString: SECRETS[id] }));
        } else if (id === 'openclaw/acme/binary') {
          res.writeHead(200).end(JSON.stringify({ Name: id, SecretBinary: 'AAEC' }));
        } else {
          res.writeHead(400).end(JSON.stringify({ __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException', message: ERROR_DETAIL }));
        }
      };
      setTimeout(answer, smDelayMs);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  agentCalls = [];
  smCalls = [];
  smDelayMs = 0;
});

interface Run { code: number | null; stdout: string; stderr: string; json: any }

function run(request: unknown, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(script, args, {
      env: {
        AWS_REGION: 'eu-west-1',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/v1/credentials`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
        ...env,
      } as NodeJS.ProcessEnv,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code) => {
      let json: any;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      done({ code, stdout, stderr, json });
    });
    child.stdin.end(typeof request === 'string' ? request : JSON.stringify(request));
  });
}

const endpointArgs = () => ['--allow-prefix', 'openclaw/acme/', '--endpoint', `http://127.0.0.1:${port}`];
const ask = (...ids: string[]) => ({ protocolVersion: 1, provider: 'aws-secrets-manager', ids });

describe('pod secret resolver', () => {
  test('returns the gateway token from Secrets Manager with the Pod Identity credentials', async () => {
    const r = await run(ask('openclaw/acme/gateway-token'), endpointArgs());
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ protocolVersion: 1, values: { 'openclaw/acme/gateway-token': 'acme-SECRET-token-1' } });
    expect(agentCalls).toHaveLength(1);
    expect(agentCalls[0].headers.authorization).toBe(AGENT_TOKEN);
    expect(smCalls[0].headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(smCalls[0].headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(smCalls[0].headers['x-amz-security-token']).toBe(CREDS.Token);
    expect(JSON.parse(smCalls[0].body)).toEqual({ SecretId: 'openclaw/acme/gateway-token' });
    expect(r.stderr).toBe('');
  });

  test('signs GetSecretValue exactly as the AWS SDK signer does (Signature Version 4)', async () => {
    await run(ask('openclaw/acme/gateway-token'), endpointArgs());
    const got = smCalls[0];
    const amzDate = got.headers['x-amz-date'] as string;
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signer = new SignatureV4({
      credentials: { accessKeyId: CREDS.AccessKeyId, secretAccessKey: CREDS.SecretAccessKey, sessionToken: CREDS.Token },
      region: 'eu-west-1',
      service: 'secretsmanager',
      sha256: NodeSha256 as any,
      applyChecksum: false,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: '/',
      query: {},
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'host': `127.0.0.1:${port}`,
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: got.body,
    } as any, { signingDate });
    expect(got.headers.authorization).toBe(signed.headers.authorization);
    expect(got.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/);
  });

  test('picks one key of a JSON secret and fetches the credentials once for several ids', async () => {
    const r = await run(ask('openclaw/acme/json#pass', 'openclaw/acme/gateway-token', 'openclaw/acme/json#nope'), endpointArgs());
    expect(r.json.values).toEqual({ 'openclaw/acme/json#pass': 'p@ss-SECRET-2', 'openclaw/acme/gateway-token': 'acme-SECRET-token-1' });
    expect(r.json.errors['openclaw/acme/json#nope'].code).toBe('NOT_FOUND');
    expect(agentCalls).toHaveLength(1);
  });

  test("refuses ids outside the tenant's prefix without calling AWS", async () => {
    const r = await run(ask('openclaw/other/gateway-token', 'openclaw/acme'), endpointArgs());
    expect(r.json.values).toEqual({});
    expect(r.json.errors['openclaw/other/gateway-token'].code).toBe('NOT_ALLOWED');
    expect(r.json.errors['openclaw/acme'].code).toBe('NOT_ALLOWED');
    expect(smCalls).toHaveLength(0);
  });

  test('reports AWS errors by code name only, never their message', async () => {
    const r = await run(ask('openclaw/acme/missing', 'openclaw/acme/denied', 'openclaw/acme/binary'), endpointArgs());
    expect(r.json.errors).toEqual({
      'openclaw/acme/missing': { code: 'NOT_FOUND', message: 'GetSecretValue failed: ResourceNotFoundException' },
      'openclaw/acme/denied': { code: 'AWS_ERROR', message: 'GetSecretValue failed: AccessDeniedException' },
      'openclaw/acme/binary': { code: 'NOT_STRING', message: 'secret has no SecretString' },
    });
    expect(r.stdout + r.stderr).not.toContain(ERROR_DETAIL);
  });

  test('answers NO_CREDENTIALS when the pod has no Pod Identity association', async () => {
    const r = await run(ask('openclaw/acme/gateway-token'), endpointArgs(), { AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined });
    expect(r.code).toBe(0);
    expect(r.json.errors['openclaw/acme/gateway-token'].code).toBe('NO_CREDENTIALS');
    expect(smCalls).toHaveLength(0);
  });

  test('takes credentials only from the Pod Identity agent, never from another host', async () => {
    const r = await run(ask('openclaw/acme/gateway-token'), endpointArgs(), { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://attacker.example/v1/credentials' });
    expect(r.json.errors['openclaw/acme/gateway-token'].code).toBe('NO_CREDENTIALS');
    expect(agentCalls).toHaveLength(0);
  });

  test('refuses a wrong agent token (the agent answers 401)', async () => {
    const wrong = path.join(root, 'wrong-token');
    fs.writeFileSync(wrong, 'not-the-token');
    const r = await run(ask('openclaw/acme/gateway-token'), endpointArgs(), { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: wrong });
    expect(r.json.errors['openclaw/acme/gateway-token'].code).toBe('NO_CREDENTIALS');
    expect(smCalls).toHaveLength(0);
  });

  test('gives up on a slow Secrets Manager after --timeout-ms', async () => {
    smDelayMs = 2000;
    const started = Date.now();
    const r = await run(ask('openclaw/acme/gateway-token'), [...endpointArgs(), '--timeout-ms', '300']);
    expect(r.json.errors['openclaw/acme/gateway-token'].code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1900);
  });

  test.each([
    ['a plain-HTTP endpoint that is not loopback', ['--endpoint', 'http://secretsmanager.eu-west-1.amazonaws.com'], '--endpoint must use https'],
    ['an unknown argument', ['--aws-cli', '/usr/bin/aws'], 'unknown argument'],
    ['a timeout out of range', ['--timeout-ms', '5'], '--timeout-ms must be 100-120000'],
  ])('exits 2 on a usage error: %s', async (_name, args, message) => {
    const r = await run(ask('openclaw/acme/gateway-token'), ['--allow-prefix', 'openclaw/acme/', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  test('exits 2 without a region', async () => {
    const r = await run(ask('x'), endpointArgs(), { AWS_REGION: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must name an AWS region');
  });

  test('exits 2 on a request that is not protocol version 1', async () => {
    const r = await run({ protocolVersion: 2, ids: [] }, endpointArgs());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unsupported protocolVersion');
  });

  test('defaults to the regional HTTPS endpoint of the partition', () => {
    const source = podResolverSource();
    expect(source.startsWith('#!/usr/local/bin/node\n')).toBe(true);
    expect(source).toContain("'https://secretsmanager.' + region + '.' + suffix");
    expect(source).toContain("region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'");
  });
});
