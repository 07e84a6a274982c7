import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { samplePlatform, sampleTenant } from '../../oracles/lib/tenant-sample';
import { validateExecProvider } from '../../src/openclaw/private/secrets-render';
import { podResolverSource } from '../../src/platform/pod-secret-resolver';
import { AWS_CONFIG_PATH, GATEWAY_PORT, PlatformSpec, RenderedTenant, bedrockAwsConfig, renderTenant } from '../../src/platform/tenant-manifests';
import { SpecError, TenantSpec, gatewayTokenSecretName, parseQuantity } from '../../src/platform/tenant-spec';

const platform = samplePlatform();
const acme = renderTenant(sampleTenant('acme'), platform);
const find = (r: RenderedTenant, kind: string, name?: string) => {
  const found = r.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0];
};
const podSpec = (r: RenderedTenant) => find(r, 'Deployment').spec.template.spec;
const gateway = (r: RenderedTenant) => podSpec(r).containers[0];
const openclawJson = (r: RenderedTenant) => JSON.parse(find(r, 'ConfigMap').data['openclaw.json']);
const policy = (r: RenderedTenant, name: string) => find(r, 'NetworkPolicy', name).spec;

describe('the tenant renderer', () => {
  test('output for one tenant, pinned as readable YAML (the resolver script abbreviated; it has its own tests)', () => {
    const objects = JSON.parse(JSON.stringify(acme.objects));
    const cm = objects.find((o: any) => o.kind === 'ConfigMap');
    expect(cm.data['openclaw-secret-resolver']).toBe(podResolverSource());
    cm.data['openclaw-secret-resolver'] = '<the pod secret resolver script>';
    expect(`\n${objects.map((o: any) => YAML.stringify(o, { lineWidth: 0 })).join('---\n')}`).toMatchSnapshot();
  });

  test('one namespace per tenant, openclaw-<tenant>, enforcing Pod Security restricted', () => {
    expect(acme.namespace).toBe('openclaw-acme');
    const ns = find(acme, 'Namespace');
    expect(ns.metadata.name).toBe('openclaw-acme');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    expect(acme.objects[0]).toBe(ns); // applied first
    for (const o of acme.objects.slice(1)) expect(o.metadata.namespace).toBe('openclaw-acme');
  });

  test("a ResourceQuota with seed 001's defaults (4 CPU, 8 Gi, 10 pods) and no load balancer or node port of its own", () => {
    expect(find(acme, 'ResourceQuota').spec.hard).toEqual({
      'requests.cpu': '4',
      'limits.cpu': '4',
      'requests.memory': '8Gi',
      'limits.memory': '8Gi',
      'pods': '10',
      'persistentvolumeclaims': '2',
      'services': '2',
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
    const big = renderTenant({ name: 'big', cpu: '16', memory: '64Gi', pods: 40, budgetUsd: 500 }, platform);
    expect(find(big, 'ResourceQuota').spec.hard).toMatchObject({ 'requests.cpu': '16', 'limits.memory': '64Gi', 'pods': '40' });
  });

  test('a LimitRange gives containers without resources the gateway defaults and caps them at the quota', () => {
    expect(find(acme, 'LimitRange').spec.limits).toEqual([{
      type: 'Container',
      default: { cpu: '2', memory: '2Gi' },
      defaultRequest: { cpu: '500m', memory: '1Gi' },
      max: { cpu: '4', memory: '8Gi' },
    }]);
  });

  test('network: default deny both ways for every pod of the namespace', () => {
    expect(policy(acme, 'default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  test("network: ingress only from the router's pods in openclaw-system, only on the gateway port", () => {
    expect(policy(acme, 'gateway-ingress-from-router').ingress).toEqual([{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openclaw-system' } },
        podSelector: { matchLabels: platform.routerPodLabels },
      }],
      ports: [{ protocol: 'TCP', port: 18789 }],
    }]);
  });

  test('network: egress only DNS to kube-dns, the Pod Identity agent, and HTTPS outside the VPC and 169.254.0.0/16', () => {
    // DNS: CoreDNS pods (node groups) or the cluster DNS address (Auto Mode answers it on each node); HTTPS never to
    // a service address either (the Kubernetes API, webhooks).
    const egress = policy(acme, 'gateway-egress').egress;
    expect(egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
          { ipBlock: { cidr: '172.20.0.10/32' } },
        ],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/16', '172.20.0.0/16', '169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
    // The instance metadata service is inside the excluded link-local block.
    expect(JSON.stringify(acme.objects)).not.toContain('169.254.169.254');
    expect(acme.objects.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(3);
  });

  test('a ServiceAccount without an API token; the pod mounts none', () => {
    expect(find(acme, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(podSpec(acme).serviceAccountName).toBe(acme.serviceAccount);
    expect(podSpec(acme).automountServiceAccountToken).toBe(false);
    expect(podSpec(acme).enableServiceLinks).toBe(false);
  });

  test('every container runs as UID/GID 1000, non-root, read-only root, no capabilities, no escalation, seccomp RuntimeDefault', () => {
    const spec = podSpec(acme);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const containers = [...spec.initContainers, ...spec.containers];
    expect(containers.map((c: any) => c.name)).toEqual(['prepare', 'gateway']);
    for (const c of containers) {
      expect(c.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.image).toBe(platform.image);
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits).toBeDefined();
    }
  });

  test('the gateway: pinned image, port 18789, requests and limits, probes on /healthz and /readyz, heap capped under the limit', () => {
    const g = gateway(acme);
    expect(g.image).toMatch(/:2026\.9\.6@sha256:[0-9a-f]{64}$/);
    expect(g.ports).toEqual([{ name: 'gateway', containerPort: GATEWAY_PORT, protocol: 'TCP' }]);
    expect(g.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    expect(g.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'gateway' });
    expect(g.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'gateway' });
    expect(g.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'gateway' });
    const env = Object.fromEntries(g.env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({
      NODE_OPTIONS: '--max-old-space-size=1536',
      AWS_CONFIG_FILE: '/etc/openclaw/aws-config',
      AWS_PROFILE: 'default',
      AWS_REGION: 'us-east-1',
      OPENCLAW_STATE_DIR: '/home/node/.openclaw',
    });
    expect(find(acme, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
  });

  test("openclaw.json: served under /t/<tenant>, the platform's origin only, LAN bind behind the router", () => {
    const gw = openclawJson(acme).gateway;
    expect(gw.controlUi).toEqual({ enabled: true, basePath: '/t/acme', allowedOrigins: ['https://openclaw.example.com'] });
    expect(gw.bind).toBe('lan');
    expect(gw.port).toBe(18789);
    expect(gw.trustedProxies).toEqual(['10.0.0.0/16']);
  });

  test('openclaw.json: the gateway token comes from the exec resolver, under the very secret name the platform provisions', () => {
    const doc = openclawJson(acme);
    expect(doc.gateway.auth.mode).toBe('token');
    expect(doc.gateway.auth.token).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id: 'openclaw/acme/gateway-token' });
    expect(doc.gateway.auth.token.id).toBe(gatewayTokenSecretName('acme'));
    expect(acme.gatewayTokenSecretName).toBe(doc.gateway.auth.token.id);
    const provider = doc.secrets.providers['aws-secrets-manager'];
    // The resolver fetches only this tenant's secrets, even if its role allowed more.
    expect(provider.args).toEqual(['--allow-prefix', 'openclaw/acme/', '--region', 'us-east-1']);
    expect(provider.passEnv).toEqual(['AWS_REGION', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']);
    // An exec provider OpenClaw accepts: absolute command inside its trusted directory.
    expect(() => validateExecProvider('p', { name: 'aws-secrets-manager', ...provider })).not.toThrow();
    expect(find(acme, 'ConfigMap').data['openclaw-secret-resolver']).toBe(podResolverSource());
    expect(JSON.stringify(doc)).not.toMatch(/"token":"[^{]/);
  });

  test('openclaw.json keeps the hardened tools and the Bedrock provider that works with the pod role', () => {
    const doc = openclawJson(acme);
    expect(doc.tools).toMatchObject({ profile: 'messaging', exec: { mode: 'deny' }, elevated: { enabled: false }, fs: { workspaceOnly: true } });
    expect(doc.tools.deny).toEqual(expect.arrayContaining(['group:runtime', 'group:fs', 'group:automation']));
    expect(doc.models.providers['amazon-bedrock']).toMatchObject({ auth: 'aws-sdk', baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com' });
  });

  test('the gateway reads AWS_CONFIG_FILE from the openclaw-config ConfigMap, mounted read-only', () => {
    const g = gateway(acme);
    const configFile = g.env.find((e: any) => e.name === 'AWS_CONFIG_FILE').value;
    expect(configFile).toBe(AWS_CONFIG_PATH);
    const mount = g.volumeMounts.find((m: any) => configFile.startsWith(`${m.mountPath}/`));
    expect(mount).toEqual({ name: 'config', mountPath: '/etc/openclaw', readOnly: true });
    expect(podSpec(acme).volumes).toContainEqual({ name: 'config', configMap: { name: 'openclaw-config' } });
    expect(find(acme, 'ConfigMap', 'openclaw-config').data[configFile.slice(mount.mountPath.length + 1)]).toBeDefined();
    // Every mount of the gateway but its state and scratch space is read-only.
    for (const m of g.volumeMounts) expect(m.readOnly === true || ['state', 'tmp'].includes(m.name)).toBe(true);
    // The init container still installs openclaw.json and the resolver from the same mount.
    expect(podSpec(acme).initContainers[0].volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/openclaw', readOnly: true });
  });

  test("the ConfigMap carries the Bedrock profile: the platform's Bedrock role, the tenant's own namespace as session name", () => {
    const profile = (r: RenderedTenant) => {
      const text: string = find(r, 'ConfigMap', 'openclaw-config').data['aws-config'];
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).toBe('[default]');
      return Object.fromEntries(lines.slice(1).map((l) => l.split(' = ')));
    };
    expect(profile(acme)).toEqual({
      role_arn: platform.bedrockRoleArn,
      role_session_name: 'openclaw-acme',
      credential_source: 'EcsContainer',
    });
    const other = renderTenant(sampleTenant('bravo'), platform);
    expect(profile(other).role_session_name).toBe(other.namespace);
    // The longest tenant name still makes a valid role session name (at most 64 characters).
    const longest = renderTenant(sampleTenant('a'.repeat(54)), platform);
    expect(profile(longest).role_session_name).toBe(`openclaw-${'a'.repeat(54)}`);
  });

  test('a ClusterIP Service on the gateway port selecting only this tenant', () => {
    const svc = find(acme, 'Service');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'gateway', protocol: 'TCP', port: 18789, targetPort: 'gateway' }]);
    expect(svc.spec.selector['openclaw.ai/tenant']).toBe('acme');
    expect(acme.serviceHost).toBe('openclaw.openclaw-acme.svc.cluster.local');
  });

  test('state on a shared-file-system volume claimed through the platform StorageClass', () => {
    const pvc = find(acme, 'PersistentVolumeClaim');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteMany'], storageClassName: 'openclaw-efs', resources: { requests: { storage: '10Gi' } } });
    expect(podSpec(acme).volumes).toContainEqual({ name: 'state', persistentVolumeClaim: { claimName: 'openclaw-state' } });
  });

  test('the PodDisruptionBudget never blocks a node drain (unlike minAvailable: 1 with one replica)', () => {
    const pdb = find(acme, 'PodDisruptionBudget').spec;
    expect(pdb.minAvailable).toBeUndefined();
    expect(pdb.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    const replicas = find(acme, 'Deployment').spec.replicas;
    // Disruptions allowed with every pod healthy = replicas - (replicas - maxUnavailable).
    expect(replicas - (replicas - pdb.maxUnavailable)).toBeGreaterThanOrEqual(1);
    expect(pdb.selector.matchLabels).toEqual(find(acme, 'Service').spec.selector);
  });

  test('tenants differ only by name: rendering b is rendering a with the name replaced', () => {
    const a = renderTenant(sampleTenant('alpha'), platform);
    const b = renderTenant(sampleTenant('bravo'), platform);
    expect(JSON.stringify(b.objects)).toBe(JSON.stringify(a.objects).replace(/alpha/g, 'bravo'));
  });

  test('pure: the same input renders the same output, and no object is shared between documents or calls', () => {
    const again = renderTenant(sampleTenant('acme'), platform);
    expect(again.objects).toEqual(acme.objects);
    again.objects[9].spec.template.spec.containers[0].securityContext.runAsUser = 0;
    expect(gateway(acme).securityContext.runAsUser).toBe(1000);
    expect(podSpec(acme).initContainers[0].securityContext).not.toBe(gateway(acme).securityContext);
    expect(platform.openclawConfig.gateway.controlUi.basePath).toBeUndefined(); // the platform's base is not modified
  });

  test('the init container installs the config (0600) and the resolver (0500, owned by the gateway user), and can run again', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-prepare-'));
    try {
      const dirs = { state: path.join(root, 'state'), etc: path.join(root, 'etc'), bin: path.join(root, 'bin') };
      Object.values(dirs).forEach((d) => fs.mkdirSync(d));
      const cm = find(acme, 'ConfigMap').data;
      fs.writeFileSync(path.join(dirs.etc, 'openclaw.json'), cm['openclaw.json']);
      fs.writeFileSync(path.join(dirs.etc, 'openclaw-secret-resolver'), cm['openclaw-secret-resolver']);
      const [, flag, code] = podSpec(acme).initContainers[0].command;
      const local = code.replace(/\/home\/node\/\.openclaw/g, dirs.state).replace(/\/etc\/openclaw/g, dirs.etc).replace(/\/opt\/openclaw\/bin/g, dirs.bin);
      for (let i = 0; i < 2; i++) {
        const r = spawnSync(process.execPath, [flag, local], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
      const resolver = fs.statSync(path.join(dirs.bin, 'openclaw-secret-resolver'));
      expect((resolver.mode % 0o1000).toString(8)).toBe('500');
      expect(resolver.uid).toBe(process.getuid!());
      expect((fs.statSync(path.join(dirs.state, 'openclaw.json')).mode % 0o1000).toString(8)).toBe('600');
      expect(fs.readFileSync(path.join(dirs.state, 'openclaw.json'), 'utf8')).toBe(cm['openclaw.json']);
      expect(fs.statSync(path.join(dirs.state, 'workspace')).isDirectory()).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('tenant quantities', () => {
  test.each([
    ['4', 4], ['500m', 0.5], ['8Gi', 8 * 2 ** 30], ['1.5', 1.5], ['512Mi', 512 * 2 ** 20], ['1e3', 1000], ['2k', 2000], ['.5', 0.5],
  ])('%s is %d', (q, value) => {
    expect(parseQuantity(q)).toBeCloseTo(value as number);
  });

  test.each(['', '4 cores', '8GB', '-1', 'Gi', '1.2.3', '0x10', ' 4'])("'%s' is not a quantity", (q) => {
    expect(parseQuantity(q)).toBeUndefined();
  });
});

describe('bad tenants fail with the prop, the value and what is allowed', () => {
  const base = (over: Partial<TenantSpec>): TenantSpec => ({ ...sampleTenant('acme'), ...over });
  test.each<[string, TenantSpec, RegExp]>([
    ['upper-case name', base({ name: 'Acme' }), /tenant name must be a DNS label .* got 'Acme'/],
    ['underscore', base({ name: 'acme_corp' }), /tenant name must be a DNS label/],
    ['leading hyphen', base({ name: '-acme' }), /tenant name must be a DNS label/],
    ['trailing hyphen', base({ name: 'acme-' }), /tenant name must be a DNS label/],
    ['empty name', base({ name: '' }), /tenant name must be a DNS label/],
    ["too long for 'openclaw-' + name (55 characters)", base({ name: 'a'.repeat(55) }), /at most 54 characters so that 'openclaw-<name>' fits in 63/],
    ['a dot', base({ name: 'acme.corp' }), /tenant name must be a DNS label/],
    ['the system namespace', base({ name: 'system' }), /tenant name must be not one of the reserved names \(system, platform, router, admin, default\), got 'system'/],
    ['cpu not a quantity', base({ cpu: '4 cores' }), /tenant 'acme' cpu must be a positive Kubernetes quantity such as '500m' or '2', got '4 cores'/],
    ['memory in GB', base({ memory: '8GB' }), /tenant 'acme' memory must be a positive Kubernetes quantity such as '512Mi' or '8Gi', got '8GB'/],
    ['zero cpu', base({ cpu: '0' }), /tenant 'acme' cpu must be a positive Kubernetes quantity/],
    ['memory too small', base({ memory: '1Mi' }), /tenant 'acme' memory must be at least 64Mi/],
    ['quota smaller than the gateway', base({ memory: '1Gi' }), /tenant 'acme' memory must be at least the gateway's memoryLimit \(2Gi\), got '1Gi'/],
    ['cpu quota smaller than the gateway', base({ cpu: '1' }), /tenant 'acme' cpu must be at least the gateway's cpuLimit \(2\), got '1'/],
    ['zero pods', base({ pods: 0 }), /tenant 'acme' pods must be an integer from 1 to 1000, got 0/],
    ['fractional pods', base({ pods: 2.5 }), /tenant 'acme' pods must be an integer from 1 to 1000, got 2.5/],
    ['zero budget', base({ budgetUsd: 0 }), /tenant 'acme' budgetUsd must be a number of US dollars greater than 0 and at most 1000000, got 0/],
    ['negative budget', base({ budgetUsd: -5 }), /budgetUsd must be a number of US dollars greater than 0/],
    ['budget not a number', base({ budgetUsd: NaN }), /budgetUsd must be a number of US dollars greater than 0/],
  ])('%s', (_name, spec, message) => {
    expect(() => renderTenant(spec, platform)).toThrow(SpecError);
    expect(() => renderTenant(spec, platform)).toThrow(message);
  });

  test.each<[string, string]>([
    ['an IAM user', 'arn:aws:iam::123456789012:user/openclaw-bedrock'],
    ['a role name alone', 'openclaw-bedrock'],
    ['a short account', 'arn:aws:iam::12345:role/openclaw-bedrock'],
    ['a second profile injected', 'arn:aws:iam::123456789012:role/x\n[profile evil]'],
    ['a token with a line break', '${Token[TOKEN.1]}\ncredential_source = Environment'],
    ['empty', ''],
  ])('bedrockRoleArn: %s', (_name, arn) => {
    expect(() => renderTenant(sampleTenant('acme'), { ...platform, bedrockRoleArn: arn })).toThrow(SpecError);
    expect(() => bedrockAwsConfig('openclaw-acme', arn)).toThrow(/bedrockRoleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role\/openclaw-bedrock, got/);
  });

  test.each([
    'arn:aws:iam::123456789012:role/openclaw-bedrock',
    'arn:aws-cn:iam::123456789012:role/service/openclaw+bedrock=1,a.b@c-d',
    'arn:aws-us-gov:iam::123456789012:role/openclaw-bedrock',
    '${Token[TOKEN.123]}',
    'arn:${Token[AWS.Partition.3]}:iam::${Token[AWS.AccountId.4]}:role/openclaw-bedrock',
  ])('bedrockRoleArn %s is accepted (a role ARN, or a CDK token resolved at deploy time)', (arn) => {
    expect(bedrockAwsConfig('openclaw-acme', arn)).toContain(`\nrole_arn = ${arn}\n`);
  });

  test.each(['o', 'a'.repeat(65), 'openclaw acme', 'openclaw/acme', 'openclaw-acme\nrole_arn = x'])("role session name '%s' is refused", (ns) => {
    expect(() => bedrockAwsConfig(ns, platform.bedrockRoleArn)).toThrow(/role session name \(tenant namespace\) must be 2 to 64 letters, digits or '_\+=,\.@-'/);
  });

  test.each<[string, Partial<PlatformSpec['gatewayResources']>, RegExp]>([
    ['request above limit', { cpuRequest: '3' }, /gatewayResources.cpuRequest must be at most cpuLimit \(2\), got '3'/],
    ['memory request above limit', { memoryRequest: '3Gi' }, /gatewayResources.memoryRequest must be at most memoryLimit \(2Gi\), got '3Gi'/],
    ['not a quantity', { memoryLimit: 'lots' }, /gatewayResources.memoryLimit must be a positive Kubernetes quantity/],
  ])('gateway resources: %s', (_name, over, message) => {
    const p = { ...platform, gatewayResources: { ...platform.gatewayResources, ...over } };
    expect(() => renderTenant(sampleTenant('acme'), p)).toThrow(message);
  });
});
