import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import { HostIngress, NatStrategy, SecureOpenClawHost } from '../../src';
import { renderedConfig, resourcesOf, synthHost, testApp } from '../util';

const certificate = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'C', 'arn:aws:acm:us-east-1:111122223333:certificate/x');

describe('SecureOpenClawHost options', () => {
  test('anthropicApiKey and telegramBotToken create secrets the role may read and openclaw.json references through the resolver', () => {
    const { template, userData } = synthHost({ anthropicApiKey: true, telegramBotToken: true });
    const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret').map(([id]) => id);
    expect(secrets).toHaveLength(3);
    const config = renderedConfig(userData);
    expect(config.models.providers.anthropic.apiKey).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id: '${TOKEN}' });
    expect(config.channels.telegram.botToken).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id: '${TOKEN}' });
    const allow = config.secrets.providers['aws-secrets-manager'].args.filter((a: string) => a !== '--allow-prefix');
    expect(allow.filter((a: string) => a === '${TOKEN}')).toHaveLength(4); // three secret ARNs and the region
    const statements = resourcesOf(template, 'AWS::IAM::Policy').map(([, p]) => p.Properties.PolicyDocument.Statement).flat();
    const readable = statements.filter((s: any) => ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue')).map((s: any) => s.Resource.Ref).sort();
    expect(readable).toEqual([...secrets].sort());
  });

  test('grantReadSecrets lets another principal read every secret of the host', () => {
    const stack = new Stack(testApp(), 'Grant');
    const host = new SecureOpenClawHost(stack, 'Host', { anthropicApiKey: true });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    host.grantReadSecrets(role);
    const template = Template.fromStack(stack);
    const policy = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('ReaderDefaultPolicy'))![1];
    const reads = policy.Properties.PolicyDocument.Statement.filter((s: any) => ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(reads).toHaveLength(2);
  });

  test('accountTrail adds an all-region trail with log file validation, encrypted with the host key', () => {
    const { template } = synthHost({ accountTrail: true });
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true, KMSKeyId: Match.anyValue(),
    });
  });

  test('NatStrategy.INSTANCE replaces the NAT gateway with one NAT instance that admits only the VPC', () => {
    const { template } = synthHost({ natStrategy: NatStrategy.INSTANCE });
    expect(resourcesOf(template, 'AWS::EC2::NatGateway')).toHaveLength(0);
    expect(resourcesOf(template, 'AWS::EC2::Instance')).toHaveLength(2);
    const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup').map(([, g]) => g.Properties.SecurityGroupIngress ?? []).flat();
    expect(groups.every((r: any) => r.CidrIp !== '0.0.0.0/0')).toBe(true);
  });

  test('vpcEndpoints adds seven interface endpoints in one zone', () => {
    const { template } = synthHost({ vpcEndpoints: true });
    const endpoints = resourcesOf(template, 'AWS::EC2::VPCEndpoint').filter(([, e]) => e.Properties.VpcEndpointType === 'Interface');
    expect(endpoints).toHaveLength(7);
    for (const [, e] of endpoints) expect(e.Properties.SubnetIds).toHaveLength(1);
  });

  test('persistentAgentData: EFS encrypted with the host key, NFS only from the host, mounted with TLS and IAM, backed up daily', () => {
    const { template, userData } = synthHost({ persistentAgentData: true });
    const [keyId] = resourcesOf(template, 'AWS::KMS::Key')[0];
    template.hasResourceProperties('AWS::EFS::FileSystem', { Encrypted: true, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const nfs = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties).filter((r) => r.FromPort === 2049);
    expect(nfs).toEqual([expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^HostSecurityGroup/), 'GroupId'] } })]);
    expect(userData).toContain('efs _netdev,tls,iam,noresvport 0 0');
    const [, selection] = resourcesOf(template, 'AWS::Backup::BackupSelection')[0];
    expect(JSON.stringify(selection.Properties.BackupSelection.Resources)).toContain('elasticfilesystem');
  });

  test('with a load balancer, alarms also watch 5xx answers and unhealthy targets', () => {
    const { template } = synthHost(undefined, (stack) => ({
      ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate: certificate(stack) }),
    }));
    const metrics = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.MetricName);
    expect(metrics).toEqual(expect.arrayContaining(['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'UnHealthyHostCount']));
  });

  test('the estimate follows the shape: the budget tier has no NAT and an Elastic IP, the load balancer shape adds the load balancer and WAF', () => {
    const budget = synthHost({ ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/24'] }) }).host.estimatedMonthlyCost;
    expect(budget.items.map((i) => i.item)).toEqual(expect.arrayContaining(['Elastic IP']));
    expect(budget.items.map((i) => i.item)).not.toContain('NAT gateway');
    const lb = synthHost(undefined, (stack) => ({
      ingress: HostIngress.loadBalancer({ domainName: 'openclaw.example.com', certificate: certificate(stack) }),
    })).host.estimatedMonthlyCost;
    expect(lb.items.map((i) => i.item)).toEqual(expect.arrayContaining(['Application load balancer', 'WAF web ACL']));
    expect(lb.totalMonthlyUsd).toBeGreaterThan(budget.totalMonthlyUsd);
  });
});
