import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { samplePlatform, sampleTenant } from '../../oracles/lib/tenant-sample';
import { OpenClawTenantPlatform } from '../../src/platform/platform';
import { ROUTER_POD_LABELS, ROUTER_PORT, renderRouter, routerConfig } from '../../src/platform/router-manifests';
import { renderTenant } from '../../src/platform/tenant-manifests';
import { resourcesOf, testApp } from '../util';

const spec = { image: 'public.ecr.aws/nginx/nginx-unprivileged:1.30.4-alpine', vpcCidr: '10.0.0.0/16', replicas: 2, clusterDnsIp: '172.20.0.10' };
const objects = renderRouter(spec);
const find = (kind: string, name?: string) => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('the router', () => {
  test('its configuration names no tenant: the same text for any number of tenants', () => {
    const config = find('ConfigMap').data['nginx.conf'];
    expect(config).toBe(routerConfig('172.20.0.10'));
    expect(config).not.toMatch(/acme|tenant-a/);
    // One server, one tenant location (plus the redirect of the bare /t/<tenant> path), one catch-all.
    expect(config.match(/location /g)).toHaveLength(4);
  });

  test('routes /t/<tenant>/ to that tenant\'s gateway service, with WebSocket upgrade', () => {
    const config = routerConfig('172.20.0.10');
    expect(config).toContain('proxy_pass http://openclaw.openclaw-$tenant.svc.cluster.local:18789;');
    expect(config).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(config).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(config).toContain('proxy_http_version 1.1;');
    // Tenants are resolved through the cluster DNS address (no name to resolve at start-up), and redirects stay
    // relative so that the browser keeps CloudFront's https name.
    expect(config).toContain('resolver 172.20.0.10 valid=10s ipv6=off;');
    expect(config).toContain('absolute_redirect off;');
    expect(config).toMatch(/location ~ \^\/t\/\(\[a-z0-9\]\(\?:\[a-z0-9-\]\{0,52\}\[a-z0-9\]\)\?\)\$ \{ return 308 \/t\/\$1\/; \}/);
  });

  test('the tenant pattern accepts exactly the names a tenant may have', () => {
    const pattern = /location ~ \^\/t\/\((.+?)\)\//.exec(routerConfig('172.20.0.10'))![1];
    const re = new RegExp(`^${pattern}$`);
    for (const ok of ['a', 'acme', 'acme-corp', 'a1', 'x'.repeat(54)]) expect(re.test(ok)).toBe(true);
    for (const bad of ['', '-acme', 'acme-', 'Acme', 'acme_corp', 'x'.repeat(55), '..', 'a.b']) expect(re.test(bad)).toBe(false);
  });

  test('a tenant cannot widen a service worker beyond its own path: Service-Worker-Allowed never leaves the router', () => {
    const config = routerConfig('172.20.0.10');
    const tenantLocation = config.slice(config.indexOf('location ~ ^/t/(') + 1);
    expect(tenantLocation.slice(tenantLocation.indexOf('location ~ ^/t/('))).toMatch(/proxy_hide_header Service-Worker-Allowed;[\s\S]*\n {4}\}/);
  });

  test('never logs query strings', () => {
    expect(routerConfig('172.20.0.10')).toMatch(/log_format openclaw '[^']*\$uri[^']*'/);
    expect(routerConfig('172.20.0.10')).not.toContain('$request_uri');
    expect(routerConfig('172.20.0.10')).not.toMatch(/log_format[^;]*\$request /);
  });

  test('admits only the VPC (the load balancer) on its port, and reaches only DNS and the tenant gateways', () => {
    expect(find('NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(find('NetworkPolicy', 'router-ingress-from-load-balancer').spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: ROUTER_PORT }] },
    ]);
    const egress = find('NetworkPolicy', 'router-egress').spec.egress;
    expect(egress).toHaveLength(2);
    expect(egress[1]).toEqual({
      to: [{
        namespaceSelector: { matchExpressions: [{ key: 'openclaw.ai/tenant', operator: 'Exists' }] },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'openclaw', 'app.kubernetes.io/component': 'gateway' } },
      }],
      ports: [{ protocol: 'TCP', port: 18789 }],
    });
  });

  test("tenants admit the router's pods: the labels the tenant policies select are the router's", () => {
    const tenant = renderTenant(sampleTenant('acme'), samplePlatform());
    const ingress = tenant.objects.find((o) => o.metadata.name === 'gateway-ingress-from-router');
    expect(ingress.spec.ingress[0].from[0].podSelector.matchLabels).toEqual(ROUTER_POD_LABELS);
    expect(find('Deployment').spec.template.metadata.labels).toMatchObject(ROUTER_POD_LABELS);
    // ...and tenant namespaces carry the label the router's egress selects.
    expect(tenant.objects[0].metadata.labels['openclaw.ai/tenant']).toBe('acme');
  });

  test('runs hardened: non-root high UID, read-only root, no capabilities, no token, spread over zones', () => {
    const pod = find('Deployment').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10101, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
    });
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
    expect(find('Deployment').spec.replicas).toBe(2);
    expect(find('PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  test('the platform deploys it once, whatever the number of tenants', () => {
    const stackWith = (n: number) => {
      const stack = new Stack(testApp(), 'Test');
      const p = new OpenClawTenantPlatform(stack, 'Platform', { routerImage: { digest: `sha256:${'c'.repeat(64)}` } });
      for (let i = 0; i < n; i++) p.addTenant(`t${i}`);
      return { stack, template: Template.fromStack(stack) };
    };
    const routerText = (t: Template) => resourcesOf(t, 'Custom::AWSCDK-EKS-KubernetesResource').filter(([id]) => /Router/.test(id) && !/TargetGroupBinding/.test(id)).map(([, r]) => JSON.stringify(r.Properties.Manifest));
    const one = stackWith(1);
    const many = stackWith(20);
    expect(routerText(one.template)).toHaveLength(1);
    expect(routerText(many.template)).toEqual(routerText(one.template));
    expect(routerText(one.template)[0]).toContain(`nginx-unprivileged:1.30.4-alpine@sha256:${'c'.repeat(64)}`);
    Annotations.fromStack(one.stack).hasNoWarning('*', Match.stringLikeRegexp('routerImage.digest'));
  });

  test('router replicas out of range fail at synth', () => {
    expect(() => new OpenClawTenantPlatform(new Stack(testApp(), 'Test'), 'Platform', { routerReplicas: 0 }))
      .toThrow(/Test\/Platform: routerReplicas must be an integer from 1 to 20, got 0/);
  });
});
