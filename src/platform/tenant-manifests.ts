/**
 * The tenant renderer: one pure function from a tenant spec and the platform's settings to every Kubernetes object
 * the tenant needs. The construct applies its output at deploy time; the self-service provisioning function applies
 * the same output at run time. No aws-cdk-lib import: values may be CDK tokens at synth time (they are only copied
 * into strings), plain strings at run time.
 */
import { POD_NODE_PATH, POD_RESOLVER_PATH, podResolverSource } from './pod-secret-resolver';
import {
  GatewayResources, SYSTEM_NAMESPACE, SpecError, TenantSpec, gatewayTokenSecretName, mebibytes, tenantNamespace,
  validateTenantSpec,
} from './tenant-spec';

/** The gateway's port (OpenClaw's default). */
export const GATEWAY_PORT = 18789;

/** Name of the ServiceAccount, Deployment and Service of every tenant. */
export const GATEWAY_NAME = 'openclaw';

/** The exec provider alias of the pod resolver in openclaw.json. */
export const RESOLVER_PROVIDER = 'aws-secrets-manager';

/** The label every tenant's gateway pods carry (the network policies and the router select on it). */
export const GATEWAY_POD_LABELS = { 'app.kubernetes.io/name': 'openclaw', 'app.kubernetes.io/component': 'gateway' };

/** Where the init and gateway containers mount the tenant's `openclaw-config` ConfigMap (read-only). */
export const CONFIG_DIR = '/etc/openclaw';

/** The ConfigMap key of the gateway's shared AWS config file (see {@link bedrockAwsConfig}). */
export const AWS_CONFIG_KEY = 'aws-config';

/** The gateway's `AWS_CONFIG_FILE`. */
export const AWS_CONFIG_PATH = `${CONFIG_DIR}/${AWS_CONFIG_KEY}`;

/** The address of the EKS Pod Identity agent on every node. */
export const POD_IDENTITY_AGENT_CIDR = '169.254.170.23/32';

/** Egress to DNS: the CoreDNS pods (node groups), or the cluster DNS address that EKS Auto Mode answers on each node. */
export function dnsEgressRule(clusterDnsIp: string): any {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
      { ipBlock: { cidr: `${clusterDnsIp}/32` } },
    ],
    ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
  };
}

/** Settings the platform shares among its tenants. */
export interface PlatformSpec {
  /** The gateway image, `repository:tag@sha256:digest` (or without the digest). */
  readonly image: string;
  /** The gateway container's command. */
  readonly command: string[];
  /** The AWS region (Bedrock and Secrets Manager endpoints). */
  readonly region: string;
  /** The VPC's CIDR block: tenants never send to it except through the allowlisted rules. */
  readonly vpcCidr: string;
  /** The cluster's service CIDR block: tenants never send to a service address except the cluster DNS. */
  readonly serviceCidr: string;
  /** The cluster DNS service address (the tenth address of the service range). */
  readonly clusterDnsIp: string;
  /** The public origin browsers load tenants from, e.g. `https://openclaw.example.com`. */
  readonly publicOrigin: string;
  /** Labels of the router pods in the system namespace: the only source allowed into a tenant. */
  readonly routerPodLabels: Record<string, string>;
  /** The StorageClass of tenant volumes (EFS, one access point per volume). */
  readonly storageClassName: string;
  /** The size requested for a tenant volume (EFS does not enforce it). */
  readonly storageSize: string;
  /** The gateway container's requests and limits. */
  readonly gatewayResources: GatewayResources;
  /** openclaw.json without its tenant-specific keys (rendered from `OpenClawConfig` by the construct). */
  readonly openclawConfig: any;
  /** The role tenants' gateways assume, with their namespace as session name, to call Bedrock. */
  readonly bedrockRoleArn: string;
  /** Secrets Manager endpoint override for the resolver (tests, or FIPS endpoints). */
  readonly secretsManagerEndpoint?: string;
}

/** A tenant's rendered objects and the names the AWS side needs. */
export interface RenderedTenant {
  readonly tenant: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly gatewayTokenSecretName: string;
  /** In-cluster address of the tenant's gateway, as the router reaches it. */
  readonly serviceHost: string;
  /** Every Kubernetes object of the tenant, in apply order (the namespace first). */
  readonly objects: any[];
}

