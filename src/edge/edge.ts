import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EdgeAlarms } from './alarms';
import { estimateEdgeCost } from './cost';
import { EdgeFirewallOptions } from './firewall';
import { GlobalWebAcl } from './global-web-acl';
import { EdgeOrigin } from './origin';
import { originFacingPrefixListId } from './prefix-list';
import { alarmTopic } from '../core/alarm-topic';
import { CostEstimate } from '../core/cost-estimate';
import { resolveKey } from '../core/encryption';
import { BASIC_EXECUTION_ROLE_RULE, INLINE_POLICY_RULES, LAMBDA_PLACEMENT_RULES, acknowledge } from '../core/nag';
import { checkEmails, checkIntegerRange, invalidProp, isDnsName } from '../core/validation';

/** Props of {@link OpenClawEdge}. */
export interface OpenClawEdgeProps {
  /** Where CloudFront sends requests: a VPC origin, so the origin has no public address. */
  readonly origin: EdgeOrigin;

  /**
   * A custom domain for the distribution, such as openclaw.example.com.
   * @default - the distribution's own *.cloudfront.net name
   */
  readonly domainName?: string;

  /**
   * The certificate for `domainName`: it must be in us-east-1 (CloudFront's requirement).
   * @default - with `hostedZone`, a certificate requested in us-east-1 and validated through DNS in the zone
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The public hosted zone of `domainName`: A and AAAA alias records for the distribution are added to it, and
   * without `certificate` it validates a new certificate.
   * @default - no records (point your DNS at `distributionDomainName` yourself)
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * The web ACL's settings.
   * @default - rate limit 2000 per 5 minutes per IP, AWS IP reputation, common and known-bad-inputs rule sets
   */
  readonly firewall?: EdgeFirewallOptions;

  /**
   * Edge locations used: PRICE_CLASS_100 (North America, Europe, Israel) is the cheapest.
   * @default cloudfront.PriceClass.PRICE_CLASS_100
   */
  readonly priceClass?: cloudfront.PriceClass;

  /**
   * The topic that receives the edge's alarms (blocked-request spikes, 5xx rate).
   * @default - a topic encrypted with the key
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * E-mail addresses subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmails?: string[];

  /**
   * Requests the web ACL blocks within 5 minutes that raise the `BlockedRequests` alarm.
   * @default 500
   */
  readonly blockedRequestsAlarmThreshold?: number;

  /**
   * Percentage of 5xx responses over 15 minutes that raises the `5xxErrorRate` alarm.
   * @default 5
   */
  readonly errorRateAlarmPercent?: number;

