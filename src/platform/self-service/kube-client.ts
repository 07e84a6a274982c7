/**
 * A minimal Kubernetes API client for the self-service handlers: server-side apply, get and delete of the kinds a
 * tenant is made of, over HTTPS with the cluster's CA and an EKS bearer token. Node.js built-ins only (the handlers
 * bundle it); no kubeconfig, no discovery: the REST path of every kind it handles is in a static table.
 * @internal
 */
import * as http from 'http';
import * as https from 'https';
import { ENV, FIELD_MANAGER, Kube, KubeError, KubeRef } from './contract';
import { eksBearerToken } from './eks-token';

/**
 * A kind the client handles and where the API serves it.
 * @internal
 */
export interface KubeResource {
  /** The API group (`''` for the core group). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The REST path segment (the plural resource name). */
  readonly resource: string;
  /** False for cluster-scoped kinds. */
  readonly namespaced: boolean;
}

/**
 * Every kind the client handles: exactly the kinds the tenant renderer emits (`renderTenant`), the gateway's
 * `apps/v1` Deployment among them (the handlers also patch it to rotate the token and to scale it down). The
 * provisioner's ClusterRole and admission policy are derived from the same table.
 * @internal
 */
export const KUBE_RESOURCES: readonly KubeResource[] = [
  { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'ResourceQuota', resource: 'resourcequotas', namespaced: true },
  { group: '', version: 'v1', kind: 'LimitRange', resource: 'limitranges', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', resource: 'networkpolicies', namespaced: true },
  { group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', resource: 'services', namespaced: true },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', namespaced: true },
];

/** `v1`, `apps/v1`... */
const apiVersionOf = (r: KubeResource) => (r.group ? `${r.group}/${r.version}` : r.version);

const BY_API_VERSION_AND_KIND = new Map(KUBE_RESOURCES.map((r) => [`${apiVersionOf(r)} ${r.kind}`, r]));

/**
 * The resource of an (apiVersion, kind) pair; throws an Error naming the handled kinds for any other.
 * @internal
 */
export function kubeResource(apiVersion: string, kind: string): KubeResource {
  const found = BY_API_VERSION_AND_KIND.get(`${apiVersion} ${kind}`);
  if (!found) {
    const known = KUBE_RESOURCES.map((r) => `${apiVersionOf(r)} ${r.kind}`).join(', ');
    throw new Error(`The cluster client does not handle apiVersion '${apiVersion}' kind '${kind}'; it handles only: ${known}`);
  }
  return found;
}

/** How long a bearer token is used before a new one is made (the cluster accepts one for 15 minutes). */
export const TOKEN_REFRESH_MS = 10 * 60 * 1000;
/** The default deadline of one API call. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Larger answers are refused (a ConfigMap holds at most 1 MiB). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FIELD_MANAGER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Reasons for statuses whose answer carries no Kubernetes Status object. */
const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Network errors worth another try (the connection, not the request, failed). */
const TRANSIENT_NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A call that got no HTTP answer (status 0): a timeout or a network error. Retryable unless the connection itself
 * was refused for good (a TLS certificate the cluster CA did not sign, for instance).
 * @internal
 */
export class KubeTransportError extends KubeError {
  constructor(reason: string, message: string, private readonly transient: boolean) {
    super(0, reason, message);
  }
  override get retryable(): boolean {
    return this.transient;
  }
}

/**
 * Settings of a {@link KubeClient}.
 * @internal
 */
export interface KubeClientOptions {
  /** The API server's URL: `https://…`, or `http://` on a loopback address (tests only). */
  readonly endpoint: string;
  /** The cluster CA certificate (PEM). Required for an https endpoint: the client trusts nothing else. */
  readonly ca?: string;
  /** Makes a bearer token; called again once the current one is {@link TOKEN_REFRESH_MS} old. */
  readonly token: () => string;
  /** The deadline of one API call, in milliseconds. @default 10000 */
  readonly timeoutMs?: number;
  /** Milliseconds since the epoch (tests inject their own). @default Date.now */
  readonly clock?: () => number;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * The {@link Kube} of the self-service handlers: server-side apply (`PATCH …?fieldManager=…&force=true` with an
 * `application/apply-patch+yaml` JSON body), get (undefined on 404) and delete (background propagation, false on 404)
 * of the kinds in {@link KUBE_RESOURCES}. Failures are {@link KubeError}s naming the verb, kind, object and the API's
 * reason; their messages never carry the bearer token or an answer's body (only a Status object's own message).
 * @internal
 */
export class KubeClient implements Kube {
  /**
   * A client configured from the handler's environment: `CLUSTER_ENDPOINT`, `CLUSTER_CA` (base64 PEM, as EKS
   * returns it), `CLUSTER_NAME` and `AWS_REGION`, with tokens signed by the function's own credentials
   * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, read each time a token is made).
   */
  public static fromEnvironment(
    env: Record<string, string | undefined> = process.env,
    options: { readonly timeoutMs?: number; readonly clock?: () => number } = {},
  ): KubeClient {
    const need = (name: string) => {
      const value = env[name];
      if (!value) throw new Error(`The environment variable ${name} must be set for the cluster client`);
      return value;
    };
    const endpoint = need(ENV.CLUSTER_ENDPOINT);
    const clusterName = need(ENV.CLUSTER_NAME);
    const region = need('AWS_REGION');
    const caValue = env[ENV.CLUSTER_CA];
    const ca = caValue ? decodeCa(caValue) : undefined;
    const token = () => eksBearerToken({
      clusterName,
      region,
      credentials: {
        accessKeyId: need('AWS_ACCESS_KEY_ID'),
        secretAccessKey: need('AWS_SECRET_ACCESS_KEY'),
        sessionToken: env.AWS_SESSION_TOKEN || undefined,
      },
      now: options.clock ? new Date(options.clock()) : undefined,
    });
    return new KubeClient({ endpoint, ca, token, timeoutMs: options.timeoutMs, clock: options.clock });
  }

  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private cached?: { readonly token: string; readonly at: number };

  constructor(private readonly options: KubeClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new Error(`The cluster endpoint must be an https URL such as 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', got '${options.endpoint}'`);
    }
    if (url.protocol === 'https:') {
      if (!options.ca || !options.ca.includes('-----BEGIN CERTIFICATE-----')) {
        throw new Error('The cluster CA (a PEM certificate) is required for an https cluster endpoint');
      }
      this.agent = new https.Agent({ ca: options.ca, keepAlive: false });
    } else if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) {
      this.agent = new http.Agent({ keepAlive: false });
    } else {
      throw new Error(`The cluster endpoint must use https (http is allowed on loopback addresses only, for tests), got '${options.endpoint}'`);
    }
    this.base = new URL(`${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 300_000) {
      throw new Error(`timeoutMs must be an integer number of milliseconds from 1 to 300000, got ${timeoutMs}`);
    }
    this.timeoutMs = timeoutMs;
    this.clock = options.clock ?? Date.now;
  }

  public async apply(object: any, options: { readonly fieldManager?: string } = {}): Promise<void> {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      throw new Error('apply needs a Kubernetes object (with apiVersion, kind and metadata.name)');
    }
    const ref: KubeRef = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
    };
    const fieldManager = options.fieldManager ?? FIELD_MANAGER;
    if (!FIELD_MANAGER_NAME.test(fieldManager)) {
      throw new Error(`fieldManager must be 1-128 letters, digits, '.', '_', ':' or '-', got '${fieldManager}'`);
    }
    const path = this.pathOf(ref);
    const query = new URLSearchParams({ fieldManager, force: 'true' });
    const answer = await this.call('apply', ref, 'PATCH', `${path}?${query}`, JSON.stringify(object), 'application/apply-patch+yaml');
    if (answer.status !== 200 && answer.status !== 201) throw this.failure('apply', ref, answer);
  }

  public async get(ref: KubeRef): Promise<any | undefined> {
    const answer = await this.call('get', ref, 'GET', this.pathOf(ref));
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.failure('get', ref, answer);
    try {
      return JSON.parse(answer.body);
    } catch {
      throw new KubeError(answer.status, 'InvalidResponse', `get ${describe(ref)}: the API answered with something other than JSON`);
    }
  }

  public async delete(ref: KubeRef): Promise<boolean> {
    const answer = await this.call('delete', ref, 'DELETE', `${this.pathOf(ref)}?propagationPolicy=Background`);
    if (answer.status === 404) return false;
    if (answer.status !== 200 && answer.status !== 202) throw this.failure('delete', ref, answer);
    return true;
  }

  /** The REST path of one object; throws on an unknown kind or a name the API would not accept. */
  private pathOf(ref: KubeRef): string {
    const r = kubeResource(ref.apiVersion, ref.kind);
    if (typeof ref.name !== 'string' || !DNS_SUBDOMAIN.test(ref.name)) {
      throw new Error(`${ref.kind} name must be a DNS subdomain (lower-case letters, digits, '-' and '.'), got '${ref.name}'`);
    }
    const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    if (!r.namespaced) {
      if (ref.namespace !== undefined) throw new Error(`${ref.kind} is cluster-scoped: give no namespace, got '${ref.namespace}'`);
      return `${this.base.pathname.replace(/\/$/, '')}${prefix}/${r.resource}/${ref.name}`;
    }
    if (typeof ref.namespace !== 'string' || !DNS_LABEL.test(ref.namespace)) {
      throw new Error(`${ref.kind} '${ref.name}' needs a namespace (a DNS label), got '${ref.namespace}'`);
    }
    return `${this.base.pathname.replace(/\/$/, '')}${prefix}/namespaces/${ref.namespace}/${r.resource}/${ref.name}`;
  }

  /** The current bearer token, made anew once it is {@link TOKEN_REFRESH_MS} old. */
  private bearer(): string {
    const now = this.clock();
    if (!this.cached || now - this.cached.at >= TOKEN_REFRESH_MS || now < this.cached.at) {
      this.cached = { token: this.options.token(), at: now };
    }
    return this.cached.token;
  }

  private call(verb: string, ref: KubeRef, method: string, path: string, body?: string, contentType?: string): Promise<Answer> {
    const token = this.bearer();
    const headers: Record<string, string> = {
      'Accept': 'application/json',
      'Authorization': `Bearer ${token}`,
      'User-Agent': 'openclaw-self-service',
    };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const transport = this.base.protocol === 'https:' ? https : http;
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      const fail = (e: KubeError) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        reject(e);
      };
      const req = transport.request({
        protocol: this.base.protocol,
        hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: this.base.port || undefined,
        path,
        method,
        headers,
        agent: this.agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            fail(new KubeTransportError('ResponseTooLarge', `${verb} ${describe(ref)}: the answer exceeded ${MAX_RESPONSE_BYTES} bytes`, false));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', () => fail(new KubeTransportError('NetworkError', `${verb} ${describe(ref)}: the connection failed while reading the answer`, true)));
      });
      const deadline = setTimeout(() => {
        fail(new KubeTransportError('Timeout', `${verb} ${describe(ref)}: no answer from the cluster API within ${this.timeoutMs} ms`, true));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        const code = typeof e.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(e.code) ? e.code : 'UNKNOWN';
        const transient = TRANSIENT_NETWORK_ERRORS.has(code);
        fail(new KubeTransportError(transient ? 'NetworkError' : 'ConnectionFailed', `${verb} ${describe(ref)}: the connection to the cluster API failed (${code})`, transient));
      });
      req.end(body);
    });
  }

  /** The KubeError of a failed answer: the Status object's reason and message, never the token or a raw body. */
  private failure(verb: string, ref: KubeRef, answer: Answer): KubeError {
    let status: any;
    try {
      status = JSON.parse(answer.body);
    } catch {
      status = undefined;
    }
    const isStatus = status !== null && typeof status === 'object' && status.kind === 'Status';
    const reason = isStatus && typeof status.reason === 'string' && /^[A-Za-z]{1,64}$/.test(status.reason)
      ? status.reason
      : STATUS_REASONS[answer.status] ?? `HTTP${answer.status}`;
    let detail = isStatus && typeof status.message === 'string' ? status.message : '';
    if (detail.length > 1000) detail = `${detail.slice(0, 1000)}…`;
    let message = `${verb} ${describe(ref)} failed: ${answer.status} ${reason}${detail ? `: ${detail}` : ''}`;
    const token = this.cached?.token;
    if (token) message = message.split(token).join('[token]');
    return new KubeError(answer.status, reason, message);
  }
}

/** `Deployment openclaw-acme/openclaw`, `Namespace openclaw-acme`. */
function describe(ref: KubeRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** The PEM of `CLUSTER_CA`: base64 of the PEM as EKS returns it (a PEM itself is accepted too). */
function decodeCa(value: string): string {
  const pem = value.includes('-----BEGIN CERTIFICATE-----') ? value : Buffer.from(value, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`The environment variable ${ENV.CLUSTER_CA} must be the base64 of the cluster CA's PEM certificate, as EKS returns it`);
  }
  return pem;
}
