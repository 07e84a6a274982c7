import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EdgeFirewallOptions } from '../edge/firewall';

/** The shapes in which an OpenClaw host can be reached. */
export enum HostIngressKind {
  /** No inbound rule at all; the operator reaches the gateway with Session Manager port forwarding. */
  PRIVATE = 'PRIVATE',
  /** An HTTPS application load balancer with a regional WAF in front of a private instance. */
  LOAD_BALANCER = 'LOAD_BALANCER',
  /** As LOAD_BALANCER, and the load balancer signs users in with Amazon Cognito before any request reaches OpenClaw. */
  LOAD_BALANCER_WITH_COGNITO = 'LOAD_BALANCER_WITH_COGNITO',
  /** The budget tier: the instance itself in a public subnet, TLS on the instance, reachable from listed CIDRs only. */
  PUBLIC_INSTANCE = 'PUBLIC_INSTANCE',
  /** CloudFront with AWS WAF (`OpenClawEdge`), reaching the private instance through a VPC origin: no public origin at all. */
  CLOUDFRONT = 'CLOUDFRONT',
}

/** Options of the regional web application firewall in front of the load balancer. */
export interface HostFirewallOptions {
  /**
   * Requests allowed from one client IP address in any 5-minute window before it is blocked.
   * @default 1000
   */
  readonly rateLimitPer5Minutes?: number;

  /**
   * ISO 3166-1 alpha-2 country codes whose requests are blocked (geo-blocking).
   * @default - no country is blocked
   */
  readonly blockedCountries?: string[];
}

/**
 * How an edge (a CDN such as `OpenClawEdge`) takes over a host's load balancer: only the edge's network may connect,
 * and only requests carrying the edge's secret origin header pass the web ACL.
 */
export interface EdgeOriginRestriction {
  /**
   * The managed prefix list of the edge's origin-facing addresses, e.g. CloudFront's
   * `com.amazonaws.global.cloudfront.origin-facing` list of the region.
   */
  readonly prefixListId: string;

  /** The header the edge adds to every request to the origin, lower case, e.g. `x-origin-verify`. */
  readonly originHeaderName: string;

  /** The header's secret value, at least 32 characters: the web ACL blocks every request without exactly this value. */
  readonly originHeaderValue: string;

  /**
   * The https origin browsers use through the edge (e.g. `https://openclaw.example.com`): added to OpenClaw's
   * allowed browser origins, next to the load balancer's own name.
   * @default - none added
   */
  readonly browserOrigin?: string;
}

/** Options for {@link HostIngress.cloudFront}. */
export interface CloudFrontIngressOptions {
  /** The DNS name users type, e.g. `openclaw.example.com`: the distribution's alias and OpenClaw's allowed origin. */
  readonly domainName: string;

  /**
   * The certificate for `domainName`, in us-east-1.
   * @default - requested in us-east-1 and validated through `hostedZone`
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The public hosted zone of `domainName`: the A and AAAA alias records go there, and it validates a new certificate.
   * @default - no records; `certificate` must then be given
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * The edge's web ACL.
   * @default - rate limit 2000 per 5 minutes per IP, IP reputation, common and known-bad-inputs rule sets
   */
  readonly firewall?: EdgeFirewallOptions;

  /**
   * Edge locations used.
   * @default cloudfront.PriceClass.PRICE_CLASS_100
   */
  readonly priceClass?: cloudfront.PriceClass;
}

/** Options for {@link HostIngress.loadBalancer}. */
export interface LoadBalancerIngressOptions {
  /** The DNS name users type, e.g. `openclaw.example.com`. It becomes the certificate's name and OpenClaw's allowed origin. */
  readonly domainName: string;

  /**
   * The public hosted zone of `domainName`: used to validate a new ACM certificate and to create the alias record.
   * @default - no record is created; `certificate` must then be given
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * A certificate for `domainName` you already have.
   * @default - a DNS-validated ACM certificate is created in `hostedZone`
   */
  readonly certificate?: acm.ICertificate;

  /**
   * IPv4 CIDR blocks allowed to reach the load balancer on port 443.
   * @default ['0.0.0.0/0'] - public; authentication is the access control
   */
  readonly allowedCidrs?: string[];

