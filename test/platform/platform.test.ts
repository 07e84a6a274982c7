import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { runNagPacks } from '../../examples/ts/inspect';
import { BedrockAudit, BedrockAuditTrail, NodeGroupCapacityOptions, PlatformCapacity, PlatformLoadBalancerOptions } from '../../src';
import { OpenClawConfig } from '../../src/openclaw';
import { OpenClawTenantPlatform, OpenClawTenantPlatformProps } from '../../src/platform/platform';
import { resourcesOf, testApp } from '../util';

const DOMAIN = 'openclaw.example.com';
const certificate = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'EdgeCertificate', 'arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555');

function synth(props: Partial<OpenClawTenantPlatformProps> = {}, build?: (p: OpenClawTenantPlatform, stack: Stack) => void) {
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const platform = new OpenClawTenantPlatform(stack, 'Platform', { edge: { domainName: DOMAIN, certificate: certificate(stack) }, ...props });
  build?.(platform, stack);
  const template = Template.fromStack(stack);
  return { stack, platform, template, json: template.toJSON() };
}

/** The text of every manifest a template applies (tokens shown as ${TOKEN}). */
function manifestsText(template: Template): string[] {
  return resourcesOf(template, 'Custom::AWSCDK-EKS-KubernetesResource').map(([, r]) => {
    const m = r.Properties.Manifest;
    if (typeof m === 'string') return m;
    return (m['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : '${TOKEN}')).join('');
  });
}

function manifestObjects(template: Template): any[] {
  return manifestsText(template).flatMap((t) => JSON.parse(t));
}

/** The template of the nested stack a tenant landed in. */
function tenantTemplate(platform: OpenClawTenantPlatform, name: string): Template {
  return Template.fromStack(Stack.of(platform.tenants.find((t) => t.tenantName === name)!));
}

const base = synth({}, (p) => p.addTenant('acme'));
const acmeTemplate = tenantTemplate(base.platform, 'acme');

describe('the cluster', () => {
  test('Kubernetes 1.35, secrets envelope-encrypted with the platform key, every control-plane log type', () => {
    base.template.hasResourceProperties('AWS::EKS::Cluster', {
      Version: '1.35',
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformKey'), 'Arn'] } }, Resources: ['secrets'] }],
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((Type) => ({ Type })) } },
    });
  });

  test('the API endpoint is private by default; access entries only (no aws-auth ConfigMap); no creator admin', () => {
    base.template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: false },
      AccessConfig: { AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false },
    });
    expect(JSON.stringify(base.json)).not.toContain('aws-auth');
  });

  test('public access to the endpoint only from the CIDR blocks given', () => {
    const { template } = synth({ publicEndpointCidrs: ['203.0.113.0/24'] });
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] },
    });
  });

  test('control plane and nodes only in private subnets', () => {
    const cluster = resourcesOf(base.template, 'AWS::EKS::Cluster')[0][1];
    const subnets = cluster.Properties.ResourcesVpcConfig.SubnetIds.map((s: any) => s.Ref);
    expect(subnets).toHaveLength(2);
    for (const s of subnets) expect(s).toMatch(/PrivateSubnet/);
    const nodeClass = manifestObjects(base.template).find((o) => o.kind === 'NodeClass');
    expect(nodeClass.spec.subnetSelectorTerms).toHaveLength(2);
  });

  test('a fixed service range, so that network policies can name the cluster DNS address', () => {
    base.template.hasResourceProperties('AWS::EKS::Cluster', { KubernetesNetworkConfig: Match.objectLike({ ServiceIpv4Cidr: '172.20.0.0/16' }) });
  });

  test('EKS Auto Mode with only the system pool built in: workloads run in the platform node pool, which enforces network policies', () => {
    base.template.hasResourceProperties('AWS::EKS::Cluster', { ComputeConfig: { Enabled: true, NodePools: ['system'] } });
    const objects = manifestObjects(base.template);
    expect(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'amazon-vpc-cni')).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
      data: { 'enable-network-policy-controller': 'true' },
    });
    const nodeClass = objects.find((o) => o.kind === 'NodeClass');
    expect(nodeClass.spec.networkPolicy).toBe('DefaultAllow');
    const pool = objects.find((o) => o.kind === 'NodePool');
    expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'eks.amazonaws.com', kind: 'NodeClass', name: nodeClass.metadata.name });
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] });
    // Only empty nodes are consolidated: packing would move single-replica gateways (an outage each time).
    expect(pool.spec.disruption.consolidationPolicy).toBe('WhenEmpty');
  });

  test('an administrator principal gets cluster-admin through an access entry', () => {
    const arn = 'arn:aws:iam::111122223333:role/platform-admins';
    const { template } = synth({ adminPrincipalArn: arn });
    const [, entry] = resourcesOf(template, 'AWS::EKS::AccessEntry').find(([, r]) => r.Properties.PrincipalArn === arn)!;
    expect(entry.Properties.AccessPolicies).toHaveLength(1);
    expect(entry.Properties.AccessPolicies[0].AccessScope).toEqual({ Type: 'cluster' });
    expect(JSON.stringify(entry.Properties.AccessPolicies[0].PolicyArn)).toContain(':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy');
    // Without one, only the deployment's kubectl provider has an entry.
    expect(resourcesOf(base.template, 'AWS::EKS::AccessEntry')).toHaveLength(1);
  });

  test('the kubectl layer is a prop; by default the Kubernetes 1.35 kubectl layer', () => {
    const layerIds = (t: Template) => resourcesOf(t, 'AWS::Lambda::LayerVersion').map(([id]) => id);
    expect(layerIds(base.template).some((id) => /^PlatformKubectlLayer/.test(id))).toBe(true);
    const app = testApp();
    const stack = new Stack(app, 'Layer');
    const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'MyKubectl', 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl134:3');
    new OpenClawTenantPlatform(stack, 'P', { kubectlLayer: layer, kubernetesVersion: eks.KubernetesVersion.V1_34 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.34' });
    expect(layerIds(t).some((id) => /KubectlLayer/.test(id))).toBe(false);
    t.hasResourceProperties('AWS::Lambda::Function', { Layers: Match.arrayWith(['arn:aws:lambda:us-east-1:111122223333:layer:kubectl134:3']) });
    expect(KubectlV35Layer.name).toBe('KubectlV35Layer');
  });

  test('without the kubectl layer package and without the prop, synth says what to install or pass', () => {
    jest.isolateModules(() => {
      jest.doMock('@aws-cdk/lambda-layer-kubectl-v35', () => { throw new Error("Cannot find module '@aws-cdk/lambda-layer-kubectl-v35'"); });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../../src/platform/platform');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const cdk = require('aws-cdk-lib');
      const stack = new cdk.Stack(new cdk.App(), 'NoLayer');
      expect(() => new isolated.OpenClawTenantPlatform(stack, 'P')).toThrow(
        /NoLayer\/P: kubectlLayer must be a Lambda layer with kubectl: install @aws-cdk\/lambda-layer-kubectl-v35 \(npm\) or aws-cdk.lambda-layer-kubectl-v35 \(PyPI\)/);
    });
    jest.dontMock('@aws-cdk/lambda-layer-kubectl-v35');
  });
});