/** Every Kubernetes object of one tenant. Throws a `SpecError` on bad input. */
export function renderTenant(spec: TenantSpec, platform: PlatformSpec): RenderedTenant {
  validateTenantSpec(spec, platform.gatewayResources);
  const t = spec.name;
  const ns = tenantNamespace(t);
  const labels = { 'app.kubernetes.io/part-of': 'openclaw', 'openclaw.ai/tenant': t };
  const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace: ns, labels: { ...labels, ...extra } });
  const podLabels = { ...labels, ...GATEWAY_POD_LABELS };
  const secretName = gatewayTokenSecretName(t);
  const res = platform.gatewayResources;

  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        ...labels,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };

  const quota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta('tenant-quota'),
    spec: {
      hard: {
        'requests.cpu': spec.cpu,
        'limits.cpu': spec.cpu,
        'requests.memory': spec.memory,
        'limits.memory': spec.memory,
        'pods': String(spec.pods),
        'persistentvolumeclaims': '2',
        'services': '2',
        // Tenants reach the internet only through the platform's router: no load balancer or node port of their own.
        'services.loadbalancers': '0',
        'services.nodeports': '0',
      },
    },
  };

  const limits = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta('tenant-limits'),
    spec: {
      limits: [{
        type: 'Container',
        default: { cpu: res.cpuLimit, memory: res.memoryLimit },
        defaultRequest: { cpu: res.cpuRequest, memory: res.memoryRequest },
        max: { cpu: spec.cpu, memory: spec.memory },
      }],
    },
  };

  const policies = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('gateway-ingress-from-router'),
      spec: {
        podSelector: { matchLabels: GATEWAY_POD_LABELS },
        policyTypes: ['Ingress'],
        ingress: [{
          from: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': SYSTEM_NAMESPACE } },
            podSelector: { matchLabels: platform.routerPodLabels },
          }],
          ports: [{ protocol: 'TCP', port: GATEWAY_PORT }],
        }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('gateway-egress'),
      spec: {
        podSelector: { matchLabels: GATEWAY_POD_LABELS },
        policyTypes: ['Egress'],
        egress: [
          dnsEgressRule(platform.clusterDnsIp),
          {
            to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_CIDR } }],
            ports: [{ protocol: 'TCP', port: 80 }],
          },
          {
            // HTTPS to AWS APIs and model providers on the internet; never into the VPC (other tenants, nodes, the
            // cluster API's network interfaces), never to a service address (the kubernetes service, webhooks) and
            // never to link-local addresses (the instance metadata service among them).
            to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [platform.vpcCidr, platform.serviceCidr, '169.254.0.0/16'] } }],
            ports: [{ protocol: 'TCP', port: 443 }],
          },
        ],
      },
    },
  ];

  const serviceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(GATEWAY_NAME),
    // Pod Identity projects its own token (audience pods.eks.amazonaws.com); the gateway never calls the cluster API.
    automountServiceAccountToken: false,
  };

  const config = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('openclaw-config'),
    data: {
      'openclaw.json': JSON.stringify(tenantConfig(spec, platform), null, 2),
      'openclaw-secret-resolver': podResolverSource(),
      [AWS_CONFIG_KEY]: bedrockAwsConfig(ns, platform.bedrockRoleArn),
    },
  };

  const pvc = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta('openclaw-state'),
    spec: {
      accessModes: ['ReadWriteMany'],
      storageClassName: platform.storageClassName,
      resources: { requests: { storage: platform.storageSize } },
    },
  };

  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(GATEWAY_NAME, GATEWAY_POD_LABELS),
    spec: {
      replicas: 1,
      // One gateway owns the state directory at a time.
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      selector: { matchLabels: { ...GATEWAY_POD_LABELS, 'openclaw.ai/tenant': t } },
      template: {
        metadata: { labels: podLabels },
        spec: gatewayPodSpec(platform),
      },
    },
  };

  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(GATEWAY_NAME),
    spec: {
      type: 'ClusterIP',
      selector: { ...GATEWAY_POD_LABELS, 'openclaw.ai/tenant': t },
      ports: [{ name: 'gateway', protocol: 'TCP', port: GATEWAY_PORT, targetPort: 'gateway' }],
    },
  };

  // One replica: `minAvailable: 1` would refuse every eviction and block node drains forever. `maxUnavailable: 1`
  // routes voluntary disruptions through the eviction API (graceful shutdown, one pod at a time) without blocking
  // them, and an unhealthy pod never holds a drain up.
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(GATEWAY_NAME),
    spec: {
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: { ...GATEWAY_POD_LABELS, 'openclaw.ai/tenant': t } },
    },
  };

  return {
    tenant: t,
    namespace: ns,
    serviceAccount: GATEWAY_NAME,
    gatewayTokenSecretName: secretName,
    serviceHost: `${GATEWAY_NAME}.${ns}.svc.cluster.local`,
    // A deep copy: no object is shared between documents (or between tenants).
    objects: JSON.parse(JSON.stringify([namespace, quota, limits, ...policies, serviceAccount, config, pvc, deployment, service, pdb])),
  };
}

