import { ArnFormat, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2Actions from 'aws-cdk-lib/aws-elasticloadbalancingv2-actions';
import * as targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { CognitoIngressOptions, EdgeOriginRestriction, HostFirewallOptions, LoadBalancerIngressOptions } from './ingress';
import { acknowledge } from '../core/nag';
import { checkIntegerRange, checkIpv4Cidrs, invalidProp, isDnsName } from '../core/validation';
import { requireOriginHeaderRule } from '../edge/origin-header';

/** The header in which the load balancer passes the Cognito user's `sub` to OpenClaw. */
export const COGNITO_IDENTITY_HEADER = 'x-amzn-oidc-identity';
/** The signed JWT of the user's claims the load balancer adds after Cognito sign-in: required so a request without it is refused. */
export const COGNITO_DATA_HEADER = 'x-amzn-oidc-data';

const COUNTRY_CODE = /^[A-Z]{2}$/;
const COGNITO_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PREFIX_LIST_ID = /^pl-[0-9a-f]{8,17}$/;
const HEADER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** @internal */
export interface HostLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly options: LoadBalancerIngressOptions;
  readonly cognito?: CognitoIngressOptions;
  readonly instance: ec2.Instance;
  readonly instanceSecurityGroup: ec2.ISecurityGroup;
  readonly gatewayPort: number;
  /** The gateway terminates TLS itself: the load balancer re-encrypts to it. */
  readonly gatewayTls: boolean;
  readonly key: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The load balancer shapes of SecureOpenClawHost: an internet-facing HTTPS-only load balancer (TLS 1.3), a
 * regional WAF, health checks on /healthz, and optionally Cognito sign-in before any request is forwarded.
 * @internal
 */
export class HostLoadBalancer extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly userPool?: cognito.IUserPool;
  /** CIDRs of the subnets the load balancer lives in: the only addresses OpenClaw trusts as a proxy. */
  public readonly proxyCidrs: string[];
  /** Set once an edge fronts the load balancer. */
  private edge?: EdgeOriginRestriction;
  private readonly aclRules: wafv2.CfnWebACL.RuleProperty[];
  private readonly aclVisibility: (name: string) => wafv2.CfnWebACL.VisibilityConfigProperty;

  constructor(scope: Construct, id: string, props: HostLoadBalancerProps) {
    super(scope, id);
    const options = props.options;
    validateLoadBalancerOptions(this, options);

    const subnets = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PUBLIC });
    this.proxyCidrs = subnets.subnets.map((s) => s.ipv4CidrBlock);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'OpenClaw load balancer: HTTPS in from the allowed CIDRs, the gateway port out to the instance',
      allowAllOutbound: false,
    });
    // Client rules are resources of their own so that an edge (restrictToEdge) can replace them.
    const clientRules = new Construct(this, 'ClientRules');
    (options.allowedCidrs ?? ['0.0.0.0/0']).forEach((cidr, i) => {
      const rule = new ec2.CfnSecurityGroupIngress(clientRules, `Https${i}`, {
        groupId: this.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIp: cidr,
        description: 'HTTPS from an allowed client range',
      });
      if (cidr === '0.0.0.0/0') {
        acknowledge(rule, ['AwsSolutions-EC23'],
          'A public HTTPS endpoint by design: the WAF, TLS 1.3 and authentication (Cognito or the gateway token) are the access control; narrow it with allowedCidrs, or put OpenClawEdge in front.');
      }
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: { subnets: subnets.subnets },
      internetFacing: true,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
    });
    enableAccessLogs(this.loadBalancer, props.accessLogs, 'load-balancer');
    acknowledge(this.loadBalancer, ['HIPAA.Security-ELBDeletionProtectionEnabled', 'NIST.800.53.R5-ELBDeletionProtectionEnabled', 'PCI.DSS.321-ELBDeletionProtectionEnabled'],
      'The load balancer holds no data and is recreated by a deploy in minutes; deletion protection would only make stack deletion fail.');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Gateway', {
      vpc: props.vpc,
      port: props.gatewayPort,
      protocol: props.gatewayTls ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      targets: [new targets.InstanceTarget(props.instance, props.gatewayPort)],
      healthCheck: {
        // The Control UI answers every unknown path with 200: only /healthz proves the gateway is alive.
        path: '/healthz',
        protocol: props.gatewayTls ? elbv2.Protocol.HTTPS : elbv2.Protocol.HTTP,
        healthyHttpCodes: '200',
        interval: Duration.seconds(30),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      deregistrationDelay: Duration.seconds(30),
    });
    props.instanceSecurityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(props.gatewayPort), 'OpenClaw gateway from the load balancer only');
    this.securityGroup.addEgressRule(props.instanceSecurityGroup, ec2.Port.tcp(props.gatewayPort), 'To the OpenClaw gateway');

    const certificate = options.certificate ?? new acm.Certificate(this, 'Certificate', {
      domainName: options.domainName,
      validation: acm.CertificateValidation.fromDns(options.hostedZone),
    });

    let defaultAction = elbv2.ListenerAction.forward([this.targetGroup]);
    if (props.cognito) {
      const { userPool, client, domain } = this.cognitoSignIn(props.cognito);
      this.userPool = userPool;
      defaultAction = new elbv2Actions.AuthenticateCognitoAction({
        userPool,
        userPoolClient: client,
        userPoolDomain: domain,
        sessionTimeout: Duration.hours(8),
        next: elbv2.ListenerAction.forward([this.targetGroup]),
      });
    }
    this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      sslPolicy: elbv2.SslPolicy.TLS13_13,
      certificates: [elbv2.ListenerCertificate.fromCertificateManager(certificate)],
      defaultAction,
      open: false,
    });

    const acl = createRegionalWebAcl(this, options.firewall ?? {}, props.key, props.logRetention);
    this.webAcl = acl.webAcl;
    this.aclRules = acl.rules;
    this.aclVisibility = acl.visibility;
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });

    if (options.hostedZone) {
      new route53.ARecord(this, 'Alias', {
        zone: options.hostedZone,
        recordName: options.domainName,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }
  }

  /**
   * Lets only the edge reach the load balancer: the client HTTPS rules give way to one rule for the edge's
   * origin-facing prefix list, and the web ACL blocks, before any other rule, a request without the edge's secret
   * origin header.
   */
  public restrictToEdge(restriction: EdgeOriginRestriction): void {
    const scope = this.node.scope as Construct;
    if (this.edge) invalidProp(scope, 'restrictToEdge', 'a second edge', 'one edge in front of a host');
    if (!Token.isUnresolved(restriction.prefixListId) && !PREFIX_LIST_ID.test(restriction.prefixListId)) {
      invalidProp(scope, 'restrictToEdge.prefixListId', restriction.prefixListId, 'a managed prefix list id such as pl-3b927c52 (CloudFront\'s origin-facing list)');
    }
    if (!HEADER_NAME.test(restriction.originHeaderName) || restriction.originHeaderName.startsWith('x-amz')) {
      invalidProp(scope, 'restrictToEdge.originHeaderName', restriction.originHeaderName, 'a lower-case header name of letters, digits and hyphens that does not start with x-amz');
    }
    if (!Token.isUnresolved(restriction.originHeaderValue) && restriction.originHeaderValue.length < 32) {
      invalidProp(scope, 'restrictToEdge.originHeaderValue', `${restriction.originHeaderValue.length} characters`, 'a secret of at least 32 characters');
    }
    this.edge = restriction;
    this.node.tryRemoveChild('ClientRules');
    new ec2.CfnSecurityGroupIngress(this, 'EdgeHttps', {
      groupId: this.securityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      sourcePrefixListId: restriction.prefixListId,
      description: 'HTTPS from the edge only (its origin-facing prefix list)',
    });
    const requireHeader = requireOriginHeaderRule(restriction.originHeaderName, restriction.originHeaderValue, this.aclVisibility('RequireEdgeOriginHeader'));
    this.webAcl.rules = [requireHeader, ...this.aclRules.map((r) => ({ ...r, priority: r.priority + 1 }))];
  }

  private cognitoSignIn(options: CognitoIngressOptions) {
    if (options.userPool && !options.userPoolDomain) {
      invalidProp(this, 'ingress.userPoolDomain', undefined, 'the domain of the user pool passed as ingress.userPool');
    }
    const userPool = options.userPool ?? new cognito.UserPool(this, 'UserPool', {
      // Seed 003's hardening: nobody signs themselves up; threat protection on; strong passwords; MFA.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(1),
      },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const domain = options.userPoolDomain ?? (userPool as cognito.UserPool).addDomain('Domain', {
      cognitoDomain: { domainPrefix: options.cognitoDomainPrefix ?? defaultDomainPrefix(this) },
    });
    const client = userPool.addClient('LoadBalancerClient', {
      generateSecret: true,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`https://${options.domainName}/oauth2/idpresponse`],
        logoutUrls: [`https://${options.domainName}/`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
    return { userPool, client, domain };
  }
}

/**
 * Access logs without knowing the region at synth time (CDK's logAccessLogs needs it): Elastic Load Balancing
 * delivers as its regional account in older regions and as the log delivery service in newer ones, so the
 * bucket policy admits both for this load balancer's prefix only.
 */
export function enableAccessLogs(lb: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: string): void {
  const stack = Stack.of(lb);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/*`);
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ElbRegionalAccountWritesAccessLogs',
    principals: [new iam.AccountPrincipal(stack.regionalFact(FactName.ELBV2_ACCOUNT))],
    actions: ['s3:PutObject'],
    resources: [objects],
  }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ElbLogDeliveryWritesAccessLogs',
    principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [objects],
  }));
  lb.setAttribute('access_logs.s3.enabled', 'true');
  lb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  lb.setAttribute('access_logs.s3.prefix', prefix);
  const policy = bucket.policy;
  if (policy) lb.node.addDependency(policy);
}

function validateLoadBalancerOptions(scope: Construct, options: LoadBalancerIngressOptions): void {
  if (!Token.isUnresolved(options.domainName) && !isDnsName(options.domainName)) {
    invalidProp(scope, 'ingress.domainName', options.domainName, 'a lower-case DNS name such as openclaw.example.com');
  }
  if (!options.certificate && !options.hostedZone) {
    invalidProp(scope, 'ingress.certificate', undefined, 'an ACM certificate for the domain, or ingress.hostedZone so that one can be created');
  }
  if (options.allowedCidrs !== undefined && options.allowedCidrs.length === 0) {
    invalidProp(scope, 'ingress.allowedCidrs', [], 'at least one IPv4 CIDR block (omit the prop for a public load balancer)');
  }
  checkIpv4Cidrs(scope, 'ingress.allowedCidrs', options.allowedCidrs);
  const firewall = options.firewall ?? {};
  checkIntegerRange(scope, 'ingress.firewall.rateLimitPer5Minutes', firewall.rateLimitPer5Minutes, 10, 2_000_000_000);
  for (const country of firewall.blockedCountries ?? []) {
    if (!COUNTRY_CODE.test(country)) {
      invalidProp(scope, 'ingress.firewall.blockedCountries', country, 'ISO 3166-1 alpha-2 country codes in upper case, such as KP');
    }
  }
  const prefix = (options as CognitoIngressOptions).cognitoDomainPrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix)
    && (!COGNITO_PREFIX.test(prefix) || /aws|amazon|cognito/.test(prefix))) {
    invalidProp(scope, 'ingress.cognitoDomainPrefix', prefix, 'lower-case letters, digits and hyphens (1-63), not containing aws, amazon or cognito');
  }
}

function defaultDomainPrefix(scope: Construct): string {
  return `openclaw-${Names.uniqueResourceName(scope, { maxLength: 40, separator: '-' }).toLowerCase()}`
    .replace(/[^a-z0-9-]/g, '')
    .replace(/aws|amazon|cognito/g, 'x')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** Managed rule groups every web ACL of this library uses, in priority order. */
const MANAGED_RULE_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'];

export function createRegionalWebAcl(scope: Construct, firewall: HostFirewallOptions, key: kms.IKey, retention: logs.RetentionDays) {
  const metricPrefix = Names.uniqueResourceName(scope, { maxLength: 60 });
  const visibility = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${metricPrefix}-${name}` });
  const rules: wafv2.CfnWebACL.RuleProperty[] = [];
  if (firewall.blockedCountries && firewall.blockedCountries.length > 0) {
    rules.push({
      name: 'GeoBlock',
      priority: rules.length,
      action: { block: {} },
      statement: { geoMatchStatement: { countryCodes: firewall.blockedCountries } },
      visibilityConfig: visibility('GeoBlock'),
    });
  }
  rules.push({
    name: 'RateLimitPerIp',
    priority: rules.length,
    action: { block: {} },
    statement: { rateBasedStatement: { limit: firewall.rateLimitPer5Minutes ?? 1000, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
    visibilityConfig: visibility('RateLimitPerIp'),
  });
  for (const group of MANAGED_RULE_GROUPS) {
    rules.push({
      name: group,
      priority: rules.length,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name: group,
          // Agent messages and webhook payloads are often larger than the 8 KB body limit of the common rule set.
          ruleActionOverrides: group === 'AWSManagedRulesCommonRuleSet' ? [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] : undefined,
        },
      },
      visibilityConfig: visibility(group),
    });
  }
  const acl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('WebAcl'),
    rules,
  });
  // WAF logs go only to log groups whose name starts with aws-waf-logs-.
  const logGroup = new logs.LogGroup(scope, 'WebAclLogs', {
    logGroupName: `aws-waf-logs-${Names.uniqueResourceName(scope, { maxLength: 400 })}`,
    encryptionKey: key,
    retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  new wafv2.CfnLoggingConfiguration(scope, 'WebAclLogging', {
    resourceArn: acl.attrArn,
    logDestinationConfigs: [Stack.of(scope).formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
  });
  return { webAcl: acl, rules, visibility };
}