  /**
   * The key that encrypts the edge's log groups in the stack's region.
   * @default - a customer-managed key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * CloudFront and AWS WAF in front of OpenClaw. The origin is a CloudFront VPC origin (no public address exists);
 * the web ACL (CLOUDFRONT scope, in us-east-1) is created, updated and deleted from the stack's own region; HTTPS
 * only, HTTP/2 and HTTP/3, nothing cached, every viewer header but Host forwarded (WebSockets work), security
 * headers on every response, access logs kept.
 */
export class OpenClawEdge extends Construct {
  /** The distribution. */
  public readonly distribution: cloudfront.Distribution;
  /** The distribution's own domain name (`d111111abcdef8.cloudfront.net`). */
  public readonly distributionDomainName: string;
  /** The https origin browsers use: `https://<domainName>` with a custom domain, else the distribution's. */
  public readonly url: string;
  /** The ARN of the web ACL (in us-east-1). */
  public readonly webAclArn: string;
  /** The name of the WAF log group in us-east-1. */
  public readonly webAclLogGroupName: string;
  /** The bucket of the CloudFront access logs. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The key that encrypts the edge's log groups. */
  public readonly encryptionKey: kms.IKey;
  /** The topic of the edge's alarms. */
  public readonly alarmTopic: sns.ITopic;
  /** The ARNs of the edge's alarms, in us-east-1. */
  public readonly alarmArns: string[];
  /** The estimated monthly cost of the edge at list prices (1 million requests and 10 GB a month assumed). */
  public readonly estimatedMonthlyCost: CostEstimate;
  private readonly securityHeaderPolicy: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: OpenClawEdgeProps) {
    super(scope, id);
    validate(this, props);
    this.encryptionKey = resolveKey(this, 'Key', props.encryptionKey, { description: 'Encrypts the OpenClaw edge logs' });

    const webAcl = new GlobalWebAcl(this, 'WebAcl', { key: this.encryptionKey, firewall: props.firewall ?? {} });
    this.webAclArn = webAcl.webAclArn;
    this.webAclLogGroupName = webAcl.logGroupName;

    this.accessLogsBucket = cloudFrontLogBucket(this);
    const bound = props.origin._bind(this, { originFacingPrefixListId: () => originFacingPrefixListId(this), key: this.encryptionKey });

    const certificate = props.certificate
      ?? (props.domainName && props.hostedZone ? this.requestCertificate(props.domainName, props.hostedZone) : undefined);
    this.securityHeaderPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'OpenClaw gateway security headers',
      securityHeadersBehavior: SECURITY_HEADERS,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'OpenClaw gateway',
      defaultBehavior: { origin: bound.origin, ...this.uncachedBehavior() },
      domainNames: props.domainName ? [props.domainName] : undefined,
      certificate,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: webAcl.webAclArn,
      enableLogging: true,
      logBucket: this.accessLogsBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.distributionDomainName = this.distribution.distributionDomainName;
    this.url = `https://${props.domainName ?? this.distribution.distributionDomainName}`;
    bound.connect?.(this.distribution, this.url);

    this.alarmTopic = alarmTopic(this, 'AlarmTopic', this.encryptionKey, { given: props.alarmTopic, emails: props.alarmEmails });
    const alarms = new EdgeAlarms(this, 'Alarms', {
      serviceToken: webAcl.serviceToken,
      handlerRole: webAcl.handlerRole,
      handlerPolicy: webAcl.handlerPolicy,
      webAclMetricName: webAcl.webAclName,
      distributionId: this.distribution.distributionId,
      topic: this.alarmTopic,
      blockedRequestsThreshold: props.blockedRequestsAlarmThreshold ?? 500,
      errorRatePercent: props.errorRateAlarmPercent ?? 5,
    });
    this.alarmArns = alarms.alarmArns;
    this.estimatedMonthlyCost = estimateEdgeCost(props.firewall ?? {}, !props.encryptionKey, bound.secrets ?? 0);

    if (props.hostedZone && props.domainName) {
      const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'AliasV4', { zone: props.hostedZone, recordName: props.domainName, target });
      new route53.AaaaRecord(this, 'AliasV6', { zone: props.hostedZone, recordName: props.domainName, target });
    }

    acknowledge(this.distribution, ['AwsSolutions-CFR1'],
      'Geographic restriction is done by the web ACL (firewall.allowedCountries / blockedCountries), which also logs what it blocks.');
    if (!props.domainName) {
      acknowledge(this.distribution, ['AwsSolutions-CFR4'],
        'Without a custom domain the distribution answers on *.cloudfront.net, whose TLS policy CloudFront sets itself; give domainName and a certificate to enforce TLSv1.2_2021.');
    }
  }

  /**
   * Serves static files from a private bucket under `pathPattern` (origin access control: only this distribution
   * reads the bucket), cached, GET and HEAD only, with the given Content-Security-Policy and the security headers.
   * @internal
   */
  public _addStaticContent(id: string, pathPattern: string, bucket: s3.IBucket, contentSecurityPolicy: string): void {
    const headers = new cloudfront.ResponseHeadersPolicy(this, `${id}Headers`, {
      comment: 'OpenClaw static pages: security headers and a strict content security policy',
      securityHeadersBehavior: {
        ...SECURITY_HEADERS,
        contentSecurityPolicy: { contentSecurityPolicy, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'Cache-Control', value: 'no-cache', override: false }] },
    });
    this.distribution.addBehavior(pathPattern, origins.S3BucketOrigin.withOriginAccessControl(bucket), {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: headers,
      compress: true,
    });
  }

  /**
   * Sends `pathPattern` to a Lambda function URL that only this distribution may invoke (origin access control),
   * nothing cached, every viewer header but Host forwarded, the security headers on every response.
   * @internal
   */
  public _addFunctionUrl(pathPattern: string, url: lambda.IFunctionUrl): void {
    this.distribution.addBehavior(pathPattern, origins.FunctionUrlOrigin.withOriginAccessControl(url), this.uncachedBehavior());
  }

  /**
   * A certificate in us-east-1 whatever the stack's region, validated with DNS records in the zone. aws-cdk-lib's
   * cross-region certificate construct is marked deprecated in favour of a us-east-1 stack with cross-region
   * references, which needs an account-bound app; this one keeps the stack environment-agnostic.
   */
  private requestCertificate(domainName: string, hostedZone: route53.IHostedZone): acm.ICertificate {
    const certificate = new acm.DnsValidatedCertificate(this, 'Certificate', {
      domainName,
      hostedZone,
      region: 'us-east-1',
      cleanupRoute53Records: true,
    });
    const fn = certificate.node.findChild('CertificateRequestorFunction');
    const role = fn.node.findChild('ServiceRole');
    acknowledge(role, [BASIC_EXECUTION_ROLE_RULE],
      'aws-cdk-lib\'s certificate requestor writes its own logs with the basic execution policy; its ACM and Route 53 rights are the inline policy beside it.');
    const policy = role.node.findChild('DefaultPolicy').node.defaultChild!;
    acknowledge(policy, ['AwsSolutions-IAM5[Resource::*]'],
      'Requesting, describing and deleting a certificate and reading a Route 53 change have no resource ARN before the certificate exists; record changes are limited to the hosted zone.');
    acknowledge(policy, INLINE_POLICY_RULES,
      'The certificate requestor\'s only policy; it belongs with its role and dies with it.');
    acknowledge(fn.node.defaultChild!, ['AwsSolutions-L1', ...LAMBDA_PLACEMENT_RULES], 'aws-cdk-lib\'s deploy-time certificate requestor (runtime chosen by aws-cdk-lib): CloudFormation invokes it once per change and waits; it calls only ACM and Route 53.');
    return certificate;
  }

  /** HTTPS only, every method, nothing cached, every viewer header but Host forwarded, the security headers. */
  private uncachedBehavior(): cloudfront.AddBehaviorOptions {
    return {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.securityHeaderPolicy,
      compress: true,
    };
  }
}

