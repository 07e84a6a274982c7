import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { NAG_PACKS, runNagPacks } from '../../examples/ts/inspect';
import { EdgeOrigin, InstanceEdgeOriginOptions, OpenClawEdge, OpenClawEdgeProps } from '../../src';
import { ingressRulesOf, resourcesOf, testApp } from '../util';

const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';
const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0b1c2d3e-0000-4000-8000-000000000000';

function world(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const instance = new ec2.Instance(stack, 'Gateway', {
    vpc, instanceType: new ec2.InstanceType('t3.small'), machineImage: ec2.MachineImage.latestAmazonLinux2023(),
  });
  return { vpc, instance };
}

function synth(build?: (stack: Stack, w: ReturnType<typeof world>) => Partial<OpenClawEdgeProps>, app: App = testApp()) {
  const stack = new Stack(app, 'Test');
  const w = world(stack);
  const props = build?.(stack, w) ?? {};
  const edge = new OpenClawEdge(stack, 'Edge', {
    origin: EdgeOrigin.instance(w.instance, { port: 18789, connections: w.instance.connections }),
    ...props,
  });
  const template = Template.fromStack(stack);
  const [, distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution')[0];
  const [, acl] = resourcesOf(template, 'Custom::OpenClawEdgeWebAcl')[0];
  const rules = JSON.parse(acl.Properties.RulesJson);
  return { app, stack, edge, template, w, config: distribution.Properties.DistributionConfig, acl: acl.Properties, rules };
}

describe('OpenClawEdge with an instance origin and no other props', () => {
  const { config, template, w, stack, edge } = synth();

  test('HTTPS only (HTTP redirects), HTTP/2 and HTTP/3, IPv6, the cheapest price class', () => {
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.HttpVersion).toBe('http2and3');
    expect(config.IPV6Enabled).toBe(true);
    expect(config.PriceClass).toBe('PriceClass_100');
  });

  test('the gateway is never cached: caching disabled, every method, every viewer header, cookie and query string but Host forwarded', () => {
    const behavior = config.DefaultCacheBehavior;
    expect(behavior.CachePolicyId).toBe(CACHING_DISABLED);
    expect(behavior.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
  });

  test('every response carries HSTS (2 years, subdomains), nosniff, frame DENY and a strict referrer policy', () => {
    const [, policy] = resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy')[0];
    expect(policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig).toEqual({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
    });
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: expect.stringMatching(/^EdgeSecurityHeaders/) });
  });

  test('the origin is a VPC origin to the instance over HTTP on the gateway port: no public origin exists', () => {
    const [, origin] = resourcesOf(template, 'AWS::CloudFront::VpcOrigin')[0];
    const endpoint = origin.Properties.VpcOriginEndpointConfig;
    expect(endpoint).toEqual(expect.objectContaining({ HTTPPort: 18789, OriginProtocolPolicy: 'http-only' }));
    expect(JSON.stringify(endpoint.Arn)).toContain(stack.resolve((w.instance.node.defaultChild as ec2.CfnInstance).logicalId));
    expect(config.Origins[0].VpcOriginConfig).toEqual(expect.objectContaining({ OriginReadTimeout: 60, OriginKeepaliveTimeout: 60 }));
    expect(config.Origins[0].CustomOriginConfig).toBeUndefined();
  });

  test('the instance admits the gateway port only from CloudFront\'s origin-facing prefix list, looked up by name at deploy time', () => {
    const groupId = stack.resolve((w.instance.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup).logicalId);
    const rules = ingressRulesOf(template, groupId);
    const fromPrefixList = { 'Fn::GetAtt': [expect.stringMatching(/^CloudFrontOriginFacingPrefixList/), 'PrefixLists.0.PrefixListId'] };
    expect(rules).toEqual([expect.objectContaining({ FromPort: 18789, ToPort: 18789, SourcePrefixListId: fromPrefixList })]);
    const [, lookup] = resourcesOf(template, 'Custom::CloudFrontOriginFacingPrefixList')[0];
    expect(JSON.parse(lookup.Properties.Create).parameters)
      .toEqual({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.global.cloudfront.origin-facing'] }] });
  });

  test('no literal pl- prefix list id anywhere in the template', () => {
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"pl-[0-9a-f]+"/);
  });

  test('the web ACL comes from the us-east-1 custom resource and protects the distribution', () => {
    expect(config.WebACLId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EdgeWebAcl/), 'Arn'] });
    expect(stack.resolve(edge.webAclArn)).toEqual(config.WebACLId);
  });

  test('access logs go to a retained, versioned, TLS-only bucket with public access blocked (ACLs on for CloudFront\'s log delivery, SSE-S3)', () => {
    expect(config.Logging).toEqual({ Bucket: { 'Fn::GetAtt': [expect.stringMatching(/^EdgeAccessLogs/), 'RegionalDomainName'] }, Prefix: 'cloudfront/' });
    const [, bucket] = resourcesOf(template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('EdgeAccessLogs'))!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerPreferred' }]);
    expect(bucket.Properties.PublicAccessBlockConfiguration)
      .toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
  });

  test('url is the distribution\'s own https origin', () => {
    expect(stack.resolve(edge.url)).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^EdgeDistribution/), 'DomainName'] }]] });
  });
});

