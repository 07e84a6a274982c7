import { CfnOutput, Duration, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { HostAccess } from './access';
import { HostBackup } from './backup';
import { BedrockAudit } from './bedrock-audit';
import { renderSetupScript } from './boot';
import { estimateHostCost } from './cost';
import { HostGatewayConfig } from './gateway-config';
import { EdgeOriginRestriction, HostIngress, HostIngressKind } from './ingress';
import { HostLoadBalancer } from './load-balancer';
import { HostMonitoring } from './monitoring';
import { checkInstanceType, checkRootVolumeSize } from './sizing';
import { BedrockAuditTrail } from '../audit/bedrock-audit-trail';
import { CostEstimate } from '../core/cost-estimate';
import { allowLogsService, resolveKey } from '../core/encryption';
import { acknowledge } from '../core/nag';
import { NatStrategy } from '../core/nat';
import { createVpc } from '../core/network';
import { accessLogBucket, checkLogRetention, encryptedLogGroup, secureBucket } from '../core/storage';
import { checkIpv4Cidrs, invalidProp } from '../core/validation';
import { OpenClawEdge } from '../edge/edge';
import { EdgeOrigin } from '../edge/origin';
import { OpenClawConfig } from '../openclaw/config';

/** Ollama, installed from its release tarball and verified by checksum. */
export interface OllamaOptions {
  /** The Ollama release, e.g. `v0.12.6`. */
  readonly version: string;
  /** The SHA-256 (64 hex digits) of the release tarball for the instance's architecture. */
  readonly sha256: string;
}

/** Properties of {@link SecureOpenClawHost}. All optional: with none, the most secure shape is deployed. */
export interface SecureOpenClawHostProps {
  /**
   * The VPC to run in.
   * @default - a new VPC: two zones, public and private subnets, flow logs, an S3 gateway endpoint
   */
  readonly vpc?: ec2.IVpc;

  /**
   * How the new VPC's private subnets reach the internet. Ignored when `vpc` is given or with the public instance ingress.
   * @default NatStrategy.GATEWAY
   */
  readonly natStrategy?: NatStrategy;

  /**
   * Create interface endpoints (SSM, Secrets Manager, KMS, Logs, Bedrock runtime) in the new VPC so that AWS API
   * calls never leave it. About 7.30 USD a month each.
   * @default false
   */
  readonly vpcEndpoints?: boolean;

  /**
   * The key that encrypts the volume, secrets, buckets, logs, topic and backups.
   * @default - a new customer-managed key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The instance type; at least 2 GiB of memory.
   * @default t3.small
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Size of the encrypted gp3 root volume.
   * @default 20 GiB
   */
  readonly rootVolumeSize?: Size;

  /**
   * The OpenClaw npm version installed (exact).
   * @default SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION
   */
  readonly openClawVersion?: string;

  /**
   * The Node.js major version from NodeSource: 24 or 26 (what current OpenClaw supports).
   * @default 24
   */
  readonly nodeMajorVersion?: number;

  /**
   * The OpenClaw configuration. The ingress sets what it must (bind address, trusted proxies, allowed origins,
   * and with Cognito the trusted-proxy auth mode); a conflicting setting fails at synth.
   * @default - a hardened tools baseline, Bedrock through the instance role, gateway token from Secrets Manager
   */
  readonly config?: OpenClawConfig;

  /**
   * How the gateway is reached.
   * @default HostIngress.privateOnly()
   */
  readonly ingress?: HostIngress;

  /**
   * Keep OpenClaw's state directory (`~/.openclaw`: sessions, memory, credentials) on an encrypted EFS file
   * system so that it survives instance replacement. About 0.30 USD per GB-month.
   * @default false - the state lives on the root volume, which is kept on termination and backed up daily
   */
  readonly persistentAgentData?: boolean;

  /**
   * Install Ollama (local models), listening on 127.0.0.1 only.
   * @default - no Ollama
   */
  readonly ollama?: OllamaOptions;

  /**
   * Create a Secrets Manager secret for an Anthropic API key. Put the key with
   * `aws secretsmanager put-secret-value`; OpenClaw reads it through the exec resolver.
   * @default false - Bedrock through the instance role, no API key
   */
  readonly anthropicApiKey?: boolean;

  /**
   * Create a Secrets Manager secret for a Telegram bot token, read by OpenClaw through the exec resolver.
   * @default false
   */
  readonly telegramBotToken?: boolean;

  /**
   * How long the gateway, flow and session logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * How long daily backups (volume snapshots, EFS) are kept.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;

  /**
   * E-mail addresses subscribed to the alarm topic.
   * @default - none; subscribe to `alarmTopic` yourself
   */
  readonly alarmEmails?: string[];

  /**
   * Create an account CloudTrail trail (all regions, encrypted, log file validation) for accounts that have none.
   * @default false - most organizations already have one
   */
  readonly accountTrail?: boolean;

  /**
   * Record the account's Amazon Bedrock calls in a `BedrockAuditTrail`: `BedrockAudit.newTrail()` creates one in
   * the host (with the host's key and alarm topic), `BedrockAudit.existingTrail(trail)` uses one defined elsewhere.
   * The host's role becomes an expected caller of the trail's queries.
   * @default - no Bedrock audit trail
   */
  readonly bedrockAudit?: BedrockAudit;
}

/**
 * One hardened OpenClaw gateway on EC2.
 *
 * With no props: a private instance in a new VPC (no inbound rule at all, no public address, no SSH, no key
 * pair, IMDSv2 only), reached by Session Manager port forwarding; everything encrypted with one customer key;
 * secrets in Secrets Manager and fetched on demand; daily backups; alarms; logs kept a year.
 */
export class SecureOpenClawHost extends Construct implements ec2.IConnectable {
  /** The OpenClaw npm version installed when `openClawVersion` is not given; it moves with this library's releases. */
  public static readonly DEFAULT_OPENCLAW_VERSION = '2026.9.6';

  /** The EC2 instance running the gateway. */
  public readonly instance: ec2.Instance;
  /** The instance role. */
  public readonly role: iam.IRole;
  /** The instance's security group. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Network access to the gateway. */
  public readonly connections: ec2.Connections;
  /** The VPC. */
  public readonly vpc: ec2.IVpc;
  /** The key that encrypts everything this construct stores. */
  public readonly encryptionKey: kms.IKey;
  /** The gateway's log group (journal, setup and cloud-init logs). */
  public readonly logGroup: logs.ILogGroup;
  /** The log group of Session Manager sessions. */
  public readonly sessionLogGroup: logs.ILogGroup;
  /** The name of the Session Manager document that logs and encrypts sessions; pass it to `aws ssm start-session --document-name`. */
  public readonly sessionDocumentName: string;
  /** The bucket for configuration and session backups. */
  public readonly backupBucket: s3.IBucket;
  /** The topic alarms publish to. */
  public readonly alarmTopic: sns.ITopic;
  /** The port the gateway listens on. */
  public readonly gatewayPort: number;
  /** The gateway token secret (token auth); undefined in trusted-proxy mode. */
  public readonly gatewayTokenSecret?: secretsmanager.ISecret;
  /** The Anthropic API key secret, when `anthropicApiKey` is set. */
  public readonly anthropicApiKeySecret?: secretsmanager.ISecret;
  /** The Telegram bot token secret, when `telegramBotToken` is set. */
  public readonly telegramBotTokenSecret?: secretsmanager.ISecret;
  /** The EFS file system holding the agent data, when `persistentAgentData` is set. */
  public readonly fileSystem?: efs.IFileSystem;
  /** The load balancer, with a load balancer ingress. */
  public readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /** The target group the load balancer forwards to (health check `/healthz`), with a load balancer ingress. */
  public readonly targetGroup?: elbv2.IApplicationTargetGroup;
  /** The regional web ACL, with a load balancer ingress. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The user pool, with the Cognito ingress. */
  public readonly userPool?: cognito.IUserPool;
  /** The OpenClaw configuration the host runs, after the ingress applied its settings. */
  public readonly config: OpenClawConfig;
  /** The estimated monthly cost of this host at list prices. */
  public readonly estimatedMonthlyCost: CostEstimate;
  /** The DNS name users type, with a load balancer or CloudFront ingress. */
  public readonly domainName?: string;
  /** The CloudFront edge, with `HostIngress.cloudFront`. */
  public readonly edge?: OpenClawEdge;
  /** The Bedrock audit trail, with `bedrockAudit`. */
  public readonly bedrockAuditTrail?: BedrockAuditTrail;

  private readonly secrets: secretsmanager.ISecret[] = [];
  private hostLoadBalancer?: HostLoadBalancer;
  private readonly ingressKind: HostIngressKind;
  private gatewayConfig!: HostGatewayConfig;
  private monitoringTargets: { loadBalancer?: elbv2.ApplicationLoadBalancer; targetGroup?: elbv2.ApplicationTargetGroup } = {};

  constructor(scope: Construct, id: string, props: SecureOpenClawHostProps = {}) {
    super(scope, id);
    const ingress = props.ingress ?? HostIngress.privateOnly();
    this.ingressKind = ingress.kind;
    const publicInstance = ingress.kind === HostIngressKind.PUBLIC_INSTANCE;
    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL);
    checkInstanceType(this, instanceType);
    const rootGib = checkRootVolumeSize(this, props.rootVolumeSize ?? Size.gibibytes(20));
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    checkLogRetention(this, 'logRetention', logRetention);
    const nodeMajor = props.nodeMajorVersion ?? 24;
    if (![24, 26].includes(nodeMajor)) invalidProp(this, 'nodeMajorVersion', nodeMajor, '24 or 26 (OpenClaw needs Node.js 24.16+ or 26.1+)');
    const openClawVersion = props.openClawVersion ?? SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION;
    if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(openClawVersion)) {
      invalidProp(this, 'openClawVersion', openClawVersion, 'an exact npm version such as 2026.9.6 (no ranges, no tags)');
    }
    const backupRetention = props.backupRetention ?? Duration.days(7);
    if (!backupRetention.isUnresolved() && backupRetention.toDays({ integral: false }) < 1) {
      invalidProp(this, 'backupRetention', backupRetention.toHumanString(), 'at least one day');
    }
    if (props.ollama) checkOllama(this, props.ollama);
    if (publicInstance) checkPublicInstanceCidrs(this, ingress.publicInstanceOptions!.allowedCidrs);
    if (props.vpc && props.natStrategy !== undefined) {
      invalidProp(this, 'natStrategy', props.natStrategy, 'unset when vpc is given (the VPC you pass in has its own NAT)');
    }
    if (publicInstance && props.natStrategy !== undefined) {
      invalidProp(this, 'natStrategy', props.natStrategy, 'unset with HostIngress.publicInstance (the budget tier has no NAT)');
    }

    this.encryptionKey = resolveKey(this, 'Key', props.encryptionKey, { description: `OpenClaw host ${this.node.path}: volume, secrets, logs, backups` });
    allowLogsService(this.encryptionKey);

    this.vpc = props.vpc ?? createVpc(this, 'Vpc', {
      key: this.encryptionKey,
      flowLogRetention: logRetention,
      nat: publicInstance ? undefined : props.natStrategy ?? NatStrategy.GATEWAY,
      interfaceEndpoints: props.vpcEndpoints ?? false,
    });

    this.logGroup = encryptedLogGroup(this, 'Logs', this.encryptionKey, logRetention);
    const accessLogs = accessLogBucket(this, 'AccessLogs');
    this.backupBucket = secureBucket(this, 'Backups', {
      key: this.encryptionKey,
      accessLogs,
      accessLogsPrefix: 'backups/',
      lifecycleRules: [{
        id: 'KeepBackupsForNinetyDays',
        noncurrentVersionExpiration: Duration.days(90),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
      }],
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'OpenClaw gateway: no inbound rule unless an ingress adds one; HTTPS out only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to package repositories, model APIs and AWS APIs');
    this.connections = this.securityGroup.connections;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `OpenClaw host ${this.node.path}`,
    });
    this.role = role;

    // Secrets: created here, read by OpenClaw on demand through the exec resolver; never in user data.
    const gatewayConfig = new HostGatewayConfig(this, { userConfig: props.config, ingress });
    this.gatewayConfig = gatewayConfig;
    this.domainName = ingress.loadBalancerOptions?.domainName ?? ingress.cloudFrontOptions?.domainName;
    if (gatewayConfig.needsGatewayToken) {
      this.gatewayTokenSecret = this.addSecret('GatewayToken', 'OpenClaw gateway token', true);
    }
    if (props.anthropicApiKey) this.anthropicApiKeySecret = this.addSecret('AnthropicApiKey', 'Anthropic API key for OpenClaw (put the value yourself)', false);
    if (props.telegramBotToken) this.telegramBotTokenSecret = this.addSecret('TelegramBotToken', 'Telegram bot token for OpenClaw (put the value yourself)', false);

    const subnetType = publicInstance ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS;
    const machineImage = ec2.MachineImage.resolveSsmParameterAtLaunch(
      `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64'}`,
      { os: ec2.OperatingSystemType.LINUX },
    );

    let fileSystem: efs.FileSystem | undefined;
    if (props.persistentAgentData) {
      fileSystem = this.createFileSystem(subnetType);
      this.fileSystem = fileSystem;
    }

    // cloud-init runs the setup script on every boot, so a changed configuration applies after the stop and
    // start that CloudFormation performs on a user data change; the instance and its volume stay.
    const userData = new ec2.MultipartUserData();
    userData.addPart(ec2.MultipartBody.fromRawBody({
      contentType: 'text/cloud-config; charset="utf-8"',
      body: 'cloud_final_modules:\n  - [scripts-user, always]\n',
    }));

    this.instance = new ec2.Instance(this, 'Resource', {
      vpc: this.vpc,
      vpcSubnets: { subnetType },
      instanceType,
      machineImage,
      role,
      securityGroup: this.securityGroup,
      httpTokens: ec2.HttpTokens.REQUIRED,
      httpEndpoint: true,
      httpPutResponseHopLimit: 1,
      associatePublicIpAddress: false,
      detailedMonitoring: true,
      ebsOptimized: true,
      propagateTagsToVolumeOnCreation: true,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(rootGib, {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          kmsKey: this.encryptionKey,
          // The root volume holds ~/.openclaw unless EFS does: it outlives the instance.
          deleteOnTermination: false,
        }),
      }],
      userData,
      userDataCausesReplacement: false,
    });
    if (fileSystem) fileSystem.connections.allowDefaultPortFrom(this.securityGroup, 'NFS from the OpenClaw host only');

    if (ingress.kind === HostIngressKind.LOAD_BALANCER || ingress.kind === HostIngressKind.LOAD_BALANCER_WITH_COGNITO) {
      const lb = new HostLoadBalancer(this, 'LoadBalancer', {
        vpc: this.vpc,
        options: ingress.loadBalancerOptions!,
        cognito: ingress.cognitoOptions,
        instance: this.instance,
        instanceSecurityGroup: this.securityGroup,
        gatewayPort: gatewayConfig.port,
        gatewayTls: true,
        key: this.encryptionKey,
        accessLogs,
        logRetention,
      });
      this.hostLoadBalancer = lb;
      this.loadBalancer = lb.loadBalancer;
      this.targetGroup = lb.targetGroup;
      this.webAcl = lb.webAcl;
      this.userPool = lb.userPool;
      const withCognito = ingress.kind === HostIngressKind.LOAD_BALANCER_WITH_COGNITO;
      gatewayConfig.trustLoadBalancer(lb.proxyCidrs, ingress.loadBalancerOptions!.domainName, withCognito);
      this.monitoringTargets = { loadBalancer: lb.loadBalancer, targetGroup: lb.targetGroup };
    } else if (ingress.kind === HostIngressKind.CLOUDFRONT) {
      // CloudFront's origin interfaces are placed in the instance's subnets. The edge itself is created below,
      // once the alarm topic exists.
      gatewayConfig.trustEdge(this.vpc.selectSubnets({ subnetType }).subnets.map((s) => s.ipv4CidrBlock), ingress.cloudFrontOptions!.domainName);
    } else if (publicInstance) {
      const eip = new ec2.CfnEIP(this, 'PublicAddress', { domain: 'vpc' });
      new ec2.CfnEIPAssociation(this, 'PublicAddressAssociation', { allocationId: eip.attrAllocationId, instanceId: this.instance.instanceId });
      new CfnOutput(this, 'PublicIp', { value: eip.attrPublicIp, description: 'Public address of the budget-tier OpenClaw host' });
      gatewayConfig.servePublicly(eip.attrPublicIp);
      for (const cidr of ingress.publicInstanceOptions!.allowedCidrs) {
        this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(gatewayConfig.port), 'OpenClaw gateway (TLS) from an allowed operator range');
      }
    }

    this.config = gatewayConfig.build(this.secretArns(), Stack.of(this).region);
    this.gatewayPort = gatewayConfig.port;

    userData.addPart(ec2.MultipartBody.fromRawBody({
      contentType: 'text/x-shellscript; charset="utf-8"',
      body: renderSetupScript({
        openClawVersion,
        nodeMajorVersion: nodeMajor,
        region: Stack.of(this).region,
        gatewayPort: this.gatewayPort,
        configJson: Stack.of(this).toJsonString(this.config.toJson()),
        resolverScript: gatewayConfig.resolverScript,
        resolverPath: this.config.secretResolverProvider?.command,
        logGroupName: this.logGroup.logGroupName,
        fileSystemId: fileSystem?.fileSystemId,
        ollama: props.ollama ? { ...props.ollama, arch: instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'amd64' } : undefined,
        backupBucketName: this.backupBucket.bucketName,
      }),
    }));

    const access = new HostAccess(this, 'Access', {
      instance: this.instance,
      role,
      key: this.encryptionKey,
      logGroup: this.logGroup,
      backupBucket: this.backupBucket,
      fileSystem,
      logRetention,
      bedrockModelIds: [this.config.primaryModelId, ...(this.config.props.bedrock?.additionalModels ?? []).map((m) => m.modelId)],
    });
    this.sessionLogGroup = access.sessionLogGroup;
    this.sessionDocumentName = access.sessionDocumentName;
    for (const secret of this.secrets) secret.grantRead(role);

    new HostBackup(this, 'Backup', { instance: this.instance, fileSystem, key: this.encryptionKey, retention: backupRetention });
    const monitoring = new HostMonitoring(this, 'Monitoring', {
      instance: this.instance,
      key: this.encryptionKey,
      alarmEmails: props.alarmEmails ?? [],
      logGroup: this.logGroup,
      ...this.monitoringTargets,
    });
    this.alarmTopic = monitoring.topic;
    if (ingress.kind === HostIngressKind.CLOUDFRONT) {
      const options = ingress.cloudFrontOptions!;
      this.edge = new OpenClawEdge(this, 'Edge', {
        origin: EdgeOrigin.instance(this.instance, { port: gatewayConfig.port, connections: this.connections }),
        domainName: options.domainName,
        certificate: options.certificate,
        hostedZone: options.hostedZone,
        firewall: options.firewall,
        priceClass: options.priceClass,
        encryptionKey: this.encryptionKey,
        alarmTopic: this.alarmTopic,
      });
    }
    if (props.accountTrail) access.addAccountTrail(accessLogs);
    this.bedrockAuditTrail = props.bedrockAudit?._bind(this, { key: this.encryptionKey, role: this.role, alarmTopic: this.alarmTopic });

    acknowledge(this.instance, ['HIPAA.Security-EC2InstancesInVPC', 'NIST.800.53.R5-EC2InstancesInVPC', 'PCI.DSS.321-EC2InstancesInVPC'],
      'The instance is in the VPC: with no public address its subnet is set on its network interface, which this rule does not read.');
    acknowledge(this.instance, ['AwsSolutions-EC29'],
      'Nothing is lost on termination: the root volume is kept (DeleteOnTermination false) and backed up daily, agent data can live on EFS. Termination protection would only make stack deletion fail.');

    this.estimatedMonthlyCost = estimateHostCost({
      instanceType: instanceType.toString(),
      rootGib,
      ingress: ingress.kind,
      nat: props.vpc || publicInstance ? undefined : props.natStrategy ?? NatStrategy.GATEWAY,
      vpcEndpoints: !props.vpc && (props.vpcEndpoints ?? false),
      secrets: this.secrets.length,
      ownKey: !props.encryptionKey,
      alarms: monitoring.alarms.length,
      efs: fileSystem !== undefined,
      cognito: ingress.kind === HostIngressKind.LOAD_BALANCER_WITH_COGNITO,
      edge: this.edge?.estimatedMonthlyCost,
      auditTrail: this.bedrockAuditTrail?.node.scope === this ? { cloudWatchLogs: this.bedrockAuditTrail.logGroup !== undefined } : undefined,
    });
    new CfnOutput(this, 'InstanceId', { value: this.instance.instanceId, description: 'Reach the gateway: aws ssm start-session --target <id> --document-name AWS-StartPortForwardingSession' });
  }

  /**
   * Puts an edge (a CDN such as `OpenClawEdge`, which calls this) in front of the load balancer: the load balancer
   * then accepts HTTPS only from the edge's origin-facing prefix list instead of `allowedCidrs`, and its web ACL
   * blocks every request without the edge's secret origin header before any other rule. Needs a load balancer
   * ingress; one edge per host.
   */
  public restrictToEdge(restriction: EdgeOriginRestriction): void {
    if (!this.hostLoadBalancer) {
      invalidProp(this, 'restrictToEdge', this.ingressKind, 'a host with HostIngress.loadBalancer or HostIngress.loadBalancerWithCognito (an edge fronts a load balancer)');
    }
    this.hostLoadBalancer.restrictToEdge(restriction);
    if (restriction.browserOrigin) this.gatewayConfig.addAllowedOrigin(restriction.browserOrigin);
  }

  /**
   * The kind of ingress, and with a load balancer its web ACL's name and id (for an edge's header rotation).
   * @internal
   */
  public _edgeTarget(): { kind: HostIngressKind; webAcl?: wafv2.CfnWebACL } {
    return { kind: this.ingressKind, webAcl: this.webAcl };
  }

  /** Lets `grantee` read every secret of this host (gateway token, API keys). */
  public grantReadSecrets(grantee: iam.IGrantable): iam.Grant {
    const grants = this.secrets.map((s) => s.grantRead(grantee));
    return grants.reduce((all, g) => all.combine(g), iam.Grant.drop(grantee, 'no secrets'));
  }

  private addSecret(id: string, description: string, generate: boolean): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, id, {
      description,
      encryptionKey: this.encryptionKey,
      generateSecretString: generate ? { passwordLength: 48, excludePunctuation: true } : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(secret, ['AwsSolutions-SMG4', 'HIPAA.Security-SecretsManagerUsingKMSKey', 'NIST.800.53.R5-SecretsManagerRotationEnabled', 'HIPAA.Security-SecretsManagerRotationEnabled', 'PCI.DSS.321-SecretsManagerRotationEnabled', 'NIST.800.53.R5-SecretsManagerUsingKMSKey'],
      generate
        ? 'The gateway token is a static bearer secret shared with the operator\'s clients; rotate it by putting a new value (OpenClaw reads it on demand).'
        : 'A third-party credential (Anthropic, Telegram) that only its issuer can rotate; put a new value when you rotate it there.');
    this.secrets.push(secret);
    return secret;
  }

  private secretArns() {
    return {
      gatewayToken: this.gatewayTokenSecret?.secretArn,
      anthropicApiKey: this.anthropicApiKeySecret?.secretArn,
      telegramBotToken: this.telegramBotTokenSecret?.secretArn,
    };
  }

  private createFileSystem(subnetType: ec2.SubnetType): efs.FileSystem {
    const fileSystem = new efs.FileSystem(this, 'AgentData', {
      vpc: this.vpc,
      vpcSubnets: { subnetType },
      encrypted: true,
      kmsKey: this.encryptionKey,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: efs.LifecyclePolicy.AFTER_30_DAYS,
      enableAutomaticBackups: false,
      allowAnonymousAccess: false,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    return fileSystem;
  }
}


function checkOllama(scope: Construct, ollama: OllamaOptions): void {
  if (!Token.isUnresolved(ollama.version) && !/^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(ollama.version)) {
    invalidProp(scope, 'ollama.version', ollama.version, 'a release tag such as v0.12.6');
  }
  if (!Token.isUnresolved(ollama.sha256) && !/^[0-9a-f]{64}$/i.test(ollama.sha256)) {
    invalidProp(scope, 'ollama.sha256', ollama.sha256, 'the 64-hex-digit SHA-256 of the release tarball');
  }
}

function checkPublicInstanceCidrs(scope: Construct, cidrs: string[]): void {
  if (cidrs.length === 0) {
    invalidProp(scope, 'ingress.allowedCidrs', [], 'at least one IPv4 CIDR block of your own network');
  }
  checkIpv4Cidrs(scope, 'ingress.allowedCidrs', cidrs);
  for (const cidr of cidrs) {
    if (!Token.isUnresolved(cidr) && cidr.endsWith('/0')) {
      invalidProp(scope, 'ingress.allowedCidrs', cidr, 'your own networks (a budget-tier host is never open to the whole internet; use HostIngress.loadBalancer for public access)');
    }
  }
}