/** HSTS (two years, subdomains), nosniff, no framing, referrer only to the same origin in full. */
const SECURITY_HEADERS: cloudfront.ResponseSecurityHeadersBehavior = {
  strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
  contentTypeOptions: { override: true },
  frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
  referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
};

/**
 * CloudFront's access log delivery writes with an object ACL and cannot use SSE-KMS keys, so this bucket (and only
 * this one) keeps ACLs enabled for the log delivery account and is encrypted with S3-managed keys.
 */
function cloudFrontLogBucket(scope: Construct): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledge(bucket, ['AwsSolutions-S1', 'HIPAA.Security-S3BucketLoggingEnabled', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'PCI.DSS.321-S3BucketLoggingEnabled'],
    'This bucket receives the CloudFront access logs; logging it into another bucket would only log the log delivery.');
  acknowledge(bucket, ['HIPAA.Security-S3BucketReplicationEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled'],
    'Cross-region replication needs a bucket in a second region that a single-region stack cannot own; versioning and retention protect the logs here.');
  acknowledge(bucket, ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS'],
    'CloudFront standard log delivery cannot write to a bucket encrypted with a customer-managed KMS key; S3-managed encryption is what it supports.');
  return bucket;
}

function validate(scope: Construct, props: OpenClawEdgeProps): void {
  checkEmails(scope, 'alarmEmails', props.alarmEmails);
  checkIntegerRange(scope, 'blockedRequestsAlarmThreshold', props.blockedRequestsAlarmThreshold, 1, 1_000_000_000);
  checkIntegerRange(scope, 'errorRateAlarmPercent', props.errorRateAlarmPercent, 1, 100);
  const domain = props.domainName;
  if (domain !== undefined && !Token.isUnresolved(domain) && !isDnsName(domain)) {
    invalidProp(scope, 'domainName', domain, 'a lower-case DNS name such as openclaw.example.com');
  }
  if (domain !== undefined && !props.certificate && !props.hostedZone) {
    invalidProp(scope, 'certificate', 'nothing', `a certificate in us-east-1 for ${domain}, or hostedZone to validate a new one, when domainName is given`);
  }
  if (domain === undefined && props.certificate) invalidProp(scope, 'domainName', 'nothing', 'the name the certificate is for, when certificate is given');
  if (domain === undefined && props.hostedZone) invalidProp(scope, 'domainName', 'nothing', 'the record name to create in hostedZone');
  const arn = props.certificate?.certificateArn;
  if (arn && !Token.isUnresolved(arn)) {
    const region = arn.split(':')[3];
    if (region !== 'us-east-1') invalidProp(scope, 'certificate', arn, 'a certificate in us-east-1 (CloudFront only uses certificates from there)');
  }
}