/** openclaw.json of one tenant: the platform's base with the tenant's path, origin, token and resolver. */
export function tenantConfig(spec: TenantSpec, platform: PlatformSpec): any {
  const base = JSON.parse(JSON.stringify(platform.openclawConfig ?? {}));
  const gateway = base.gateway ?? {};
  const resolverArgs = ['--allow-prefix', `openclaw/${spec.name}/`, '--region', platform.region];
  if (platform.secretsManagerEndpoint !== undefined) resolverArgs.push('--endpoint', platform.secretsManagerEndpoint);
  return {
    ...base,
    gateway: {
      ...gateway,
      mode: 'local',
      port: GATEWAY_PORT,
      bind: 'lan',
      auth: {
        ...gateway.auth,
        mode: 'token',
        token: { source: 'exec', provider: RESOLVER_PROVIDER, id: gatewayTokenSecretName(spec.name) },
      },
      // The router's pods (VPC addresses) are the only proxy in front of the gateway.
      trustedProxies: [platform.vpcCidr],
      controlUi: { ...gateway.controlUi, basePath: `/t/${spec.name}`, allowedOrigins: [platform.publicOrigin] },
    },
    secrets: {
      ...base.secrets,
      providers: {
        ...base.secrets?.providers,
        [RESOLVER_PROVIDER]: {
          source: 'exec',
          command: POD_RESOLVER_PATH,
          args: resolverArgs,
          timeoutMs: 10000,
          jsonOnly: true,
          passEnv: ['AWS_REGION', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'],
          trustedDirs: ['/opt/openclaw/bin'],
        },
      },
    },
  };
}

// The characters and length STS allows in a role session name.
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
// An IAM role ARN in any partition, with or without a path.
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
// A CDK token string (`${Token[...]}`, possibly inside a joined ARN); no aws-cdk-lib here, see the file comment.
const TOKEN = /\$\{Token\[/;

/**
 * The gateway's shared AWS config file: its default profile assumes the Bedrock role with the tenant's namespace as
 * session name, from the Pod Identity credentials (`credential_source = EcsContainer`: the SDK reads
 * AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). Throws a `SpecError` on bad input.
 */
export function bedrockAwsConfig(namespace: string, bedrockRoleArn: string): string {
  if (typeof namespace !== 'string' || !ROLE_SESSION_NAME.test(namespace)) {
    throw new SpecError('role session name (tenant namespace)', namespace, "2 to 64 letters, digits or '_+=,.@-'");
  }
  // A CDK token (synth time) is taken unchecked but must stay on one line; CloudFormation resolves it, so the
  // provisioner's spec (run time) holds a literal, which must be a role ARN.
  const token = typeof bedrockRoleArn === 'string' && TOKEN.test(bedrockRoleArn) && !/\s/.test(bedrockRoleArn);
  if (!token && (typeof bedrockRoleArn !== 'string' || !ROLE_ARN.test(bedrockRoleArn))) {
    throw new SpecError('bedrockRoleArn', bedrockRoleArn, 'an IAM role ARN such as arn:aws:iam::123456789012:role/openclaw-bedrock');
  }
  return [
    '[default]',
    `role_arn = ${bedrockRoleArn}`,
    `role_session_name = ${namespace}`,
    'credential_source = EcsContainer',
    '',
  ].join('\n');
}

const STATE_DIR = '/home/node/.openclaw';

// Run once per pod start by the init container (same image, same user): install the config into the state directory
// (the gateway may write next to it) and the resolver as a 0500 file owned by the gateway user, as OpenClaw requires
// of an exec provider's command.
const PREPARE = [
  "const fs = require('fs');",
  `fs.mkdirSync('${STATE_DIR}/workspace', { recursive: true, mode: 0o700 });`,
  `fs.copyFileSync('${CONFIG_DIR}/openclaw.json', '${STATE_DIR}/openclaw.json');`,
  `fs.chmodSync('${STATE_DIR}/openclaw.json', 0o600);`,
  `fs.rmSync('${POD_RESOLVER_PATH}', { force: true });`,
  `fs.copyFileSync('${CONFIG_DIR}/openclaw-secret-resolver', '${POD_RESOLVER_PATH}');`,
  `fs.chmodSync('${POD_RESOLVER_PATH}', 0o500);`,
].join(' ');

function gatewayPodSpec(platform: PlatformSpec): any {
  const res = platform.gatewayResources;
  const containerSecurity = {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const mounts = {
    state: { name: 'state', mountPath: STATE_DIR },
    tmp: { name: 'tmp', mountPath: '/tmp' },
    resolver: { name: 'resolver', mountPath: '/opt/openclaw/bin' },
    config: { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
  };
  // V8 sizes its heap from the node's memory, not the container limit: cap it at three quarters of the limit.
  const heapMiB = Math.floor(mebibytes(res.memoryLimit) * 0.75);
  return {
    serviceAccountName: GATEWAY_NAME,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 30,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    },
    initContainers: [{
      name: 'prepare',
      image: platform.image,
      imagePullPolicy: 'IfNotPresent',
      command: [POD_NODE_PATH, '-e', PREPARE],
      securityContext: containerSecurity,
      resources: {
        requests: { cpu: '50m', memory: '64Mi' },
        limits: { cpu: '200m', memory: '128Mi' },
      },
      volumeMounts: [mounts.state, mounts.resolver, mounts.config],
    }],
    containers: [{
      name: 'gateway',
      image: platform.image,
      imagePullPolicy: 'IfNotPresent',
      command: platform.command,
      ports: [{ name: 'gateway', containerPort: GATEWAY_PORT, protocol: 'TCP' }],
      env: [
        { name: 'HOME', value: '/home/node' },
        { name: 'NODE_ENV', value: 'production' },
        { name: 'NODE_OPTIONS', value: `--max-old-space-size=${heapMiB}` },
        { name: 'OPENCLAW_STATE_DIR', value: STATE_DIR },
        { name: 'OPENCLAW_CONFIG_PATH', value: `${STATE_DIR}/openclaw.json` },
        { name: 'AWS_REGION', value: platform.region },
        // The SDK's default chain reads the profile `default` of AWS_CONFIG_FILE: the Bedrock role, assumed with the
        // Pod Identity credentials (AWS_PROFILE also lets OpenClaw's Bedrock credential check pass). The secret
        // resolver gets neither variable and keeps using the tenant role.
        { name: 'AWS_CONFIG_FILE', value: AWS_CONFIG_PATH },
        { name: 'AWS_PROFILE', value: 'default' },
      ],
      securityContext: containerSecurity,
      resources: {
        requests: { cpu: res.cpuRequest, memory: res.memoryRequest },
        limits: { cpu: res.cpuLimit, memory: res.memoryLimit },
      },
      startupProbe: { httpGet: { path: '/healthz', port: 'gateway' }, periodSeconds: 5, failureThreshold: 60 },
      livenessProbe: { httpGet: { path: '/healthz', port: 'gateway' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
      readinessProbe: { httpGet: { path: '/readyz', port: 'gateway' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      volumeMounts: [mounts.state, mounts.tmp, { ...mounts.resolver, readOnly: true }, mounts.config],
    }],
    volumes: [
      { name: 'state', persistentVolumeClaim: { claimName: 'openclaw-state' } },
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'resolver', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      { name: 'config', configMap: { name: 'openclaw-config' } },
    ],
  };
}
