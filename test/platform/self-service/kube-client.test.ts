import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { samplePlatform, sampleTenant } from '../../../oracles/lib/tenant-sample';
import { FIELD_MANAGER, KubeError, ROTATION_FIELD_MANAGER } from '../../../src/platform/self-service/contract';
import { EKS_TOKEN_PREFIX, eksBearerToken } from '../../../src/platform/self-service/eks-token';
import { KUBE_RESOURCES, KubeClient, KubeTransportError, TOKEN_REFRESH_MS } from '../../../src/platform/self-service/kube-client';
import { renderTenant } from '../../../src/platform/tenant-manifests';

// The client runs against a local fake of the Kubernetes API that records every request and keeps objects the way
// server-side apply does at the level of whole objects: an apply creates the object (201) or merges into it (200);
// a namespaced object needs its namespace; the name and namespace in the body must match the URL.

const TOKEN = 'k8s-aws-v1.SECRET-bearer-token-value-0001';
const platform = samplePlatform();
const acme = renderTenant(sampleTenant('acme'), platform);

interface Recorded { method: string; path: string; query: URLSearchParams; headers: http.IncomingHttpHeaders; body: string }
type Fault = { status: number; body: string; contentType?: string } | 'hang' | 'reset';

const PATH = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)\/([^/]+)$/;

class FakeKube {
  readonly requests: Recorded[] = [];
  readonly objects = new Map<string, any>();
  readonly faults = new Map<string, Fault>();
  private uid = 0;

