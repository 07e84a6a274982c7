/**
 * A real Kubernetes control plane for the real-component tests: etcd, kube-apiserver and kube-controller-manager
 * (built by test/real/tools/kubernetes.sh), on 127.0.0.1 with free ports, a CA and serving certificate made here with
 * openssl, bearer tokens from a token file and RBAC. No scheduler and no kubelet: objects are stored, validated and
 * admitted (RBAC, ValidatingAdmissionPolicy, Pod Security, ResourceQuota, LimitRange, ServiceAccount) exactly as on a
 * cluster, and the controller manager creates ReplicaSets and Pods, counts quota and deletes namespaces' contents;
 * Pods stay Pending. NetworkPolicies are stored, never enforced (no network plugin).
 *
 * One control plane per test file (start it in `beforeAll`, stop it in `afterAll`); its logs and state live in a
 * temporary directory, whose log tails are in every start-up failure.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { RunningServer, freePort, installTool, removeDir, tempDir, waitFor } from './servers';
import { PROVISIONER_GROUP } from '../../../src/platform/self-service/contract';

/**
 * The provisioning functions' identity as an EKS access entry maps it: the user name EKS gives an IAM role's
 * sessions (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) and the entry's Kubernetes groups
 * (`kubernetesGroups: [PROVISIONER_GROUP]`; every authenticated user is also in `system:authenticated`).
 */
export const PROVISIONER_IDENTITY = {
  username: 'arn:aws:sts::111122223333:assumed-role/openclaw-provision-role/openclaw-provision',
  groups: [PROVISIONER_GROUP],
} as const;

/** The service range of the platform's clusters (the cluster DNS address is its tenth address). */
export const SERVICE_CIDR = '172.20.0.0/16';

/** Controllers that need nodes or a cloud, which a control plane without kubelets has not. */
const CONTROLLERS = '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route,-persistentvolume-attach-detach-controller';