describe('ingress: edge, internal load balancer, router', () => {
  test('an internal load balancer in the private subnets, access logs on, invalid headers dropped', () => {
    base.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
    const lb = resourcesOf(base.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0][1];
    for (const s of lb.Properties.Subnets) expect(s.Ref).toMatch(/PrivateSubnet/);
  });

  test('one target group of router pod addresses, whatever the number of tenants', () => {
    const groups = (n: number) => resourcesOf(synth({}, (p) => { for (let i = 0; i < n; i++) p.addTenant(`t${i}`); }).template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups(0)).toHaveLength(1);
    expect(groups(30)).toHaveLength(1);
    base.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/healthz',
      Matcher: { HttpCode: '200' },
      Tags: Match.arrayWith([{ Key: 'eks:eks-cluster-name', Value: { Ref: Match.stringLikeRegexp('^PlatformCluster') } }]),
    });
    base.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
  });

  test('the router pods are bound to the target group by an Auto Mode TargetGroupBinding', () => {
    const binding = manifestObjects(base.template).find((o) => o.kind === 'TargetGroupBinding');
    expect(binding).toMatchObject({
      apiVersion: 'eks.amazonaws.com/v1',
      metadata: { name: 'openclaw-router', namespace: 'openclaw-system' },
      spec: { serviceRef: { name: 'openclaw-router', port: 8080 }, targetGroupARN: '${TOKEN}', targetType: 'ip' },
    });
    expect(base.platform.routerService).toBe('openclaw-router.openclaw-system');
  });

  test('the load balancer admits only CloudFront\'s origin-facing addresses, and reaches the router pods through the cluster security group', () => {
    const lbGroup = resourcesOf(base.template, 'AWS::EC2::SecurityGroup').find(([id]) => /LoadBalancerSecurityGroup/.test(id))![1];
    expect(lbGroup.Properties.SecurityGroupIngress).toBeUndefined();
    const lbIngress = resourcesOf(base.template, 'AWS::EC2::SecurityGroupIngress')
      .filter(([, r]) => JSON.stringify(r.Properties.GroupId).includes('LoadBalancerSecurityGroup'));
    expect(lbIngress).toHaveLength(1);
    expect(lbIngress[0][1].Properties).toMatchObject({ FromPort: 80, ToPort: 80, IpProtocol: 'tcp', SourcePrefixListId: expect.anything() });
    base.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080,
      ToPort: 8080,
      IpProtocol: 'tcp',
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformCluster'), 'ClusterSecurityGroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancerSecurityGroup'), 'GroupId'] },
    });
  });

  test('OpenClawEdge in front, through a CloudFront VPC origin to the load balancer (HTTP inside the VPC)', () => {
    base.template.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
      VpcOriginEndpointConfig: Match.objectLike({ HTTPPort: 80, OriginProtocolPolicy: 'http-only', Arn: { Ref: Match.stringLikeRegexp('LoadBalancer') } }),
    });
    base.template.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: Match.objectLike({ Aliases: [DOMAIN] }) });
    expect(base.platform.publicOrigin).toBe(`https://${DOMAIN}`);
  });

  test('without a custom domain synth warns that the default certificate also accepts TLS 1.0 and 1.1', () => {
    const { stack } = synth({ edge: undefined });
    Annotations.fromStack(stack).hasWarning('/Test/Platform', Match.stringLikeRegexp('edge.domainName is not set.*TLS 1.0 and 1.1'));
    Annotations.fromStack(base.stack).hasNoWarning('/Test/Platform', Match.stringLikeRegexp('edge.domainName is not set'));
  });

  test('without a custom domain, the distribution\'s own name is every gateway\'s allowed origin', () => {
    const { platform, stack } = synth({ edge: undefined }, (p) => p.addTenant('acme'));
    const cm = platform.tenants[0].manifests.find((o) => o.kind === 'ConfigMap');
    const origins = JSON.parse(cm.data['openclaw.json']).gateway.controlUi.allowedOrigins;
    expect(origins).toHaveLength(1);
    expect(stack.resolve(origins[0])).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^PlatformEdgeDistribution/), 'DomainName'] }]] });
  });
});