  handle(req: http.IncomingMessage, res: http.ServerResponse) {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const rec = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      this.requests.push(rec);
      const fault = this.faults.get(`${rec.method} ${rec.path}`);
      if (fault === 'hang') return;
      if (fault === 'reset') { req.socket.destroy(); return; }
      if (fault) { res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/json' }).end(fault.body); return; }
      const [code, answer] = this.route(rec);
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  }

  private route(r: Recorded): [number, any] {
    if (r.headers.authorization === undefined) return status(401, 'Unauthorized', 'Unauthorized');
    const m = PATH.exec(r.path);
    if (!m) return status(404, 'NotFound', 'the server could not find the requested resource');
    const [, ns, resource, name] = m;
    const existing = this.objects.get(r.path);
    if (r.method === 'GET') return existing ? [200, existing] : status(404, 'NotFound', `${resource} "${name}" not found`);
    if (r.method === 'DELETE') {
      if (!existing) return status(404, 'NotFound', `${resource} "${name}" not found`);
      this.objects.delete(r.path);
      if (resource === 'namespaces' && !ns) {
        for (const key of [...this.objects.keys()]) if (key.includes(`/namespaces/${name}/`)) this.objects.delete(key);
      }
      return [200, { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: resource } }];
    }
    if (r.method !== 'PATCH') return status(405, 'MethodNotAllowed', 'the server does not allow this method');
    if (r.headers['content-type'] !== 'application/apply-patch+yaml') return status(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format');
    if (!r.query.get('fieldManager')) return status(400, 'BadRequest', 'PATCH with an apply patch needs a fieldManager');
    const obj = JSON.parse(r.body);
    if (obj.metadata?.name !== name) return status(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    if ((obj.metadata?.namespace ?? undefined) !== (ns ?? undefined)) return status(400, 'BadRequest', 'the namespace of the object does not match the namespace on the URL');
    if (ns && !this.objects.has(`/api/v1/namespaces/${ns}`)) return status(404, 'NotFound', `namespaces "${ns}" not found`);
    const manager = r.query.get('fieldManager')!;
    if (!existing) {
      const created = { ...obj, metadata: { ...obj.metadata, uid: `uid-${++this.uid}`, resourceVersion: '1', managedFields: [{ manager, operation: 'Apply' }] } };
      this.objects.set(r.path, created);
      return [201, created];
    }
    if (existing.metadata.managedFields.some((f: any) => f.manager !== manager) && r.query.get('force') !== 'true') {
      return status(409, 'Conflict', 'Apply failed with conflicts');
    }
    const merged = merge(existing, obj);
    merged.metadata.managedFields = [...existing.metadata.managedFields.filter((f: any) => f.manager !== manager), { manager, operation: 'Apply' }];
    const changed = JSON.stringify({ ...merged, metadata: { ...merged.metadata, managedFields: undefined } })
      !== JSON.stringify({ ...existing, metadata: { ...existing.metadata, managedFields: undefined } });
    merged.metadata.resourceVersion = changed ? String(Number(existing.metadata.resourceVersion) + 1) : existing.metadata.resourceVersion;
    this.objects.set(r.path, merged);
    return [200, merged];
  }
}

function status(code: number, reason: string, message: string): [number, any] {
  return [code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }];
}

function merge(a: any, b: any): any {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return JSON.parse(JSON.stringify(b));
  const out: any = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : JSON.parse(JSON.stringify(v));
  return out;
}

let fake: FakeKube;
let server: http.Server;
let endpoint: string;

beforeAll(async () => {
  server = http.createServer((req, res) => fake.handle(req, res));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

beforeEach(() => {
  fake = new FakeKube();
});

const client = (options: Partial<ConstructorParameters<typeof KubeClient>[0]> = {}) => new KubeClient({ endpoint, token: () => TOKEN, ...options });
const patches = () => fake.requests.filter((r) => r.method === 'PATCH');

async function caught(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeError);
    return e as KubeError;
  }
  throw new Error('expected the call to fail');
}

describe('the cluster client', () => {
  test('handles exactly the kinds the tenant renderer emits', () => {
    const emitted = new Set(acme.objects.map((o) => `${o.apiVersion} ${o.kind}`));
    const handled = new Set(KUBE_RESOURCES.map((r) => `${r.group ? `${r.group}/` : ''}${r.version} ${r.kind}`));
    expect(handled).toEqual(emitted);
    expect(handled.has('apps/v1 Deployment')).toBe(true);
  });

  test('applies every object the renderer emits to its REST path', async () => {
    const kube = client();
    for (const o of acme.objects) await kube.apply(o);
    const ns = '/api/v1/namespaces/openclaw-acme';
    expect(patches().map((r) => r.path)).toEqual([
      ns,
      `${ns}/resourcequotas/tenant-quota`,
      `${ns}/limitranges/tenant-limits`,
      '/apis/networking.k8s.io/v1/namespaces/openclaw-acme/networkpolicies/default-deny',
      '/apis/networking.k8s.io/v1/namespaces/openclaw-acme/networkpolicies/gateway-ingress-from-router',
      '/apis/networking.k8s.io/v1/namespaces/openclaw-acme/networkpolicies/gateway-egress',
      `${ns}/serviceaccounts/openclaw`,
      `${ns}/configmaps/openclaw-config`,
      `${ns}/persistentvolumeclaims/openclaw-state`,
      '/apis/apps/v1/namespaces/openclaw-acme/deployments/openclaw',
      `${ns}/services/openclaw`,
      '/apis/policy/v1/namespaces/openclaw-acme/poddisruptionbudgets/openclaw',
    ]);
    patches().forEach((r, i) => expect(JSON.parse(r.body)).toEqual(acme.objects[i]));
    expect(fake.objects.size).toBe(acme.objects.length);
  });

  test('server-side applies with force, the field manager and the apply content type', async () => {
    const kube = client();
    await kube.apply(acme.objects[0]);
    await kube.apply(acme.objects.find((o) => o.kind === 'Deployment'), { fieldManager: ROTATION_FIELD_MANAGER });
    const [ns, deployment] = patches();
    for (const r of [ns, deployment]) {
      expect(r.headers['content-type']).toBe('application/apply-patch+yaml');
      expect(r.headers.accept).toBe('application/json');
      expect(r.query.get('force')).toBe('true');
      expect([...r.query.keys()].sort()).toEqual(['fieldManager', 'force']);
    }
    expect(ns.query.get('fieldManager')).toBe(FIELD_MANAGER);
    expect(deployment.query.get('fieldManager')).toBe(ROTATION_FIELD_MANAGER);
  });

  test('sends the bearer token on every call', async () => {
    const kube = client();
    await kube.apply(acme.objects[0]);
    await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' });
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' });
    expect(fake.requests).toHaveLength(3);
    for (const r of fake.requests) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  test('re-applying the same objects is idempotent (created once, then unchanged)', async () => {
    const kube = client();
    for (const o of acme.objects) await kube.apply(o);
    const first = JSON.stringify([...fake.objects.entries()]);
    for (const o of acme.objects) await kube.apply(o);
    expect(JSON.stringify([...fake.objects.entries()])).toBe(first);
    expect(patches()).toHaveLength(2 * acme.objects.length);
    for (const o of fake.objects.values()) expect(o.metadata.resourceVersion).toBe('1');
    // The second pass sent the same bodies to the same paths.
    const n = acme.objects.length;
    patches().slice(n).forEach((r, i) => {
      expect(r.path).toBe(patches()[i].path);
      expect(r.body).toBe(patches()[i].body);
    });
  });

  test('get returns the object, and undefined when it does not exist', async () => {
    const kube = client();
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'openclaw', namespace: 'openclaw-acme' };
    expect(await kube.get(ref)).toBeUndefined();
    for (const o of acme.objects) await kube.apply(o);
    const got = await kube.get(ref);
    expect(got.spec).toEqual(acme.objects.find((o) => o.kind === 'Deployment').spec);
    expect(got.metadata.uid).toMatch(/^uid-/);
    expect(fake.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
      '/apis/apps/v1/namespaces/openclaw-acme/deployments/openclaw',
      '/apis/apps/v1/namespaces/openclaw-acme/deployments/openclaw',
    ]);
  });

  test('delete deletes with background propagation, and returns false when the object does not exist', async () => {
    const kube = client();
    for (const o of acme.objects) await kube.apply(o);
    const ns = { apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' };
    expect(await kube.delete(ns)).toBe(true);
    expect(fake.objects.size).toBe(0);
    expect(await kube.delete(ns)).toBe(false);
    const deletes = fake.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(2);
    for (const r of deletes) {
      expect(r.path).toBe('/api/v1/namespaces/openclaw-acme');
      expect(r.query.get('propagationPolicy')).toBe('Background');
    }
  });

  test('a 403 becomes a KubeError with the reason, naming the verb, kind and object', async () => {
    fake.faults.set('PATCH /api/v1/namespaces/kube-system', {
      status: 403,
      body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'namespaces "kube-system" is forbidden: User "provisioner" cannot patch resource "namespaces"' }),
    });
    const e = await caught(client().apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }));
    expect(e.status).toBe(403);
    expect(e.reason).toBe('Forbidden');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe('apply Namespace kube-system failed: 403 Forbidden: namespaces "kube-system" is forbidden: User "provisioner" cannot patch resource "namespaces"');
  });

  test('a 422 becomes a KubeError with the reason Invalid and the API\'s explanation', async () => {
    const kube = client();
    await kube.apply(acme.objects[0]);
    fake.faults.set('PATCH /api/v1/namespaces/openclaw-acme/resourcequotas/tenant-quota', {
      status: 422,
      body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422, message: 'ResourceQuota "tenant-quota" is invalid: spec.hard[pods]: Invalid value: "-1"' }),
    });
    const e = await caught(kube.apply(acme.objects[1]));
    expect(e.status).toBe(422);
    expect(e.reason).toBe('Invalid');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^apply ResourceQuota openclaw-acme\/tenant-quota failed: 422 Invalid: ResourceQuota "tenant-quota" is invalid/);
  });

  test.each([
    [429, 'a Status object', JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'too many requests' }), 'TooManyRequests'],
    [503, 'a Status object', JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'etcd is unavailable' }), 'ServiceUnavailable'],
    [503, 'an HTML page', '<html>upstream connect error</html>', 'ServiceUnavailable'],
    [500, 'a non-JSON body', 'not json', 'InternalError'],
  ])('a %i answer with %s is a KubeError flagged retryable', async (code, _label, body, reason) => {
    fake.faults.set('GET /api/v1/namespaces/openclaw-acme/configmaps/openclaw-config', { status: code, body });
    const e = await caught(client().get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'openclaw-config', namespace: 'openclaw-acme' }));
    expect(e.status).toBe(code);
    expect(e.reason).toBe(reason);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(new RegExp(`^get ConfigMap openclaw-acme/openclaw-config failed: ${code} ${reason}`));
    // Only a Status object's own message is quoted, never a raw body.
    if (!body.startsWith('{')) expect(e.message).not.toContain(body);
  });

  test('an unanswered call times out as a retryable KubeError', async () => {
    fake.faults.set('GET /api/v1/namespaces/openclaw-acme', 'hang');
    const started = Date.now();
    const e = await caught(client({ timeoutMs: 200 }).get({ apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(e).toBeInstanceOf(KubeTransportError);
    expect(e.status).toBe(0);
    expect(e.reason).toBe('Timeout');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe('get Namespace openclaw-acme: no answer from the cluster API within 200 ms');
  });

  test('a dropped connection is a retryable KubeError', async () => {
    fake.faults.set('DELETE /api/v1/namespaces/openclaw-acme', 'reset');
    const e = await caught(client().delete({ apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' }));
    expect(e.status).toBe(0);
    expect(e.reason).toBe('NetworkError');
    expect(e.retryable).toBe(true);
  });

  test('refuses an answer larger than 4 MiB, as a KubeError that is not retried', async () => {
    fake.faults.set('GET /api/v1/namespaces/openclaw-acme', { status: 200, body: 'x'.repeat(4 * 1024 * 1024 + 1) });
    const e = await caught(client().get({ apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' }));
    expect(e.reason).toBe('ResponseTooLarge');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe('get Namespace openclaw-acme: the answer exceeded 4194304 bytes');
  });

  test('refreshes the bearer token once it is 10 minutes old', async () => {
    let now = 1_000_000;
    let made = 0;
    const kube = client({ clock: () => now, token: () => `${TOKEN}-${++made}` });
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' };
    await kube.get(ref);
    now += TOKEN_REFRESH_MS - 1;
    await kube.get(ref);
    now += 1;
    await kube.get(ref);
    now += 60_000;
    await kube.get(ref);
    expect(TOKEN_REFRESH_MS).toBe(10 * 60 * 1000);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}-1`, `Bearer ${TOKEN}-1`, `Bearer ${TOKEN}-2`, `Bearer ${TOKEN}-2`]);
    expect(made).toBe(2);
  });

  test('no error message ever contains the bearer token, even when the API echoes it', async () => {
    const echo = (code: number, reason: string) => ({
      status: code,
      body: JSON.stringify({ kind: 'Status', status: 'Failure', reason, code, message: `request with Authorization: Bearer ${TOKEN} refused (${TOKEN})` }),
    });
    const ref = { apiVersion: 'v1', kind: 'Service', name: 'openclaw', namespace: 'openclaw-acme' };
    const p = '/api/v1/namespaces/openclaw-acme/services/openclaw';
    const errors: KubeError[] = [];
    for (const [method, code, reason] of [['GET', 401, 'Unauthorized'], ['PATCH', 403, 'Forbidden'], ['PATCH', 422, 'Invalid'], ['DELETE', 429, 'TooManyRequests'], ['GET', 500, 'InternalError']] as const) {
      fake.faults.clear();
      fake.faults.set(`${method} ${p}`, echo(code, reason));
      const kube = client();
      const call = method === 'GET' ? kube.get(ref) : method === 'DELETE' ? kube.delete(ref) : kube.apply({ ...ref, metadata: { name: ref.name, namespace: ref.namespace } });
      errors.push(await caught(call));
    }
    fake.faults.clear();
    fake.faults.set(`GET ${p}`, 'hang');
    errors.push(await caught(client({ timeoutMs: 100 }).get(ref)));
    fake.faults.set(`GET ${p}`, { status: 200, body: `not json ${TOKEN}` });
    errors.push(await caught(client().get(ref)));
    expect(errors).toHaveLength(7);
    for (const e of errors) {
      expect(e.message).not.toContain(TOKEN);
      expect(e.message).not.toContain(TOKEN.slice(EKS_TOKEN_PREFIX.length));
      expect(String(e.stack)).not.toContain(TOKEN);
    }
    expect(errors[1].message).toContain('[token]');
    expect(errors[6].reason).toBe('InvalidResponse');
  });

  test('refuses kinds it does not handle, naming what it handles, without calling the API', async () => {
    const kube = client();
    await expect(kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'openclaw-acme' } }))
      .rejects.toThrow(/does not handle apiVersion 'v1' kind 'Secret'; it handles only: v1 Namespace, .*apps\/v1 Deployment/);
    await expect(kube.get({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'admin' })).rejects.toThrow(/does not handle apiVersion 'rbac.authorization.k8s.io\/v1' kind 'ClusterRole'/);
    await expect(kube.delete({ apiVersion: 'extensions/v1beta1', kind: 'Deployment', name: 'x', namespace: 'openclaw-acme' })).rejects.toThrow(/does not handle/);
    expect(fake.requests).toHaveLength(0);
  });

  test('refuses names, namespaces and field managers the API would not accept, without calling the API', async () => {
    const kube = client();
    await expect(kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' })).rejects.toThrow(/ConfigMap 'x' needs a namespace \(a DNS label\), got 'undefined'/);
    await expect(kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: '..', namespace: 'openclaw-acme' })).rejects.toThrow(/ConfigMap name must be a DNS subdomain/);
    await expect(kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: '../kube-system' })).rejects.toThrow(/needs a namespace/);
    await expect(kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'a', namespace: 'b' })).rejects.toThrow(/Namespace is cluster-scoped: give no namespace, got 'b'/);
    await expect(kube.apply(acme.objects[0], { fieldManager: 'a b' })).rejects.toThrow(/fieldManager must be/);
    await expect(kube.apply(null)).rejects.toThrow(/apply needs a Kubernetes object/);
    expect(fake.requests).toHaveLength(0);
  });

  test('refuses a plain-http endpoint other than loopback, and https without the cluster CA', () => {
    expect(() => new KubeClient({ endpoint: 'http://10.0.0.1', token: () => TOKEN })).toThrow(/must use https \(http is allowed on loopback addresses only, for tests\), got 'http:\/\/10.0.0.1'/);
    expect(() => new KubeClient({ endpoint: 'https://example.eks.amazonaws.com', token: () => TOKEN })).toThrow(/cluster CA \(a PEM certificate\) is required/);
    expect(() => new KubeClient({ endpoint: 'nope', token: () => TOKEN })).toThrow(/must be an https URL/);
    expect(() => new KubeClient({ endpoint, token: () => TOKEN, timeoutMs: 0 })).toThrow(/timeoutMs must be an integer/);
  });
});

describe('the cluster client over TLS, configured from the environment', () => {
  let dir: string;
  let tls: https.Server;
  let tlsEndpoint: string;
  let caPem: string;
  let otherCaPem: string;
  let seen: http.IncomingHttpHeaders[];

  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  const makeCa = (name: string) => openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-kube-client-'));
    makeCa('cluster-ca');
    makeCa('other-ca');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kubernetes');
    fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'cluster-ca.pem', '-CAkey', 'cluster-ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
    caPem = fs.readFileSync(path.join(dir, 'cluster-ca.pem'), 'utf8');
    otherCaPem = fs.readFileSync(path.join(dir, 'other-ca.pem'), 'utf8');
    tls = https.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.pem')) }, (req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openclaw-acme' } })));
    });
    await new Promise<void>((done) => tls.listen(0, '127.0.0.1', done));
    tlsEndpoint = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    tls.closeAllConnections();
    await new Promise((done) => tls.close(done));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => { seen = []; });

  const env = (over: Record<string, string | undefined> = {}) => ({
    CLUSTER_ENDPOINT: tlsEndpoint,
    CLUSTER_CA: Buffer.from(caPem).toString('base64'),
    CLUSTER_NAME: 'openclaw-prod',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEKEYID0003',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'session/token+value=',
    ...over,
  });
  const ns = { apiVersion: 'v1', kind: 'Namespace', name: 'openclaw-acme' };

  test('trusts the cluster CA from CLUSTER_CA and signs an EKS token with the function\'s credentials', async () => {
    const now = Date.parse('2026-05-06T07:08:09Z');
    const got = await KubeClient.fromEnvironment(env(), { clock: () => now }).get(ns);
    expect(got.metadata.name).toBe('openclaw-acme');
    expect(seen).toHaveLength(1);
    const expected = eksBearerToken({
      clusterName: 'openclaw-prod',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'ASIAEXAMPLEKEYID0003', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+value=' },
      now: new Date(now),
    });
    expect(seen[0].authorization).toBe(`Bearer ${expected}`);
    const url = new URL(Buffer.from(expected.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('ASIAEXAMPLEKEYID0003/20260506/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session/token+value=');
  });

  test('accepts CLUSTER_CA as plain PEM too', async () => {
    await expect(KubeClient.fromEnvironment(env({ CLUSTER_CA: caPem })).get(ns)).resolves.toBeDefined();
  });

  test('refuses a server the cluster CA did not sign, as a KubeError that is not retried', async () => {
    const e = await caught(KubeClient.fromEnvironment(env({ CLUSTER_CA: Buffer.from(otherCaPem).toString('base64') })).get(ns));
    expect(e).toBeInstanceOf(KubeTransportError);
    expect(e.reason).toBe('ConnectionFailed');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^get Namespace openclaw-acme: the connection to the cluster API failed \([A-Z_]+\)$/);
    expect(seen).toHaveLength(0);
  });

  test('names the missing or malformed environment variable', () => {
    expect(() => KubeClient.fromEnvironment(env({ CLUSTER_ENDPOINT: undefined }))).toThrow('The environment variable CLUSTER_ENDPOINT must be set for the cluster client');
    expect(() => KubeClient.fromEnvironment(env({ CLUSTER_NAME: '' }))).toThrow('The environment variable CLUSTER_NAME must be set');
    expect(() => KubeClient.fromEnvironment(env({ AWS_REGION: undefined }))).toThrow('The environment variable AWS_REGION must be set');
    expect(() => KubeClient.fromEnvironment(env({ CLUSTER_CA: undefined }))).toThrow(/cluster CA \(a PEM certificate\) is required/);
    expect(() => KubeClient.fromEnvironment(env({ CLUSTER_CA: 'bm90IGEgY2VydGlmaWNhdGU=' }))).toThrow(/CLUSTER_CA must be the base64 of the cluster CA's PEM certificate/);
  });

  test('names missing credentials when it first makes a token', async () => {
    const kube = KubeClient.fromEnvironment(env({ AWS_SECRET_ACCESS_KEY: undefined }));
    await expect(kube.get(ns)).rejects.toThrow('The environment variable AWS_SECRET_ACCESS_KEY must be set for the cluster client');
  });
});