describe('OpenClawEdge web ACL', () => {
  test('default rules: rate limit 2000 per 5 minutes per IP, then IP reputation, common and known bad inputs; nothing else', () => {
    const { rules } = synth();
    expect(rules.map((r: any) => [r.Priority, r.Name])).toEqual([
      [0, 'RateLimitPerIp'], [1, 'AWSManagedRulesAmazonIpReputationList'], [2, 'AWSManagedRulesCommonRuleSet'], [3, 'AWSManagedRulesKnownBadInputsRuleSet'],
    ]);
    expect(rules[0].Statement.RateBasedStatement).toEqual({ Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 });
    expect(rules[0].Action).toEqual({ Block: {} });
    for (const r of rules.slice(1)) expect(r.OverrideAction).toEqual({ None: {} });
  });

  test('every rule, the library\'s and yours, has CloudWatch metrics and sampled requests on', () => {
    const { rules } = synth(() => ({
      firewall: {
        botControl: true,
        blockedCountries: ['KP'],
        customRules: [{
          name: 'BlockAdminPath',
          priority: 100,
          action: { block: {} },
          statement: { byteMatchStatement: { searchString: '/admin', fieldToMatch: { uriPath: {} }, positionalConstraint: 'STARTS_WITH', textTransformations: [{ priority: 0, type: 'NONE' }] } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: 'block-admin' },
        }],
      },
    }));
    expect(rules).toHaveLength(7);
    const observable = expect.objectContaining({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: expect.any(String) });
    for (const r of rules) expect(r.VisibilityConfig).toEqual(observable);
  });

  test('options: geo block or allow list first, Bot Control at the common level, custom rules last in the WAF API\'s shape', () => {
    const { rules } = synth(() => ({
      firewall: {
        allowedCountries: ['DE', 'AT'],
        botControl: true,
        rateLimitPer5Minutes: 300,
        customRules: [{
          name: 'Mine',
          priority: 100,
          action: { block: {} },
          statement: { ipSetReferenceStatement: { arn: 'arn:aws:wafv2:us-east-1:111122223333:global/ipset/bad/abc' } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: 'mine' },
        }],
      },
    }));
    expect(rules[0]).toEqual(expect.objectContaining({ Name: 'AllowOnlyCountries', Action: { Block: {} }, Statement: { NotStatement: { Statement: { GeoMatchStatement: { CountryCodes: ['DE', 'AT'] } } } } }));
    expect(rules[1].Statement.RateBasedStatement.Limit).toBe(300);
    expect(rules.find((r: any) => r.Name === 'AWSManagedRulesBotControlRuleSet').Statement.ManagedRuleGroupStatement.ManagedRuleGroupConfigs)
      .toEqual([{ AWSManagedRulesBotControlRuleSet: { InspectionLevel: 'COMMON' } }]);
    expect(rules[rules.length - 1]).toEqual({
      Name: 'Mine',
      Priority: 100,
      Action: { Block: {} },
      Statement: { IPSetReferenceStatement: { ARN: 'arn:aws:wafv2:us-east-1:111122223333:global/ipset/bad/abc' } },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: 'mine' },
    });
  });

  test('a us-east-1 key for the WAF log group is passed to the handler', () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/0b1c2d3e-0000-4000-8000-000000000000';
    expect(synth(() => ({ firewall: { logEncryptionKeyArn: key } })).acl.LogKmsKeyArn).toBe(key);
  });

  test('full logging to an aws-waf-logs- log group kept a year, with Authorization and Cookie redacted', () => {
    const { acl, edge } = synth();
    expect(acl.LogGroupName).toMatch(/^aws-waf-logs-/);
    expect(acl.LogGroupName).toBe(edge.webAclLogGroupName);
    expect(acl.LogRetentionDays).toBe('365');
    expect(acl.RedactedHeaders).toEqual(['authorization', 'cookie']);
  });

  test('the handler may manage only this web ACL and its log group in us-east-1', () => {
    const { template, acl } = synth();
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('EdgeWebAclHandlerServiceRoleDefaultPolicy'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    const own = statements.find((s: any) => (s.Action as string[]).includes('wafv2:DeleteWebACL'));
    expect(JSON.stringify(own.Resource)).toContain(':wafv2:us-east-1:');
    expect(JSON.stringify(own.Resource)).toContain(`:global/webacl/${acl.Name}/*`);
    const logs = statements.find((s: any) => (s.Action as string[]).includes('logs:CreateLogGroup'));
    expect(JSON.stringify(logs.Resource)).toContain(':logs:us-east-1:');
    expect(JSON.stringify(logs.Resource)).toContain(`log-group:${acl.LogGroupName}`);
    for (const s of statements) expect(s.Action).not.toContain('wafv2:*');
  });
});

