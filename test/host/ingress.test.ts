import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { HostIngress } from '../../src';
import { renderedConfig, resourcesOf, synthHost } from '../util';

const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123', zoneName: 'example.com' });

describe('HostIngress.loadBalancer', () => {
  const { template, userData } = synthHost(undefined, (stack) => ({
    ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', hostedZone: zone(stack), firewall: { blockedCountries: ['KP'] } }),
  }));

  test('HTTPS only: one listener, on 443, with the TLS 1.3 policy', () => {
    const listeners = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties);
    expect(listeners).toHaveLength(1);
    expect(listeners[0]).toEqual(expect.objectContaining({ Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' }));
  });

  test('the health check path is /healthz', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/healthz', Matcher: { HttpCode: '200' } });
  });

  test('the instance admits the gateway port from the load balancer\'s group only', () => {
    const rules = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    const toHost = rules.filter((r) => JSON.stringify(r.GroupId).includes('HostSecurityGroup'));
    expect(toHost).toEqual([expect.objectContaining({ FromPort: 18789, ToPort: 18789, SourceSecurityGroupId: expect.anything() })]);
    expect(toHost[0].CidrIp).toBeUndefined();
    expect(JSON.stringify(toHost[0].SourceSecurityGroupId)).toContain('LoadBalancerSecurityGroup');
  });

  test('a regional WAF with a per-IP rate limit, managed rule groups and geo-blocking guards the load balancer', () => {
    const [, acl] = resourcesOf(template, 'AWS::WAFv2::WebACL')[0];
    expect(acl.Properties.Scope).toBe('REGIONAL');
    const names = acl.Properties.Rules.map((r: any) => r.Name);
    expect(names).toEqual(['GeoBlock', 'RateLimitPerIp', 'AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']);
    expect(acl.Properties.Rules[0].Statement.GeoMatchStatement.CountryCodes).toEqual(['KP']);
    expect(acl.Properties.Rules[1].Statement.RateBasedStatement).toEqual(expect.objectContaining({ Limit: 1000, AggregateKeyType: 'IP' }));
    expect(resourcesOf(template, 'AWS::WAFv2::WebACLAssociation')).toHaveLength(1);
    expect(resourcesOf(template, 'AWS::WAFv2::LoggingConfiguration')).toHaveLength(1);
  });

  test('the load balancer drops invalid headers and writes access logs', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  test('OpenClaw listens on the VPC with TLS, trusts only the load balancer subnets, and allows only the domain as origin', () => {
    const config = renderedConfig(userData);
    expect(config.gateway.bind).toBe('lan');
    expect(config.gateway.tls).toEqual({ enabled: true, autoGenerate: true });
    expect(config.gateway.trustedProxies).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(config.gateway.controlUi.allowedOrigins).toEqual(['https://openclaw.example.com']);
    expect(config.gateway.auth.mode).toBe('token');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'HTTPS', HealthCheckProtocol: 'HTTPS' });
  });

  test('an alias record points the domain at the load balancer', () => {
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'openclaw.example.com.', Type: 'A' });
  });
});

describe('HostIngress.loadBalancerWithCognito', () => {
  const { template, userData } = synthHost(undefined, (stack) => ({
    ingress: HostIngress.loadBalancerWithCognito({ domainName: 'openclaw.example.com', hostedZone: zone(stack), cognitoDomainPrefix: 'example-openclaw' }),
  }));

  test('the listener signs users in with Cognito before forwarding', () => {
    const [, listener] = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::Listener')[0];
    expect(listener.Properties.DefaultActions.map((a: any) => a.Type)).toEqual(['authenticate-cognito', 'forward']);
  });

  test('the user pool is hardened: admin-only sign-up, MFA, 12-character passwords, threat protection, deletion protection, retained', () => {
    const [, pool] = resourcesOf(template, 'AWS::Cognito::UserPool')[0];
    expect(pool.Properties.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(pool.Properties.MfaConfiguration).toBe('ON');
    expect(pool.Properties.Policies.PasswordPolicy.MinimumLength).toBe(12);
    expect(pool.Properties.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
    expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
    expect(pool.DeletionPolicy).toBe('Retain');
  });

  test('OpenClaw runs in trusted-proxy mode on the Cognito identity header and needs no gateway token', () => {
    const config = renderedConfig(userData);
    expect(config.gateway.auth.mode).toBe('trusted-proxy');
    expect(config.gateway.auth.trustedProxy).toEqual({ userHeader: 'x-amzn-oidc-identity', requiredHeaders: ['x-amzn-oidc-data'] });
    expect(config.gateway.auth.token).toBeUndefined();
    expect(config.gateway.trustedProxies).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(resourcesOf(template, 'AWS::SecretsManager::Secret')).toHaveLength(0);
  });

  test('the retired dangerouslyDisableDeviceAuth key is never emitted', () => {
    expect(userData).not.toContain('dangerouslyDisableDeviceAuth');
  });
});

describe('HostIngress.publicInstance (the budget tier)', () => {
  const { template, userData } = synthHost({ ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/24'] }) });

  test('no NAT and no load balancer; an Elastic IP on an instance in a public subnet', () => {
    expect(resourcesOf(template, 'AWS::EC2::NatGateway')).toHaveLength(0);
    expect(resourcesOf(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(0);
    expect(resourcesOf(template, 'AWS::EC2::EIPAssociation')).toHaveLength(1);
    const [, instance] = resourcesOf(template, 'AWS::EC2::Instance')[0];
    expect(JSON.stringify(instance.Properties.NetworkInterfaces[0].SubnetId)).toContain('PublicSubnet');
  });

  test('only the allowed CIDRs reach the gateway port, and nothing reaches port 22', () => {
    const [, group] = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('HostSecurityGroup'))!;
    expect(group.Properties.SecurityGroupIngress).toEqual([expect.objectContaining({ CidrIp: '203.0.113.0/24', FromPort: 18789, ToPort: 18789 })]);
  });

  test('TLS terminates on the instance and token auth stays on', () => {
    const config = renderedConfig(userData);
    expect(config.gateway.tls).toEqual({ enabled: true, autoGenerate: true });
    expect(config.gateway.bind).toBe('lan');
    expect(config.gateway.auth.mode).toBe('token');
  });
});