describe('observability', () => {
  test('Container Insights through the CloudWatch Observability add-on, its agent on its own Pod Identity role', () => {
    base.template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'amazon-cloudwatch-observability',
      PodIdentityAssociations: [{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CloudWatchAgentRole'), 'Arn'] } }],
    });
    const role = resourcesOf(base.template, 'AWS::IAM::Role').find(([id]) => /CloudWatchAgentRole/.test(id))![1];
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('CloudWatchAgentServerPolicy');
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
  });

  test('alarms go to a topic encrypted with the platform key, with e-mail subscriptions', () => {
    const { template } = synth({ alarmEmails: ['ops@example.com'] });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const topics = resourcesOf(base.template, 'AWS::SNS::Topic').map(([id]) => id);
    for (const [, alarm] of resourcesOf(base.template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(topics).toContain(alarm.Properties.AlarmActions[0].Ref);
    }
  });

  test('one alarm each for pod restarts, pending pods, memory near the limit, quota saturation and the router, whatever the number of tenants (Metrics Insights)', () => {
    const queries = resourcesOf(base.template, 'AWS::CloudWatch::Alarm')
      .flatMap(([, a]) => (a.Properties.Metrics ?? []).map((m: any) => JSON.stringify(m.Expression ?? '')));
    expect(queries.filter((q) => q.includes('pod_number_of_container_restarts'))).toHaveLength(1);
    expect(queries.filter((q) => q.includes('pod_status_pending'))).toHaveLength(1);
    expect(queries.filter((q) => q.includes('pod_memory_utilization_over_pod_limit'))).toHaveLength(1);
    // Quota saturation: one series per tenant namespace, the platform's own namespaces left out.
    expect(queries.filter((q) => q.includes('SUM(pod_memory_request)') && q.includes('GROUP BY Namespace') && q.includes("Namespace != 'openclaw-system'"))).toHaveLength(1);
    expect(queries.filter((q) => q.includes('namespace_number_of_running_pods') && q.includes('GROUP BY Namespace'))).toHaveLength(1);
    expect(queries.filter((q) => q.includes('namespace_number_of_running_pods') && q.includes("Namespace = 'openclaw-system'"))).toHaveLength(1);
    for (const q of queries.filter((x) => x.includes('SELECT'))) expect(q).toContain('ClusterName');
    const many = synth({}, (p) => { for (let i = 0; i < 25; i++) p.addTenant(`t${i}`); });
    expect(resourcesOf(many.template, 'AWS::CloudWatch::Alarm').length).toBe(resourcesOf(base.template, 'AWS::CloudWatch::Alarm').length);
  });

  test('quota alarms at 90% of the default quota: 90% of 8 GiB requested, 9 of 10 pods; following tenantDefaults', () => {
    const threshold = (t: Template, id: RegExp) => resourcesOf(t, 'AWS::CloudWatch::Alarm').find(([logicalId]) => id.test(logicalId))![1].Properties.Threshold;
    expect(threshold(base.template, /QuotaMemoryNearlyFull/)).toBe(Math.floor(8 * 2 ** 30 * 0.9));
    expect(threshold(base.template, /QuotaPodsNearlyFull/)).toBe(9);
    const bigger = synth({ tenantDefaults: { memory: '16Gi', maxPods: 20 } }).template;
    expect(threshold(bigger, /QuotaMemoryNearlyFull/)).toBe(Math.floor(16 * 2 ** 30 * 0.9));
    expect(threshold(bigger, /QuotaPodsNearlyFull/)).toBe(18);
  });

  test('Bedrock throttling and p90 latency alarms for every allowed model', () => {
    const { template } = synth({ allowedModelIds: ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-pro-v1:0'] });
    for (const modelId of ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-pro-v1:0']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Bedrock', MetricName: 'InvocationThrottles', Dimensions: [{ Name: 'ModelId', Value: modelId }], Statistic: 'Sum',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Bedrock', MetricName: 'InvocationLatency', Dimensions: [{ Name: 'ModelId', Value: modelId }], ExtendedStatistic: 'p90',
      });
    }
  });

  test('a Bedrock audit trail is created with the Bedrock role as an expected caller, or an existing one is used', () => {
    expect(base.platform.bedrockAuditTrail).toBeDefined();
    base.template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    // ...delivered to CloudWatch Logs too, so that denied calls of any tenant raise an alarm.
    base.template.hasResourceProperties('AWS::CloudTrail::Trail', { CloudWatchLogsLogGroupArn: Match.anyValue() });
    expect(resourcesOf(base.template, 'AWS::CloudWatch::Alarm').some(([id]) => /BedrockAccessDenied/.test(id))).toBe(true);
    const app = testApp();
    const stack = new Stack(app, 'Shared');
    const trail = new BedrockAuditTrail(stack, 'Trail', { modelInvocationLogging: {} });
    const platform = new OpenClawTenantPlatform(stack, 'Platform', { bedrockAudit: BedrockAudit.existingTrail(trail) });
    expect(platform.bedrockAuditTrail).toBe(trail);
    Template.fromStack(stack).resourceCountIs('AWS::CloudTrail::Trail', 1);
  });
});

describe('cost estimate', () => {
  test('adds up, and grows with tenants by nodes, secrets and storage', () => {
    const none = synth().platform.estimatedMonthlyCost;
    const sum = none.items.reduce((t, i) => t + i.monthlyUsd, 0);
    expect(none.totalMonthlyUsd).toBeCloseTo(sum, 6);
    expect(none.items.map((i) => i.item)).toEqual(expect.arrayContaining(['EKS cluster', 'NAT gateways (2)', 'Load balancer (internal)']));
    const seven = synth({}, (p) => { for (let i = 0; i < 7; i++) p.addTenant(`t${i}`); }).platform.estimatedMonthlyCost;
    expect(seven.items.find((i) => i.item.startsWith('EKS Auto Mode nodes'))!.item).toBe('EKS Auto Mode nodes (2 x m7g.large)');
    expect(seven.totalMonthlyUsd).toBeGreaterThan(none.totalMonthlyUsd + 70);
    const threeZones = synth({ maxAzs: 3 }).platform.estimatedMonthlyCost;
    expect(threeZones.items.find((i) => i.item.startsWith('NAT'))!.item).toBe('NAT gateways (3)');
  });
});

describe('an internet-facing load balancer locked to the edge', () => {
  const zoneOf = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'OriginZone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' });
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const platform = new OpenClawTenantPlatform(stack, 'Platform', {
    edge: { domainName: DOMAIN, certificate: certificate(stack) },
    loadBalancer: { internetFacing: true, domainName: 'origin.openclaw.example.com', hostedZone: zoneOf(stack) },
  });
  platform.addTenant('acme');
  const template = Template.fromStack(stack);

  test('internet-facing in the public subnets, HTTPS only with a certificate for its own name, an alias record', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    const listeners = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listeners).toHaveLength(1);
    expect(listeners[0][1].Properties).toMatchObject({ Port: 443, Protocol: 'HTTPS', Certificates: [expect.anything()] });
    template.hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'origin.openclaw.example.com', ValidationMethod: 'DNS' });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'origin.openclaw.example.com.', Type: 'A' });
  });

  test('HTTPS only from CloudFront\'s origin-facing prefix list; a regional web ACL whose rule 0 requires the secret header', () => {
    const lbIngress = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')
      .filter(([, r]) => JSON.stringify(r.Properties.GroupId).includes('LoadBalancerSecurityGroup'));
    expect(lbIngress).toHaveLength(1);
    expect(lbIngress[0][1].Properties).toMatchObject({ FromPort: 443, ToPort: 443, SourcePrefixListId: expect.anything() });
    const acl = resourcesOf(template, 'AWS::WAFv2::WebACL').find(([, r]) => r.Properties.Scope === 'REGIONAL')![1];
    expect(acl.Properties.Rules[0]).toMatchObject({
      Name: 'RequireEdgeOriginHeader',
      Priority: 0,
      Action: { Block: {} },
      Statement: { NotStatement: { Statement: { ByteMatchStatement: { FieldToMatch: { SingleHeader: { Name: 'x-openclaw-origin-verify' } }, PositionalConstraint: 'EXACTLY' } } } },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WebAcl'), 'Arn'] } });
  });

  test('CloudFront sends the header from a rotated secret to the load balancer\'s name over HTTPS', () => {
    const dist = resourcesOf(template, 'AWS::CloudFront::Distribution')[0][1];
    const origin = dist.Properties.DistributionConfig.Origins[0];
    expect(origin.DomainName).toBe('origin.openclaw.example.com');
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    expect(origin.OriginCustomHeaders[0].HeaderName).toBe('x-openclaw-origin-verify');
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
  });

  test('cdk-nag reports nothing', () => {
    expect(Object.values(runNagPacks(app)).flat()).toEqual([]);
  });

  test.each<[string, PlatformLoadBalancerOptions, RegExp]>([
    ['internet-facing without its own name', { internetFacing: true, hostedZone: undefined, certificate: undefined }, /loadBalancer.domainName must be the load balancer's own lower-case DNS name/],
    ['internet-facing without certificate or zone', { internetFacing: true, domainName: 'origin.openclaw.example.com' }, /loadBalancer.certificate must be a certificate for loadBalancer.domainName, or loadBalancer.hostedZone/],
    ['a name for an internal load balancer', { domainName: 'origin.openclaw.example.com' }, /loadBalancer.domainName must be unset for an internal load balancer/],
    ['a rotation of half a day', { internetFacing: true, domainName: 'origin.openclaw.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'C', 'arn:aws:acm:eu-west-1:111122223333:certificate/x'), headerRotation: Duration.hours(12) }, /loadBalancer.headerRotation must be a whole number of days from 1 to 1000/],
  ])('bad load balancer: %s', (_name, loadBalancer, message) => {
    expect(() => synth({ loadBalancer })).toThrow(message);
  });
});

describe('managed node groups instead of Auto Mode', () => {
  const groups = synth({ capacity: PlatformCapacity.nodeGroups() }, (p) => p.addTenant('acme'));

  test('Graviton nodes (m7g.large, AL2023 arm64) in the private subnets, 2 to 10, no Auto Mode', () => {
    groups.template.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_ARM_64_STANDARD',
      InstanceTypes: ['m7g.large'],
      ScalingConfig: { MinSize: 2, MaxSize: 10, DesiredSize: 2 },
    });
    const group = resourcesOf(groups.template, 'AWS::EKS::Nodegroup')[0][1];
    for (const s of group.Properties.Subnets) expect(s.Ref).toMatch(/PrivateSubnet/);
    const cluster = resourcesOf(groups.template, 'AWS::EKS::Cluster')[0][1];
    expect(cluster.Properties.ComputeConfig).toEqual({ Enabled: false });
    expect(cluster.Properties.BootstrapSelfManagedAddons).toBe(false);
  });

  test('pods cannot reach the instance metadata service: IMDSv2 only, hop limit 1; encrypted root volumes', () => {
    groups.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
      }),
    });
  });

  test('nodes join after the VPC CNI, kube-proxy and the Pod Identity agent exist; CoreDNS after the nodes', () => {
    const [groupId, group] = resourcesOf(groups.template, 'AWS::EKS::Nodegroup')[0];
    expect(group.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/VpcCni/), expect.stringMatching(/KubeProxy/), expect.stringMatching(/PodIdentityAgent/)]));
    const [, coreDns] = resourcesOf(groups.template, 'AWS::EKS::Addon').find(([id]) => /CoreDns/.test(id))!;
    expect(coreDns.DependsOn).toContain(groupId);
  });

  test('the VPC CNI with network policies on, CoreDNS, kube-proxy and the Pod Identity agent as EKS add-ons', () => {
    groups.template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: '{"enableNetworkPolicy":"true"}' });
    for (const name of ['coredns', 'kube-proxy', 'eks-pod-identity-agent', 'aws-efs-csi-driver', 'amazon-cloudwatch-observability']) {
      groups.template.hasResourceProperties('AWS::EKS::Addon', { AddonName: name });
    }
    // Auto Mode's node class and node pool are not used.
    expect(manifestObjects(groups.template).filter((o) => o.kind === 'NodeClass' || o.kind === 'NodePool')).toEqual([]);
  });

  test('the router is bound through the AWS Load Balancer Controller\'s TargetGroupBinding', () => {
    const binding = manifestObjects(groups.template).find((o) => o.kind === 'TargetGroupBinding');
    expect(binding.apiVersion).toBe('elbv2.k8s.aws/v1beta1');
    expect(binding.spec.targetType).toBe('ip');
    expect(groups.platform.cluster.albController).toBeDefined();
  });

  test('nothing else changes for tenants, and cdk-nag reports nothing', () => {
    // Resolved: the Bedrock role's ARN is a token of each app.
    expect(groups.stack.resolve(groups.platform.tenants[0].manifests)).toEqual(base.stack.resolve(base.platform.tenants[0].manifests));
    const findings = runNagPacks(groups.stack.node.root as any);
    expect(Object.values(findings).flat()).toEqual([]);
  });

  test('the cost estimate counts the node group instead of Auto Mode', () => {
    const item = groups.platform.estimatedMonthlyCost.items.find((i) => i.item.startsWith('Managed node group'));
    expect(item!.item).toBe('Managed node group (2 x m7g.large)');
  });

  test.each<[string, NodeGroupCapacityOptions, RegExp]>([
    ['fewer nodes at most than at least', { minSize: 4, maxSize: 2 }, /capacity.maxSize must be at least minSize \(4\), got 2/],
    ['no node at all', { minSize: 0 }, /capacity.minSize must be an integer from 1 to 450, got 0/],
    ['two architectures', { instanceTypes: [new ec2.InstanceType('m7g.large'), new ec2.InstanceType('m7i.large')] }, /capacity.instanceTypes must be instance types of one architecture/],
  ])('bad node group: %s', (_name, options, message) => {
    expect(() => synth({ capacity: PlatformCapacity.nodeGroups(options) })).toThrow(message);
  });
});