describe('OpenClawEdge custom domain', () => {
  test('aliases, a us-east-1 certificate with TLS 1.2 (2021) and SNI, and A and AAAA alias records', () => {
    const { config, template, edge, stack } = synth((s) => ({
      domainName: 'openclaw.example.com',
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT),
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }),
    }));
    expect(config.Aliases).toEqual(['openclaw.example.com']);
    expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    expect(resourcesOf(template, 'AWS::Route53::RecordSet').map(([, r]) => [r.Properties.Type, r.Properties.Name])).toEqual([['A', 'openclaw.example.com.'], ['AAAA', 'openclaw.example.com.']]);
    expect(stack.resolve(edge.url)).toBe('https://openclaw.example.com');
  });
});

describe('OpenClawEdge with an internal load balancer origin', () => {
  test('a VPC origin over HTTPS (TLS 1.2) to the name the certificate covers; the load balancer admits 443 from CloudFront only', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    const { vpc } = world(stack);
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Internal', { vpc, internetFacing: false });
    new OpenClawEdge(stack, 'Edge', { origin: EdgeOrigin.loadBalancer(alb, { domainName: 'origin.example.com' }) });
    const template = Template.fromStack(stack);
    const [, origin] = resourcesOf(template, 'AWS::CloudFront::VpcOrigin')[0];
    expect(origin.Properties.VpcOriginEndpointConfig)
      .toEqual(expect.objectContaining({ HTTPSPort: 443, OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] }));
    const [, distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution')[0];
    expect(distribution.Properties.DistributionConfig.Origins[0].DomainName).toBe('origin.example.com');
    const groupId = stack.resolve((alb.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup).logicalId);
    const fromPrefixList = expect.objectContaining({ 'Fn::GetAtt': expect.anything() });
    expect(ingressRulesOf(template, groupId)).toEqual([expect.objectContaining({ FromPort: 443, SourcePrefixListId: fromPrefixList })]);
  });

  test('two edges in one stack share one prefix list lookup', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    const { instance } = world(stack);
    new OpenClawEdge(stack, 'A', { origin: EdgeOrigin.instance(instance, { port: 18789 }) });
    new OpenClawEdge(stack, 'B', { origin: EdgeOrigin.instance(instance, { port: 18789, connections: instance.connections }) });
    expect(resourcesOf(Template.fromStack(stack), 'Custom::CloudFrontOriginFacingPrefixList')).toHaveLength(1);
  });
});