  /**
   * The web application firewall.
   * @default - rate limit of 1000 requests per 5 minutes per IP, AWS managed rule groups, no geo-blocking
   */
  readonly firewall?: HostFirewallOptions;
}

/** Options for {@link HostIngress.loadBalancerWithCognito}. */
export interface CognitoIngressOptions extends LoadBalancerIngressOptions {
  /**
   * A user pool you already have. It must have a domain for the hosted sign-in pages (`cognitoDomainPrefix` is then ignored).
   * @default - a hardened user pool is created: administrators create users, threat protection enforced, TOTP MFA required, 12-character passwords, deletion protection
   */
  readonly userPool?: cognito.IUserPool;

  /**
   * The domain of that existing user pool; required with `userPool`.
   * @default - a Cognito domain is created with `cognitoDomainPrefix`
   */
  readonly userPoolDomain?: cognito.IUserPoolDomain;

  /**
   * The prefix of the Cognito hosted domain (`<prefix>.auth.<region>.amazoncognito.com`); unique within a region.
   * @default - derived from the construct path
   */
  readonly cognitoDomainPrefix?: string;
}

/** Options for {@link HostIngress.publicInstance}. */
export interface PublicInstanceIngressOptions {
  /**
   * IPv4 CIDR blocks allowed to reach the gateway port (TLS on the instance). Required: a budget host is never open to the world.
   */
  readonly allowedCidrs: string[];
}

/**
 * How users and operators reach the gateway. The default, {@link HostIngress.privateOnly}, admits nothing.
 */
export class HostIngress {
  /** No inbound traffic at all; reach the gateway with `aws ssm start-session` port forwarding. The default. */
  public static privateOnly(): HostIngress {
    return new HostIngress(HostIngressKind.PRIVATE);
  }

  /**
   * An internet-facing HTTPS load balancer (TLS 1.3 policy) with a regional WAF, health-checked on `/healthz`.
   * OpenClaw keeps its token authentication.
   */
  public static loadBalancer(options: LoadBalancerIngressOptions): HostIngress {
    return new HostIngress(HostIngressKind.LOAD_BALANCER, options);
  }

  /**
   * An HTTPS load balancer that signs users in with Amazon Cognito (`authenticate-cognito`) and passes the
   * verified identity to OpenClaw in `trusted-proxy` mode (`x-amzn-oidc-identity`), trusting only the load
   * balancer's subnets.
   */
  public static loadBalancerWithCognito(options: CognitoIngressOptions): HostIngress {
    return new HostIngress(HostIngressKind.LOAD_BALANCER_WITH_COGNITO, options, options);
  }

  /**
   * The seeds' budget tier: the instance in a public subnet with an Elastic IP, no NAT and no load balancer;
   * TLS terminates on the instance; only `allowedCidrs` reach the gateway port. Cheaper and less protected:
   * no WAF, the instance has a public address. See docs/single-host.md.
   */
  public static publicInstance(options: PublicInstanceIngressOptions): HostIngress {
    return new HostIngress(HostIngressKind.PUBLIC_INSTANCE, undefined, undefined, options);
  }

  /**
   * CloudFront with AWS WAF in front (`OpenClawEdge`): the instance stays in its private subnet and CloudFront reaches
   * it through a VPC origin, admitted on the gateway port from CloudFront's origin-facing addresses only. No load
   * balancer, no public address. OpenClaw keeps its token authentication; its allowed origin is `https://<domainName>`.
   */
  public static cloudFront(options: CloudFrontIngressOptions): HostIngress {
    return new HostIngress(HostIngressKind.CLOUDFRONT, undefined, undefined, undefined, options);
  }

  private constructor(
    /** Which shape this is. */
    public readonly kind: HostIngressKind,
    /** The load balancer options, for the two load balancer shapes. */
    public readonly loadBalancerOptions?: LoadBalancerIngressOptions,
    /** The Cognito options, for the Cognito shape. */
    public readonly cognitoOptions?: CognitoIngressOptions,
    /** The budget tier options. */
    public readonly publicInstanceOptions?: PublicInstanceIngressOptions,
    /** The CloudFront options. */
    public readonly cloudFrontOptions?: CloudFrontIngressOptions,
  ) {}
}