describe('the VPC', () => {
  test('two zones by default, one NAT gateway per zone, flow logs', () => {
    expect(resourcesOf(base.template, 'AWS::EC2::NatGateway')).toHaveLength(2);
    base.template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  test('three zones as a prop, with /19 private subnets (8,000 pod addresses each), in a stack that knows its region', () => {
    const app = testApp();
    const stack = new Stack(app, 'Zones', { env: { account: '111122223333', region: 'eu-west-1' } });
    new OpenClawTenantPlatform(stack, 'Platform', { maxAzs: 3 });
    const template = Template.fromStack(stack);
    expect(resourcesOf(template, 'AWS::EC2::NatGateway')).toHaveLength(3);
    const privateSubnets = resourcesOf(template, 'AWS::EC2::Subnet').filter(([id]) => /Private/.test(id));
    expect(privateSubnets.map(([, r]) => r.Properties.CidrBlock.split('/')[1])).toEqual(['19', '19', '19']);
  });

  test('an environment-agnostic stack sees two zones: asking for three warns', () => {
    const { stack } = synth({ maxAzs: 3 });
    Annotations.fromStack(stack).hasWarning('/Test/Platform', Match.stringLikeRegexp('maxAzs is 3 but this stack can see only 2 zones'));
  });
});

describe('tenant state on EFS, backed up', () => {
  test('the file system is encrypted with the platform key, elastic, retained', () => {
    base.template.hasResource('AWS::EFS::FileSystem', {
      Properties: Match.objectLike({ Encrypted: true, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformKey'), 'Arn'] }, ThroughputMode: 'elastic' }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('its policy refuses non-TLS access and lets only the nodes mount, through mount targets', () => {
    const fs = resourcesOf(base.template, 'AWS::EFS::FileSystem')[0][1];
    const statements = fs.Properties.FileSystemPolicy.Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'DenyWithoutTls', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(expect.objectContaining({
      Sid: 'MountThroughMountTargetsOnly',
      Effect: 'Allow',
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
      Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/NodeRole/), 'Arn'] } },
    }));
    // Nothing for anyone else: no statement for any principal but the deny.
    expect(statements.filter((st: any) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('"*"'))).toEqual([]);
    expect(statements).toHaveLength(2);
  });

  test('mount targets admit NFS from the cluster security group only', () => {
    const groups = resourcesOf(base.template, 'AWS::EC2::SecurityGroup').filter(([id]) => /FileSystem/.test(id));
    expect(groups).toHaveLength(1);
    expect(groups[0][1].Properties.SecurityGroupIngress).toEqual([{
      Description: 'NFS from the EKS nodes only',
      FromPort: 2049,
      ToPort: 2049,
      IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^PlatformCluster/), 'ClusterSecurityGroupId'] },
    }]);
  });

  test('the EFS CSI driver add-on (EKS default version, or pinned by prop) with its own Pod Identity role', () => {
    const { template } = synth({ efsCsiDriverVersion: 'v3.4.1-eksbuild.1' });
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'aws-efs-csi-driver', AddonVersion: 'v3.4.1-eksbuild.1' });
    base.template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'aws-efs-csi-driver',
      AddonVersion: Match.absent(),
      // The controller manages access points with its own role; the node daemon mounts with the node's.
      PodIdentityAssociations: [
        { ServiceAccount: 'efs-csi-controller-sa', RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EfsCsiDriverRole'), 'Arn'] } },
      ],
    });
  });

  test('a StorageClass with one access point per tenant, owned by the gateway user, claims retained, TLS and IAM mounts', () => {
    const sc = manifestObjects(base.template).find((o) => o.kind === 'StorageClass');
    expect(sc).toMatchObject({
      provisioner: 'efs.csi.aws.com',
      reclaimPolicy: 'Retain',
      mountOptions: ['tls', 'iam'],
      parameters: { provisioningMode: 'efs-ap', uid: '1000', gid: '1000', directoryPerms: '700', subPathPattern: '${.PVC.namespace}', ensureUniqueDirectory: 'false' },
    });
    expect(base.platform.tenants[0].manifests.find((o) => o.kind === 'PersistentVolumeClaim').spec.storageClassName).toBe(sc.metadata.name);
  });

  test('daily AWS Backup into a vault encrypted with the platform key, 35 days by default, retained', () => {
    base.template.hasResource('AWS::Backup::BackupVault', {
      Properties: Match.objectLike({ EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlatformKey'), 'Arn'] } }),
      DeletionPolicy: 'Retain',
    });
    base.template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ ScheduleExpression: 'cron(0 3 * * ? *)', Lifecycle: { DeleteAfterDays: 35 } })] },
    });
    base.template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: [Match.objectLike({ 'Fn::Join': Match.anyValue() })] },
    });
  });

  test('retention is a prop, and the vault can be locked', () => {
    const { template } = synth({ backupRetention: Duration.days(90), backupVaultLock: true });
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 90 } })] },
    });
    template.hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: { MinRetentionDays: 90, ChangeableForDays: 3 } });
    expect(JSON.stringify(base.json)).not.toContain('LockConfiguration');
  });
});

