/**
 * The platform's router: one small nginx deployment in `openclaw-system` that sends `/t/<tenant>/…` (HTTP and
 * WebSocket) to `openclaw.openclaw-<tenant>.svc.cluster.local:18789`. Its configuration names no tenant, so it never
 * changes when tenants come and go, and the load balancer in front of it has one target group whatever the number
 * of tenants. CDK-free, like the tenant renderer.
 */
import { GATEWAY_NAME, GATEWAY_PORT, GATEWAY_POD_LABELS, dnsEgressRule } from './tenant-manifests';
import { MAX_TENANT_NAME_LENGTH, NAMESPACE_PREFIX, SYSTEM_NAMESPACE } from './tenant-spec';

/** The router's name (Deployment, Service, PodDisruptionBudget). */
export const ROUTER_NAME = 'openclaw-router';

/** The router pods' labels: the tenants' ingress policies admit exactly these pods. */
export const ROUTER_POD_LABELS = { 'app.kubernetes.io/name': ROUTER_NAME, 'app.kubernetes.io/component': 'router' };

/** The port the router listens on (unprivileged). */
export const ROUTER_PORT = 8080;

/** The router's settings. */
export interface RouterSpec {
  /** The nginx image (an unprivileged build), `repository:tag[@digest]`. */
  readonly image: string;
  /** The VPC's CIDR block: the load balancer's addresses, the only source allowed into the router. */
  readonly vpcCidr: string;
  /** How many router pods (spread over zones). */
  readonly replicas: number;
  /** The cluster DNS service address, the router's resolver. */
  readonly clusterDnsIp: string;
}

const TENANT = `[a-z0-9](?:[a-z0-9-]{0,${MAX_TENANT_NAME_LENGTH - 2}}[a-z0-9])?`;

/** The nginx configuration: constant, whatever the tenants. */
export function routerConfig(clusterDnsIp: string): string {
  return `worker_processes auto;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;
events { worker_connections 4096; }
http {
  client_body_temp_path /tmp/client_body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  server_tokens off;
  # Paths only: the query string is never logged (tokens travel in the URL fragment, which browsers never send).
  log_format openclaw '$remote_addr "$request_method $uri $server_protocol" $status $body_bytes_sent $request_time "$http_user_agent"';
  access_log /dev/stdout openclaw;
  # Tenant services are looked up when a request arrives, through the cluster DNS (re-resolved every 10 seconds).
  resolver ${clusterDnsIp} valid=10s ipv6=off;
  resolver_timeout 5s;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen ${ROUTER_PORT};
    # Redirects stay relative: the browser keeps CloudFront's scheme, host and port.
    absolute_redirect off;
    location = /healthz { access_log off; default_type text/plain; return 200 "ok"; }
    location ~ ^/t/(${TENANT})$ { return 308 /t/$1/; }
    location ~ ^/t/(${TENANT})/ {
      set $tenant $1;
      proxy_pass http://${GATEWAY_NAME}.${NAMESPACE_PREFIX}$tenant.svc.cluster.local:${GATEWAY_PORT};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      # Every tenant shares the origin: no gateway may widen a service worker's scope beyond its own /t/<tenant>/.
      proxy_hide_header Service-Worker-Allowed;
      client_max_body_size 25m;
    }
    location / { return 404; }
  }
}
`;
}

/** Every Kubernetes object of the router, in apply order (its namespace is created with the cluster-wide objects). */
export function renderRouter(spec: RouterSpec): any[] {
  const ns = SYSTEM_NAMESPACE;
  const labels = { 'app.kubernetes.io/part-of': 'openclaw' };
  const meta = (name: string) => ({ name, namespace: ns, labels: { ...labels, ...ROUTER_POD_LABELS } });
  const policies = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace: ns, labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('router-ingress-from-load-balancer'),
      spec: {
        podSelector: { matchLabels: ROUTER_POD_LABELS },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: spec.vpcCidr } }], ports: [{ protocol: 'TCP', port: ROUTER_PORT }] }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('router-egress'),
      spec: {
        podSelector: { matchLabels: ROUTER_POD_LABELS },
        policyTypes: ['Egress'],
        egress: [
          dnsEgressRule(spec.clusterDnsIp),
          {
            to: [{
              namespaceSelector: { matchExpressions: [{ key: 'openclaw.ai/tenant', operator: 'Exists' }] },
              podSelector: { matchLabels: GATEWAY_POD_LABELS },
            }],
            ports: [{ protocol: 'TCP', port: GATEWAY_PORT }],
          },
        ],
      },
    },
  ];
  const security = {
    runAsNonRoot: true,
    runAsUser: 10101,
    runAsGroup: 10101,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const selector = { ...ROUTER_POD_LABELS };
  const objects = [
    ...policies,
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(ROUTER_NAME),
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('openclaw-router-config'),
      data: { 'nginx.conf': routerConfig(spec.clusterDnsIp) },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(ROUTER_NAME),
      spec: {
        replicas: spec.replicas,
        revisionHistoryLimit: 3,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...labels, ...ROUTER_POD_LABELS } },
          spec: {
            serviceAccountName: ROUTER_NAME,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: 10101, runAsGroup: 10101, fsGroup: 10101, seccompProfile: { type: 'RuntimeDefault' } },
            topologySpreadConstraints: [{
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            }],
            containers: [{
              name: 'nginx',
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: ROUTER_PORT, protocol: 'TCP' }],
              securityContext: security,
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              volumeMounts: [
                { name: 'config', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: 'openclaw-router-config' } },
              { name: 'tmp', emptyDir: { sizeLimit: '512Mi' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(ROUTER_NAME),
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', protocol: 'TCP', port: ROUTER_PORT, targetPort: 'http' }] },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(ROUTER_NAME),
      spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: selector } },
    },
  ];
  return JSON.parse(JSON.stringify(objects));
}