/** An answer of the API: the HTTP status and the parsed JSON body (or the raw text when it is not JSON). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
}

/** Where the API serves a kind: its REST path prefix, plural and scope. */
interface Resource {
  readonly prefix: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The kinds the tests address by object (the platform's, the tenants', and what controllers make of them). */
const RESOURCES: Record<string, Resource> = {
  'v1 Namespace': { prefix: '/api/v1', plural: 'namespaces', namespaced: false },
  'v1 ResourceQuota': { prefix: '/api/v1', plural: 'resourcequotas', namespaced: true },
  'v1 LimitRange': { prefix: '/api/v1', plural: 'limitranges', namespaced: true },
  'v1 ServiceAccount': { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  'v1 ConfigMap': { prefix: '/api/v1', plural: 'configmaps', namespaced: true },
  'v1 Secret': { prefix: '/api/v1', plural: 'secrets', namespaced: true },
  'v1 PersistentVolumeClaim': { prefix: '/api/v1', plural: 'persistentvolumeclaims', namespaced: true },
  'v1 Service': { prefix: '/api/v1', plural: 'services', namespaced: true },
  'v1 Pod': { prefix: '/api/v1', plural: 'pods', namespaced: true },
  'apps/v1 Deployment': { prefix: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  'apps/v1 ReplicaSet': { prefix: '/apis/apps/v1', plural: 'replicasets', namespaced: true },
  'apps/v1 DaemonSet': { prefix: '/apis/apps/v1', plural: 'daemonsets', namespaced: true },
  'batch/v1 Job': { prefix: '/apis/batch/v1', plural: 'jobs', namespaced: true },
  'networking.k8s.io/v1 NetworkPolicy': { prefix: '/apis/networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
  'policy/v1 PodDisruptionBudget': { prefix: '/apis/policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
  'storage.k8s.io/v1 StorageClass': { prefix: '/apis/storage.k8s.io/v1', plural: 'storageclasses', namespaced: false },
  'rbac.authorization.k8s.io/v1 ClusterRole': { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
  'rbac.authorization.k8s.io/v1 Role': { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1 RoleBinding': { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true },
  'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy': { prefix: '/apis/admissionregistration.k8s.io/v1', plural: 'validatingadmissionpolicies', namespaced: false },
  'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding': { prefix: '/apis/admissionregistration.k8s.io/v1', plural: 'validatingadmissionpolicybindings', namespaced: false },
};

/** The REST path of an object (or of its collection when it has no name), for the kinds in {@link RESOURCES}. */
export function objectPath(ref: { apiVersion: string; kind: string; name?: string; namespace?: string }): string {
  const r = RESOURCES[`${ref.apiVersion} ${ref.kind}`];
  if (!r) throw new Error(`the test API client knows no ${ref.apiVersion} ${ref.kind}`);
  if (r.namespaced && !ref.namespace) throw new Error(`${ref.kind} ${ref.name} needs a namespace`);
  const ns = r.namespaced ? `/namespaces/${ref.namespace}` : '';
  return `${r.prefix}${ns}/${r.plural}${ref.name ? `/${ref.name}` : ''}`;
}

/** The reference of an object, for {@link objectPath}. */
export function refOf(object: any) {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name, namespace: object.metadata?.namespace };
}

/**
 * A plain client of the API under one bearer token, for what the library's own client does not do (the platform's
 * cluster-wide objects, lists, dry runs, verbs the provisioner must be refused). Never throws on an HTTP status.
 */
export class ApiClient {
  constructor(private readonly endpoint: string, private readonly ca: string, private readonly token: string) {}

  public request(method: string, urlPath: string, body?: unknown, contentType = 'application/json'): Promise<ApiAnswer> {
    const url = new URL(urlPath, this.endpoint);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request({
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        ca: this.ca,
        agent: false, // no kept-alive sockets to outlive the test
        timeout: 20_000,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/json',
          ...(payload !== undefined ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (readyz answers text)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 20 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Server-side apply (force), optionally as a dry run; the answer as it came. */
  public applyRaw(object: any, options: { fieldManager?: string; dryRun?: boolean } = {}): Promise<ApiAnswer> {
    const query = new URLSearchParams({ fieldManager: options.fieldManager ?? 'cdk-openclaw-tests', force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    return this.request('PATCH', `${objectPath(refOf(object))}?${query}`, object, 'application/apply-patch+yaml');
  }

  /** Server-side apply that must succeed; returns the stored object. */
  public async apply(object: any, fieldManager?: string): Promise<any> {
    const answer = await this.applyRaw(object, { fieldManager });
    if (answer.status !== 200 && answer.status !== 201) {
      throw new Error(`apply ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}: ${answer.status} ${answer.body?.message ?? JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  /** The object, or undefined on 404. */
  public async get(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<any | undefined> {
    const answer = await this.request('GET', objectPath(ref));
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`get ${ref.kind} ${ref.namespace ?? ''}/${ref.name}: ${answer.status} ${answer.body?.message ?? ''}`);
    return answer.body;
  }

  /** The items of a collection (`objectPath` without a name), optionally filtered by a label selector. */
  public async list(ref: { apiVersion: string; kind: string; namespace?: string }, labelSelector?: string): Promise<any[]> {
    const query = labelSelector ? `?${new URLSearchParams({ labelSelector })}` : '';
    const answer = await this.request('GET', `${objectPath(ref)}${query}`);
    if (answer.status !== 200) throw new Error(`list ${ref.kind} in ${ref.namespace ?? 'the cluster'}: ${answer.status} ${answer.body?.message ?? ''}`);
    return answer.body.items ?? [];
  }
}

/** A running control plane: its endpoint, CA and tokens, and clients for the administrator and the provisioner. */
export class KubernetesControlPlane {
  /**
   * Starts etcd, kube-apiserver and kube-controller-manager (about 5 s once built; the first build takes minutes
   * and happens in test/real/tools/kubernetes.sh, which `test:real` runs first). Fails within `timeoutMs` with the
   * tail of the failing component's log.
   */
  public static async start(options: { timeoutMs?: number } = {}): Promise<KubernetesControlPlane> {
    const bin = installTool('kubernetes')[0];
    for (const program of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
      // A missing program would never start, and never exit either: say so now.
      if (!fs.existsSync(path.join(bin, program))) throw new Error(`${program} is missing from ${bin}: run test/real/tools/kubernetes.sh again`);
    }
    const dir = tempDir('kube');
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const left = () => Math.max(1_000, deadline - Date.now());
    const plane = new KubernetesControlPlane(dir);
    try {
      await plane.boot(bin, left);
    } catch (e) {
      await plane.stop();
      throw e;
    }
    return plane;
  }

  /**
   * Stops every control plane this process started, including one whose start has not finished (a `beforeAll` that
   * timed out never got its result, but its servers run): call it in `afterAll`.
   */
  public static async stopAll(): Promise<void> {
    for (const plane of [...KubernetesControlPlane.live]) await plane.stop();
  }

  private static readonly live = new Set<KubernetesControlPlane>();

  public endpoint = '';
  public ca = '';
  /** A member of system:masters: what the platform's deployment (its kubectl provider) acts as. */
  public admin!: ApiClient;
  /** The provisioning functions' identity ({@link PROVISIONER_IDENTITY}). */
  public provisioner!: ApiClient;
  public provisionerToken = '';
  public adminToken = '';
  private readonly servers: RunningServer[] = [];

  private constructor(public readonly dir: string) {
    KubernetesControlPlane.live.add(this);
  }

  /** Stops the controller manager, the API server and etcd (by process id), then removes the directory. */
  public async stop(): Promise<void> {
    for (const server of this.servers.splice(0).reverse()) await server.stop();
    KubernetesControlPlane.live.delete(this);
    removeDir(this.dir);
  }

  /** The last lines of every component's log (for a failing test's message). */
  public logTails(lines = 20): string {
    return this.servers.map((s) => `--- ${s.name} (${s.logFile}) ---\n${s.logTail(lines)}`).join('\n');
  }

  private async boot(bin: string, left: () => number): Promise<void> {
    const dir = this.dir;
    const file = (name: string) => path.join(dir, name);
    makeCertificates(dir);
    this.ca = fs.readFileSync(file('ca.crt'), 'utf8');
    this.adminToken = randomToken();
    this.provisionerToken = randomToken();
    const controllerManagerToken = randomToken();
    // token,user,uid,"groups": the administrator, the controller manager (bound by the bootstrap RBAC policy to
    // its ClusterRole, as on any cluster) and the provisioner as its access entry maps it.
    fs.writeFileSync(file('tokens.csv'), [
      `${this.adminToken},cdk-openclaw-admin,admin,"system:masters"`,
      `${controllerManagerToken},system:kube-controller-manager,kcm,""`,
      `${this.provisionerToken},${PROVISIONER_IDENTITY.username},provisioner,"${PROVISIONER_IDENTITY.groups.join(',')}"`,
    ].join('\n') + '\n', { mode: 0o600 });

    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    this.servers.push(await RunningServer.start({
      name: 'etcd',
      command: path.join(bin, 'etcd'),
      args: [
        '--name=test', `--data-dir=${file('etcd')}`,
        `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
        // Test data only: durability is not worth the disk syncs on a shared machine.
        '--unsafe-no-fsync', '--log-level=warn',
      ],
      ready: async () => (await plainGet(`${etcdUrl}/health`)).includes('"health":"true"'),
      readyTimeoutMs: Math.min(left(), 20_000),
      logFile: file('etcd.log'),
    }));

    this.endpoint = `https://127.0.0.1:${apiPort}`;
    this.admin = new ApiClient(this.endpoint, this.ca, this.adminToken);
    this.provisioner = new ApiClient(this.endpoint, this.ca, this.provisionerToken);
    this.servers.push(await RunningServer.start({
      name: 'kube-apiserver',
      command: path.join(bin, 'kube-apiserver'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
        `--tls-cert-file=${file('apiserver.crt')}`, `--tls-private-key-file=${file('apiserver.key')}`,
        `--client-ca-file=${file('ca.crt')}`,
        `--token-auth-file=${file('tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${file('sa.pub')}`, `--service-account-signing-key-file=${file('sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // No kubelets and no real network: the `kubernetes` service's endpoints are not maintained.
        '--endpoint-reconciler-type=none',
        // On top of the defaults (which include ValidatingAdmissionPolicy): what EKS enables that matters here.
        '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,PodSecurity',
        `--cert-dir=${file('apiserver-certs')}`,
        '--profiling=false',
      ],
      ready: async () => (await this.admin.request('GET', '/readyz')).status === 200,
      readyTimeoutMs: Math.min(left(), 45_000),
      logFile: file('kube-apiserver.log'),
    }));

    fs.writeFileSync(file('controller-manager.kubeconfig'), [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: test\n  cluster:\n    server: ${this.endpoint}\n    certificate-authority: ${file('ca.crt')}`,
      'users:',
      `- name: kcm\n  user:\n    token: ${controllerManagerToken}`,
      'contexts:',
      '- name: test\n  context:\n    cluster: test\n    user: kcm',
      'current-context: test',
      '',
    ].join('\n'), { mode: 0o600 });
    this.servers.push(await RunningServer.start({
      name: 'kube-controller-manager',
      command: path.join(bin, 'kube-controller-manager'),
      args: [
        `--kubeconfig=${file('controller-manager.kubeconfig')}`,
        '--leader-elect=false',
        `--controllers=${CONTROLLERS}`,
        // Each controller acts as its own service account, as on a real cluster.
        '--use-service-account-credentials=true',
        `--root-ca-file=${file('ca.crt')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--bind-address=127.0.0.1', '--secure-port=0',
        '--profiling=false',
      ],
      // Ready once the service account controller made the `default` namespace's `default` account.
      ready: async () => (await this.admin.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', name: 'default' })) !== undefined,
      readyTimeoutMs: Math.min(left(), 45_000),
      logFile: file('kube-controller-manager.log'),
    }));
  }
}

/**
 * Applies the objects as the platform's deployment does (cluster administrator), in order. Waits until the
 * admission policies among them are in force: a policy is enforced only once the API server has loaded it, so a
 * dry-run request the policy must refuse is repeated (bounded) until it is refused.
 */
export async function applyAsPlatform(plane: KubernetesControlPlane, objects: any[], probe?: { object: any; client: ApiClient }): Promise<void> {
  for (const o of objects) await plane.admin.apply(o, 'cdk-openclaw-platform');
  if (probe) {
    await waitFor('the admission policy to be in force', 30_000, async () => {
      const answer = await probe.client.applyRaw(probe.object, { dryRun: true });
      return answer.status === 422 || answer.status === 403 ? answer : undefined;
    }, 250);
  }
}

/** Waits (bounded) until `check` answers, naming what it waited for and adding the control plane's log tails. */
export async function eventually<T>(
  plane: KubernetesControlPlane, what: string, timeoutMs: number, check: () => Promise<T | undefined | false>,
): Promise<T> {
  try {
    return await waitFor(what, timeoutMs, check, 250);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${plane.logTails()}`);
  }
}

function randomToken(): string {
  return randomBytes(24).toString('hex');
}

function plainGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A one-day CA, the API server's certificate (127.0.0.1, localhost, the in-cluster names) and the service-account key pair. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2',
    '-subj', '/CN=cdk-openclaw-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  fs.writeFileSync(path.join(dir, 'apiserver.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:172.20.0.1',
    '',
  ].join('\n'));
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver');
  run('x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'apiserver.ext', '-out', 'apiserver.crt');
  run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key');
  run('pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}