describe('the shared tenant role', () => {
  const role = () => resourcesOf(base.template, 'AWS::IAM::Role').find(([id]) => /TenantRole/.test(id))![1];
  const statements = () => {
    const [, policy] = resourcesOf(base.template, 'AWS::IAM::Policy').find(([, p]) => JSON.stringify(p.Properties.Roles).includes('TenantRole'))!;
    return Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
  };

  test('only EKS Pod Identity of this cluster in this account may assume it, with session tags', () => {
    expect(role().Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^PlatformCluster/), 'Arn'] } },
      },
    }]);
  });

  test('secrets: only those tagged with the caller\'s own namespace', () => {
    expect(statements().ReadOwnTenantSecrets).toMatchObject({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Condition: { StringEquals: { 'aws:ResourceTag/tenant-namespace': '${aws:PrincipalTag/kubernetes-namespace}' } },
    });
  });

  test('the key: decrypt only through Secrets Manager and S3', () => {
    expect(statements().DecryptThroughSecretsManagerAndS3Only.Condition.StringEquals['kms:ViaService']).toHaveLength(2);
    expect(JSON.stringify(statements().DecryptThroughSecretsManagerAndS3Only.Condition)).toMatch(/secretsmanager\..*s3\./);
  });

  test('Bedrock: only through the Bedrock role, which invokes only the allowed models and inference profiles', () => {
    expect(JSON.stringify(statements())).not.toContain('bedrock:');
    expect(statements().CallBedrockAsOwnNamespace.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    const [, policy] = resourcesOf(base.template, 'AWS::IAM::Policy').find(([, p]) => /PlatformBedrockRole[0-9A-F]{8}"/.test(JSON.stringify(p.Properties.Roles)))!;
    const bedrock = Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((st: any) => [st.Sid, st]));
    const resources = JSON.stringify(bedrock.InvokeAllowedBedrockModels.Resource);
    expect(resources).toContain('inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(resources).toContain('foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(resources).not.toContain('"*"');
  });

  test('the data bucket: only the caller\'s namespace prefix', () => {
    expect(JSON.stringify(statements().OwnPrefixOfTheDataBucket.Resource)).toContain('/${aws:PrincipalTag/kubernetes-namespace}/*');
    // Never the bare namespace: listing `openclaw-acme` would also list `openclaw-acme2/`.
    expect(statements().ListOwnPrefixOfTheDataBucket.Condition).toEqual({
      StringLike: { 's3:prefix': ['${aws:PrincipalTag/kubernetes-namespace}/', '${aws:PrincipalTag/kubernetes-namespace}/*'] },
    });
  });

  test('more models as a prop; every configured model must be allowed', () => {
    const { platform } = synth({ allowedModelIds: ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-pro-v1:0'] });
    expect(platform.allowedModelIds).toEqual(['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-pro-v1:0']);
    expect(() => synth({ allowedModelIds: ['amazon.nova-pro-v1:0'] })).toThrow(
      /Platform: allowedModelIds must be a list including every model of gatewayConfig \(missing global\.anthropic\.claude-sonnet-4-5-20250929-v1:0\)/);
  });
});

describe('tenants declared in code', () => {
  test('each adds three CloudFormation resources, in a nested stack: its secret, its Pod Identity association and its manifests', () => {
    expect(Object.values(acmeTemplate.toJSON().Resources).map((r: any) => r.Type).sort()).toEqual([
      'AWS::EKS::PodIdentityAssociation', 'AWS::SecretsManager::Secret', 'Custom::AWSCDK-EKS-KubernetesResource',
    ]);
    expect(Stack.of(base.platform.tenants[0]).nested).toBe(true);
    // In the main stack, at most the nested stack itself.
    const zero = Object.keys(synth().json.Resources).length;
    expect(Object.keys(base.json.Resources).length - zero).toBe(1);
  });

  test('the gateway token: openclaw/<tenant>/gateway-token, generated, encrypted with the key, tagged, retained', () => {
    acmeTemplate.hasResource('AWS::SecretsManager::Secret', {
      Properties: {
        Name: 'openclaw/acme/gateway-token',
        Description: Match.anyValue(),
        GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
        KmsKeyId: { Ref: Match.stringLikeRegexp('PlatformKey') },
        Tags: [{ Key: 'budget-usd', Value: '100' }, { Key: 'tenant-namespace', Value: 'openclaw-acme' }],
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('the Pod Identity association binds the tenant service account to the shared role', () => {
    acmeTemplate.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      Namespace: 'openclaw-acme',
      ServiceAccount: 'openclaw',
      RoleArn: { Ref: Match.stringLikeRegexp('TenantRole') },
    });
  });

  test("the manifests applied are the renderer's output, after the secret, the association and the cluster-wide objects", () => {
    const tenant = base.platform.tenants[0];
    expect(tenant.namespace).toBe('openclaw-acme');
    const applied = resourcesOf(acmeTemplate, 'Custom::AWSCDK-EKS-KubernetesResource').find(([id]) => /Tenantacme/.test(id))!;
    expect(manifestsText(acmeTemplate).find((t) => t.includes('"name":"openclaw-acme"'))).toBeDefined();
    const deps: string[] = applied[1].DependsOn;
    expect(deps.some((d) => /GatewayToken/.test(d))).toBe(true);
    expect(deps.some((d) => /PodIdentity/.test(d))).toBe(true);
    // The cluster-wide objects are in the main stack: the tenants' nested stack waits for them.
    const [, nested] = resourcesOf(base.template, 'AWS::CloudFormation::Stack')[0];
    expect(nested.DependsOn.some((d: string) => /StorageClass/.test(d))).toBe(true);
    expect(nested.DependsOn.some((d: string) => /NetworkPolicies/.test(d))).toBe(true);
    expect(tenant.manifests.map((o) => o.kind)).toEqual([
      'Namespace', 'ResourceQuota', 'LimitRange', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'ServiceAccount', 'ConfigMap',
      'PersistentVolumeClaim', 'Deployment', 'Service', 'PodDisruptionBudget',
    ]);
  });

  test("openclaw.json of a tenant carries the platform's origin, the tenant path and the platform's model", () => {
    const cm = base.platform.tenants[0].manifests.find((o) => o.kind === 'ConfigMap');
    const doc = JSON.parse(cm.data['openclaw.json']);
    expect(doc.gateway.controlUi).toMatchObject({ basePath: '/t/acme', allowedOrigins: [`https://${DOMAIN}`] });
    expect(doc.agents.defaults.model.primary).toBe('amazon-bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0');
  });

  test('per-tenant overrides and platform-wide defaults', () => {
    const { platform } = synth({ tenantDefaults: { budgetUsd: 40, cpu: '8' } }, (p) => {
      p.addTenant('small');
      p.addTenant('big', { budgetUsd: 500, memory: '32Gi', maxPods: 30 });
    });
    const quota = (name: string) => platform.tenants.find((t) => t.tenantName === name)!.manifests.find((o) => o.kind === 'ResourceQuota').spec.hard;
    expect(quota('small')).toMatchObject({ 'requests.cpu': '8', 'requests.memory': '8Gi', 'pods': '10' });
    expect(quota('big')).toMatchObject({ 'requests.cpu': '8', 'requests.memory': '32Gi', 'pods': '30' });
    tenantTemplate(platform, 'small').hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'openclaw/small/gateway-token', Tags: Match.arrayWith([{ Key: 'budget-usd', Value: '40' }]) });
    tenantTemplate(platform, 'big').hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'openclaw/big/gateway-token', Tags: Match.arrayWith([{ Key: 'budget-usd', Value: '500' }]) });
  });

  test('the image is pinned by tag and digest; without a digest, synth warns', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const pinned = synth({ image: { tag: '2026.9.6', digest } }, (p) => p.addTenant('acme'));
    expect(pinned.platform.tenants[0].manifests.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image)
      .toBe(`ghcr.io/openclaw/openclaw:2026.9.6@${digest}`);
    Annotations.fromStack(pinned.stack).hasNoWarning('*', Match.stringLikeRegexp('image.digest'));
    Annotations.fromStack(base.stack).hasWarning('/Test/Platform', Match.stringLikeRegexp('image.digest is not set'));
  });
});