describe('OpenClawEdge cdk-nag', () => {
  test.each([
    ['defaults', () => ({})],
    ['every option', (s: Stack) => ({
      domainName: 'openclaw.example.com',
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT),
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }),
      firewall: { botControl: true, blockedCountries: ['KP'] },
    })],
  ])('the packs report no unacknowledged finding on the edge (%s)', (_name, build) => {
    const app = new App({ context: { 'aws:cdk:disable-asset-staging': true } });
    synth(build as any, app);
    app.synth();
    const findings = runNagPacks(app);
    // The test's own VPC and instance are not the edge's; everything else must be clean.
    for (const pack of NAG_PACKS) expect(findings[pack.name].filter((f: any) => !/^Test\/(Vpc|Gateway)\//.test(f.path))).toEqual([]);
  });
});

describe('OpenClawEdge bad input fails at synth, naming the prop', () => {
  const instanceOrigin = (options: Partial<InstanceEdgeOriginOptions>) => (_s: Stack, w: ReturnType<typeof world>) => ({
    origin: EdgeOrigin.instance(w.instance, { port: 18789, ...options }),
  });
  test.each<[string, (s: Stack, w: ReturnType<typeof world>) => Partial<OpenClawEdgeProps>, RegExp]>([
    ['a rate limit under WAF\'s minimum', () => ({ firewall: { rateLimitPer5Minutes: 5 } }), /Test\/Edge: firewall.rateLimitPer5Minutes must be an integer from 10 to 2000000000, got 5/],
    ['a country by name', () => ({ firewall: { blockedCountries: ['Germany'] } }), /firewall.blockedCountries must be ISO 3166-1 alpha-2 country codes in capitals such as DE or US, got 'Germany'/],
    ['a country code in lower case', () => ({ firewall: { allowedCountries: ['de'] } }), /firewall.allowedCountries must be ISO 3166-1 alpha-2 .*got 'de'/],
    ['both an allow list and a block list', () => ({ firewall: { allowedCountries: ['DE'], blockedCountries: ['KP'] } }), /firewall.blockedCountries must be left out when allowedCountries is given/],
    ['a log key outside us-east-1', () => ({ firewall: { logEncryptionKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-0000-4000-8000-000000000000' } }),
      /firewall.logEncryptionKeyArn must be the ARN of a KMS key in us-east-1.*got 'arn:aws:kms:eu-west-1/],
    ['a custom rule among the library\'s priorities', () => ({
      firewall: { customRules: [{ name: 'Early', priority: 3, action: { block: {} }, statement: {}, visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: 'e' } }] },
    }), /firewall.customRules must be rules at priority 100 or more \(the library's rules come first\), got 'Early at priority 3'/],
    ['a custom rule without metrics', () => ({
      firewall: { customRules: [{ name: 'Dark', priority: 100, action: { block: {} }, statement: {}, visibilityConfig: { cloudWatchMetricsEnabled: false, sampledRequestsEnabled: true, metricName: 'd' } }] },
    }), /firewall.customRules must be rules with visibilityConfig.cloudWatchMetricsEnabled and sampledRequestsEnabled true.*got 'Dark'/],
    ['a custom domain without a certificate or a zone to validate one', () => ({ domainName: 'openclaw.example.com' }),
      /certificate must be a certificate in us-east-1 for openclaw.example.com, or hostedZone to validate a new one, when domainName is given, got 'nothing'/],
    ['a certificate outside us-east-1', (s) => ({ domainName: 'openclaw.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'C', CERT.replace('us-east-1', 'eu-west-1')) }),
      /certificate must be a certificate in us-east-1 \(CloudFront only uses certificates from there\), got 'arn:aws:acm:eu-west-1/],
    ['a hosted zone without a domain name', (s) => ({ hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Z', { hostedZoneId: 'Z1', zoneName: 'example.com' }) }), /domainName must be the record name to create in hostedZone/],
    ['a domain name with upper case and a space', (s) => ({ domainName: 'Open Claw.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'C', CERT) }), /domainName must be a lower-case DNS name such as openclaw.example.com, got 'Open Claw.example.com'/],
    ['an origin read timeout above 120 seconds', instanceOrigin({ readTimeout: Duration.seconds(300) }), /origin.readTimeout must be a whole number of seconds from 1 to 120, got '5 minutes'/],
    ['an origin keepalive timeout of half a second', instanceOrigin({ keepaliveTimeout: Duration.millis(500) }), /origin.keepaliveTimeout must be a whole number of seconds from 1 to 120/],
    ['an origin port CloudFront does not connect to', instanceOrigin({ port: 22 }), /origin.port must be 80, 443 or a port from 1024 to 65535 \(the ports CloudFront connects to\), got 22/],
  ])('%s', (_name, build, message) => {
    expect(() => synth(build)).toThrow(message);
  });
});

describe('OpenClawEdge cost estimate', () => {
  test('distribution, web ACL with its rules and requests, logs and the key; Bot Control adds its subscription', () => {
    const plain = synth().edge.estimatedMonthlyCost;
    expect(plain.items.map((i) => i.item).sort()).toEqual([
      'CloudFront HTTPS requests', 'CloudFront data out', 'CloudWatch alarms (2, us-east-1)', 'KMS key', 'S3 (access logs)', 'WAF logs (CloudWatch Logs, us-east-1)', 'WAF web ACL (4 rules)',
    ]);
    expect(plain.items.find((i) => i.item === 'WAF web ACL (4 rules)')!.monthlyUsd).toBeCloseTo(5 + 4 + 0.6, 2);
    expect(plain.totalMonthlyUsd).toBeCloseTo(plain.items.reduce((sum, i) => sum + i.monthlyUsd, 0), 2);
    const bots = synth(() => ({ firewall: { botControl: true, blockedCountries: ['KP'] } })).edge.estimatedMonthlyCost;
    expect(bots.items.map((i) => i.item)).toEqual(expect.arrayContaining(['WAF Bot Control (common)', 'WAF web ACL (5 rules)']));
    expect(bots.totalMonthlyUsd - plain.totalMonthlyUsd).toBeCloseTo(10 + 1 + 1, 2);
  });

  test('docs/edge.md states the default estimate, rounded to the dollar', () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'edge.md'), 'utf8');
    const stated = /With the defaults: about (\d+) USD a month/.exec(docs);
    expect(Number(stated![1])).toBe(Math.round(synth().edge.estimatedMonthlyCost.totalMonthlyUsd));
  });
});

describe('OpenClawEdge certificate request', () => {
  test('a domain and a zone without a certificate: one is requested in us-east-1 and validated in the zone, whatever the stack region', () => {
    const { template, config } = synth((s) => ({
      domainName: 'openclaw.example.com',
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' }),
    }));
    const [id, request] = resourcesOf(template, 'AWS::CloudFormation::CustomResource').find(([i]) => i.startsWith('EdgeCertificate'))!;
    expect(request.Properties).toEqual(expect.objectContaining({ DomainName: 'openclaw.example.com', Region: 'us-east-1', HostedZoneId: 'Z0123456789EXAMPLE', CleanupRecords: 'true' }));
    expect(config.ViewerCertificate.AcmCertificateArn).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
  });
});

describe('OpenClawEdge alarms', () => {
  const alarmsOf = (template: Template) => {
    const [, resource] = resourcesOf(template, 'Custom::OpenClawEdgeAlarms')[0];
    // The distribution id is a token: the JSON is a Fn::Join whose references are shown as <Ref:...>.
    const json = resource.Properties.AlarmsJson;
    const text = typeof json === 'string' ? json
      : json['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `<${Object.keys(p)[0]}:${JSON.stringify(Object.values(p)[0]).replace(/"/g, '')}>`)).join('');
    return { props: resource.Properties, alarms: JSON.parse(text) };
  };

  test('blocked-request spikes (WAF) and the 5xx rate (CloudFront) alarm on their us-east-1 metrics', () => {
    const { template, acl } = synth();
    const { alarms } = alarmsOf(template);
    expect(alarms).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/WAFV2',
        MetricName: 'BlockedRequests',
        Dimensions: [{ Name: 'WebACL', Value: acl.MetricName }, { Name: 'Rule', Value: 'ALL' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 500,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
      expect.objectContaining({
        Namespace: 'AWS/CloudFront',
        MetricName: '5xxErrorRate',
        Statistic: 'Average',
        Period: 300,
        EvaluationPeriods: 3,
        Threshold: 5,
        Dimensions: [{ Name: 'DistributionId', Value: expect.stringMatching(/^<Ref:EdgeDistribution[0-9A-F]{8}>$/) }, { Name: 'Region', Value: 'Global' }],
      }),
    ]);
  });

  test('their state changes are forwarded from us-east-1 to the stack region and reach the alarm topic, encrypted with the key', () => {
    const { template, stack, edge } = synth(() => ({ alarmEmails: ['ops@example.com'] }));
    const { props } = alarmsOf(template);
    expect(props.TargetRegion).toEqual({ Ref: 'AWS::Region' });
    expect(JSON.stringify(props.TargetEventBusArn)).toContain(':event-bus/default');
    const [, role] = resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.includes('AlarmsForwardRole'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
    const [, rolePolicy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.includes('AlarmsForwardRole'))!;
    expect(rolePolicy.Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({ Action: 'events:PutEvents' })]);
    const [, rule] = resourcesOf(template, 'AWS::Events::Rule').find(([id]) => id.includes('AlarmsNotifyRule'))!;
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], 'resources': stack.resolve(edge.alarmArns),
    });
    expect(rule.Properties.Targets[0].Arn).toEqual(stack.resolve(edge.alarmTopic.topicArn));
    const [, topic] = resourcesOf(template, 'AWS::SNS::Topic')[0];
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EdgeKey/), 'Arn'] });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('the handler may manage only these alarms and this forwarding rule, and pass only the forwarding role to EventBridge', () => {
    const { template } = synth();
    const { props } = alarmsOf(template);
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('EdgeWebAclHandlerServiceRoleDefaultPolicy'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    const alarms = statements.find((s: any) => (s.Action as string[]).includes?.('cloudwatch:PutMetricAlarm'));
    expect(JSON.stringify(alarms.Resource)).toMatch(/:cloudwatch:us-east-1:.*:alarm:Test-Edge-Alarms-[0-9A-F]{8}-\*/);
    const rules = statements.find((s: any) => (s.Action as string[]).includes?.('events:PutRule'));
    expect(JSON.stringify(rules.Resource)).toContain(':events:us-east-1:');
    expect(JSON.stringify(rules.Resource)).toContain(`:rule/${props.ForwardRuleName}`);
    expect(props.ForwardRuleName.length).toBeLessThanOrEqual(64);
    const pass = statements.find((s: any) => s.Action === 'iam:PassRole');
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } });
  });

  test('thresholds are props', () => {
    const { template } = synth(() => ({ blockedRequestsAlarmThreshold: 50, errorRateAlarmPercent: 2 }));
    expect(alarmsOf(template).alarms.map((a: any) => a.Threshold)).toEqual([50, 2]);
  });

  test.each<[string, Partial<OpenClawEdgeProps>, RegExp]>([
    ['a blocked-requests threshold of zero', { blockedRequestsAlarmThreshold: 0 }, /blockedRequestsAlarmThreshold must be an integer from 1 to 1000000000, got 0/],
    ['an error rate above 100 percent', { errorRateAlarmPercent: 150 }, /errorRateAlarmPercent must be an integer from 1 to 100, got 150/],
    ['an alarm address that is not one', { alarmEmails: ['ops'] }, /alarmEmails must be e-mail addresses such as ops@example.com, got 'ops'/],
  ])('bad input: %s', (_name, props, message) => {
    expect(() => synth(() => props)).toThrow(message);
  });
});
