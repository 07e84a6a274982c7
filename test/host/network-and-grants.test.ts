import { Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { HostIngress } from '../../src';
import { renderSetupScript } from '../../src/host/boot';
import { resourcesOf, synthHost, ingressRulesOf } from '../util';

describe('the host\'s network and grants', () => {
  const { template } = synthHost();

  test('the new VPC is 10.0.0.0/16 with DNS support and hostnames, attached to an internet gateway', () => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16', EnableDnsSupport: true, EnableDnsHostnames: true });
    expect(resourcesOf(template, 'AWS::EC2::InternetGateway')).toHaveLength(1);
    expect(resourcesOf(template, 'AWS::EC2::VPCGatewayAttachment')).toHaveLength(1);
  });

  test('the default instance sits in a private subnet', () => {
    const [, instance] = resourcesOf(template, 'AWS::EC2::Instance')[0];
    expect(JSON.stringify(instance.Properties.NetworkInterfaces[0].SubnetId)).toContain('PrivateSubnet');
  });

  test('the role may write its own log groups, publish CWAgent metrics only, and read and write its own backup bucket', () => {
    const statements = resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('HostRole')).map(([, p]) => p.Properties.PolicyDocument.Statement).flat();
    const metrics = statements.find((s: any) => s.Sid === 'PublishAgentMetrics');
    expect(metrics.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CWAgent' } });
    const logWrites = statements.filter((s: any) => ([] as string[]).concat(s.Action).includes('logs:PutLogEvents'));
    expect(logWrites.map((s: any) => JSON.stringify(s.Resource)).join()).toMatch(/HostLogs.*HostAccessSessionLogs|HostAccessSessionLogs.*HostLogs/);
    const bucket = statements.filter((s: any) => ([] as string[]).concat(s.Action).includes('s3:PutObject'));
    expect(bucket).toHaveLength(1);
    expect(JSON.stringify(bucket[0].Resource)).toContain('HostBackups');
  });
});

describe('the load balancer shapes\' certificate, public rule and user pool details', () => {
  const { template } = synthHost(undefined, (stack: Stack) => ({
    ingress: HostIngress.loadBalancerWithCognito({
      domainName: 'openclaw.example.com',
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123', zoneName: 'example.com' }),
    }),
  }));

  test('a DNS-validated certificate for the domain is created in the hosted zone', () => {
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'openclaw.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'openclaw.example.com', HostedZoneId: 'Z0123' }],
    });
  });

  test('by default the load balancer admits HTTPS from anywhere, and only on 443', () => {
    const [groupId] = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('HostLoadBalancerSecurityGroup'))!;
    expect(ingressRulesOf(template, groupId)).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
  });

  test('temporary passwords are valid one day and MFA is TOTP only', () => {
    const [, pool] = resourcesOf(template, 'AWS::Cognito::UserPool')[0];
    expect(pool.Properties.Policies.PasswordPolicy.TemporaryPasswordValidityDays).toBe(1);
    expect(pool.Properties.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
  });
});

test('the Ollama unit runs as its own user without a login shell, sandboxed', () => {
  const script = renderSetupScript({
    openClawVersion: '2026.9.6',
    nodeMajorVersion: 24,
    region: 'us-east-1',
    gatewayPort: 18789,
    configJson: '{}',
    resolverScript: '',
    logGroupName: 'l',
    backupBucketName: 'b',
    ollama: { version: 'v0.12.6', sha256: 'a'.repeat(64), arch: 'amd64' },
  });
  expect(script).toContain('useradd --system --no-create-home --home-dir /var/lib/ollama --shell /sbin/nologin ollama');
  for (const line of ['User=ollama', 'NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=true', 'PrivateTmp=true']) {
    expect(script.split('\n')).toContain(line);
  }
});