describe('stateful resources are retained', () => {
  test.each(['AWS::KMS::Key', 'AWS::EFS::FileSystem', 'AWS::Backup::BackupVault', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret'])('%s', (type) => {
    const all = [...resourcesOf(base.template, type), ...resourcesOf(acmeTemplate, type)];
    expect(all.length).toBeGreaterThan(0);
    for (const [, r] of all) expect(r.DeletionPolicy).toBe('Retain');
  });
});

describe('bad input fails at synth, naming the prop, the value and what is allowed', () => {
  test.each<[string, Partial<OpenClawTenantPlatformProps>, RegExp]>([
    ['one zone', { maxAzs: 1 }, /Test\/Platform: maxAzs must be an integer from 2 to 3, got 1/],
    ['four zones', { maxAzs: 4 }, /maxAzs must be an integer from 2 to 3, got 4/],
    ['a VPC CIDR that is not one', { vpcCidr: '10.0.0.0' }, /vpcCidr must be an IPv4 CIDR block from \/16 to \/20/],
    ['a VPC too small for tenants', { vpcCidr: '10.0.0.0/24' }, /vpcCidr must be an IPv4 CIDR block from \/16 to \/20 .* got '10.0.0.0\/24'/],
    ['a public endpoint open to the internet', { publicEndpointCidrs: ['0.0.0.0/0'] }, /publicEndpointCidrs must be CIDR blocks of your own networks, not the whole internet .* got '0.0.0.0\/0'/],
    ['a public endpoint CIDR that is not one', { publicEndpointCidrs: ['my office'] }, /publicEndpointCidrs must be IPv4 CIDR blocks/],
    ['an edge domain that is not a DNS name', { edge: { domainName: 'https://openclaw.example.com' } }, /edge.domainName must be|domainName must be a lower-case DNS name/],
    ['an admin that is not an ARN', { adminPrincipalArn: 'admin' }, /adminPrincipalArn must be the ARN of an IAM role or user, got 'admin'/],
    ['an admin that is an assumed-role session', { adminPrincipalArn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice' }, /adminPrincipalArn must be the ARN of an IAM role or user/],
    ['a model id that is not a Bedrock id', { allowedModelIds: ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'Claude Sonnet'] }, /allowedModelIds must be Bedrock model ids .* got 'Claude Sonnet'/],
    ['no models', { allowedModelIds: [] }, /allowedModelIds must be at least one Bedrock model/],
    ['the latest tag', { image: { tag: 'latest' } }, /image.tag must be an image tag naming a release \(not 'latest'\), got 'latest'/],
    ['a digest that is not sha256', { image: { digest: 'md5:abc' } }, /image.digest must be 'sha256:' followed by 64 lower-case hex digits, got 'md5:abc'/],
    ['a repository with a tag', { image: { repository: 'ghcr.io/openclaw/openclaw:1' } }, /image.repository must be an image repository/],
    ['tenant default cpu not a quantity', { tenantDefaults: { cpu: 'four' } }, /tenantDefaults.cpu must be a positive Kubernetes quantity/],
    ['tenant default budget zero', { tenantDefaults: { budgetUsd: 0 } }, /tenantDefaults.budgetUsd must be a number of US dollars greater than 0/],
    ['gateway request above its limit', { gatewayResources: { memoryRequest: '4Gi' } }, /gatewayResources.memoryRequest must be at most memoryLimit \(2Gi\), got '4Gi'/],
    ['an alarm e-mail that is not one', { alarmEmails: ['ops'] }, /alarmEmails must be e-mail addresses such as ops@example.com, got 'ops'/],
    ['backup retention of zero days', { backupRetention: Duration.days(0) }, /backupRetention must be from 1 to 36500 days, got '0 days'/],
    ['a gateway config with a model the platform does not allow', { gatewayConfig: new OpenClawConfig({ bedrock: { primaryModel: { modelId: 'amazon.nova-pro-v1:0' } } }), allowedModelIds: ['amazon.nova-lite-v1:0'] }, /missing amazon\.nova-pro-v1:0/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test.each<[string, string, RegExp]>([
    ['not a DNS label', 'Acme Corp', /Test\/Platform: tenant name must be a DNS label .* got 'Acme Corp'/],
    ["too long for 'openclaw-' + name", 'x'.repeat(55), /at most 54 characters so that 'openclaw-<name>' fits in 63/],
    ['reserved', 'system', /tenant name must be not one of the reserved names/],
  ])('a tenant name %s', (_name, tenant, message) => {
    expect(() => synth({}, (p) => p.addTenant(tenant))).toThrow(message);
  });

  test('a tenant added twice', () => {
    expect(() => synth({}, (p) => { p.addTenant('acme'); p.addTenant('acme'); })).toThrow(/addTenant name must be a tenant name not added before, got 'acme'/);
  });

  test('a tenant whose quota cannot hold the gateway', () => {
    expect(() => synth({}, (p) => p.addTenant('tiny', { memory: '1Gi' }))).toThrow(/tenant 'tiny' memory must be at least the gateway's memoryLimit \(2Gi\), got '1Gi'/);
  });

  test('a tenant budget of zero or less', () => {
    expect(() => synth({}, (p) => p.addTenant('free', { budgetUsd: -1 }))).toThrow(/tenant 'free' budgetUsd must be a number of US dollars greater than 0/);
  });
});
