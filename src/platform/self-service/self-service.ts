import * as path from 'path';
import { Aws, CfnElement, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  AUTH_PATH, CAP_METRIC, COUNTER_TABLE_KEY, COUNTER_TTL_ATTRIBUTE, ENV, METRIC_NAMESPACE, PROVISIONED_BY_SELF_SERVICE, PROVISIONER_GROUP,
  SESSION_PATH, TAG_PROVISIONED_BY, TAG_TENANT_NAMESPACE, TENANT_TABLE_KEY, UI_CONFIG_FILE, UiConfig,
} from './contract';
import { DeprovisionFunction } from './deprovision-function';
import { ExportFunction } from './export-function';
import { PostConfirmationFunction } from './post-confirmation-function';
import { PreSignUpFunction } from './pre-sign-up-function';
import { ProvisionFunction } from './provision-function';
import { provisionerRbacObjects } from './provisioner-rbac';
import { RotationFunction } from './rotation-function';
import { SelfServiceContext } from './self-service-context';
import { gatewayTokenSecretName } from '../tenant-spec';
import { SessionFunction } from './session-function';
import { BASIC_EXECUTION_ROLE_RULE, INLINE_POLICY_RULES, LAMBDA_PLACEMENT_RULES, acknowledge } from '../../core/nag';
import { encryptedLogGroup, retainedTable, secureBucket } from '../../core/storage';
import { checkIntegerRange, invalidProp, isDnsName } from '../../core/validation';

/** Tenant self-service of `OpenClawTenantPlatform`: sign-up, sign-in, a gateway per user, sign-out, removal. */
export interface SelfServiceOptions {
  /**
   * E-mail domains whose people may sign themselves up (exact domains, e.g. `example.com`; subdomains are not
   * included). Empty: nobody signs up alone, administrators create users (`aws cognito-idp admin-create-user`).
   * @default - none: administrator-created users only
   */
  readonly allowedEmailDomains?: string[];

  /**
   * Sign-ups admitted per e-mail domain per hour (UTC), counted atomically whatever the number of users.
   * @default 5
   */
  readonly signUpsPerDomainPerHour?: number;

  /**
   * The most tenants the platform provisions; sign-ups beyond it are refused with a message that says so.
   * @default 100
   */
  readonly maxTenants?: number;

  /**
   * Whether every user must use an authenticator app (TOTP). Without it, users may turn it on themselves.
   * @default false
   */
  readonly mfaRequired?: boolean;

  /**
   * How often each tenant's gateway token is rotated (the gateway restarts with the new token; its state stays).
   * @default Duration.days(30)
   */
  readonly tokenRotation?: Duration;

  /**
   * How long a sign-in lasts without signing in again (the refresh token's validity; access and ID tokens last
   * 15 minutes and are renewed silently while the page is open).
   * @default Duration.hours(12)
   */
  readonly sessionDuration?: Duration;

  /**
   * How Cognito sends e-mail. Cognito's own sender is limited to a few dozen messages a day: use
   * `cognito.UserPoolEmail.withSES(...)` in production.
   * @default - Cognito's default sender
   */
  readonly email?: cognito.UserPoolEmail;

  /**
   * How long a removed tenant's gateway-token secret can be restored.
   * @default Duration.days(30)
   */
  readonly secretRecoveryWindow?: Duration;
}

/** The directory of the auth UI's static files, shipped with the package. */
const UI_DIRECTORY = path.join(__dirname, '..', '..', '..', 'ui', 'auth');
/** Where the export function sees the tenants' directories of the file system. */
const EXPORT_MOUNT = '/mnt/tenants';
/** The gateway-token secrets of self-service tenants (Secrets Manager appends six characters to an ARN). */
const tokenSecretArns = () => `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${gatewayTokenSecretName('*')}-??????`;
// The global condition key, as the tenant role's ABAC uses it: Secrets Manager sets it from the secret's tags.
const selfServiceSecrets = { StringEquals: { [`aws:ResourceTag/${TAG_PROVISIONED_BY}`]: PROVISIONED_BY_SELF_SERVICE } };

/**
 * Tenant self-service for `OpenClawTenantPlatform` (its `selfService` prop): a Cognito user pool and a static
 * sign-in page on the platform's edge; a pre-sign-up check (allowed domains, an hourly limit per domain, the tenant
 * cap); provisioning through a queue (secret, Pod Identity association, the tenant's Kubernetes objects) that any
 * retry completes; a session API that hands a signed-in user their gateway token; scheduled and on-demand token
 * rotation; deprovisioning by a state machine that exports the tenant's files before anything is removed.
 */
export class TenantSelfService extends Construct {
  /** @internal */
  public static _create(scope: Construct, id: string, options: SelfServiceOptions, context: SelfServiceContext): TenantSelfService {
    return new TenantSelfService(scope, id, options, context);
  }

  /** The user pool (e-mail sign-in, retained, deletion protection on). */
  public readonly userPool: cognito.UserPool;
  /** The sign-in page's app client (no secret, password sign-in only, refresh token rotation). */
  public readonly userPoolClient: cognito.UserPoolClient;
  /** Users' tenants: one item per user, per tenant name, and the tenant count (retained). */
  public readonly tenantTable: dynamodb.Table;
  /** Provisioning requests (post-confirmation, the session API, or an administrator). */
  public readonly provisioningQueue: sqs.Queue;
  /** Provisioning requests that failed five times; any message here raises an alarm. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Removes a tenant (input `{"tenant": "<name>"}`) after exporting its files to `exportBucket`. */
  public readonly deprovisionStateMachine: sfn.StateMachine;
  /** Exports of removed tenants' files (retained). */
  public readonly exportBucket: s3.Bucket;
  /** The rotation function of the gateway tokens (Secrets Manager calls it; `rotate-secret` rotates on demand). */
  public readonly rotationFunction: lambda.IFunction;
  /** The sign-in page, `https://<edge>/auth/`. */
  public readonly signInUrl: string;
  /** The ARNs of the self-service alarms. */
  public readonly alarmArns: string[];
  /** @internal */
  public readonly _maxTenants: number;

  private constructor(scope: Construct, id: string, options: SelfServiceOptions, ctx: SelfServiceContext) {
    super(scope, id);
    const o = checkOptions(this, options);
    this._maxTenants = o.maxTenants;
    const key = ctx.key;

    // --- state -----------------------------------------------------------------------------------------------------
    this.tenantTable = retainedTable(this, 'Tenants', key, { partitionKey: { name: TENANT_TABLE_KEY, type: dynamodb.AttributeType.STRING } },
      'Point-in-time recovery keeps 35 days of every change to the tenant table; it is retained and deletion-protected.');
    const counters = new dynamodb.Table(this, 'SignUpCounters', {
      partitionKey: { name: COUNTER_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      timeToLiveAttribute: COUNTER_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Hourly counters that expire by themselves: nothing to keep when the platform goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(counters, ['NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security-DynamoDBInBackupPlan'],
      'Sign-up counters live one hour (TTL); a backup of them would restore nothing anyone needs.');
    this.exportBucket = secureBucket(this, 'Exports', {
      key,
      accessLogs: ctx.accessLogs,
      accessLogsPrefix: 'exports/',
      lifecycleRules: [{ id: 'AbortIncompleteExports', abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    // --- Cognito ---------------------------------------------------------------------------------------------------
    const fnDefaults = (name: string, description: string, timeout: Duration): lambda.FunctionOptions => ({
      description,
      timeout,
      memorySize: 256,
      environmentEncryption: key,
      logGroup: encryptedLogGroup(this, `${name}Logs`, key, ctx.logRetention),
    });
    const preSignUp = new PreSignUpFunction(this, 'PreSignUp', {
      ...fnDefaults('PreSignUp', 'OpenClaw self-service: allowed e-mail domains, sign-ups per domain per hour, the tenant cap', Duration.seconds(5)),
      environment: {
        [ENV.COUNTER_TABLE]: counters.tableName,
        [ENV.TENANT_TABLE]: this.tenantTable.tableName,
        [ENV.ALLOWED_DOMAINS]: o.domains.join(','),
        [ENV.SIGNUPS_PER_DOMAIN_PER_HOUR]: String(o.perHour),
        [ENV.MAX_TENANTS]: String(o.maxTenants),
      },
    });
    counters.grant(preSignUp, 'dynamodb:UpdateItem');
    this.tenantTable.grant(preSignUp, 'dynamodb:GetItem');
    grantTableKey(preSignUp, key);

    const deadLetterQueue = new sqs.Queue(this, 'ProvisioningDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = deadLetterQueue;
    const provisionTimeout = Duration.minutes(2);
    this.provisioningQueue = new sqs.Queue(this, 'Provisioning', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(provisionTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 },
    });
    acknowledge(deadLetterQueue, ['AwsSolutions-SQS3'], 'This is the dead-letter queue of the provisioning queue.');

    const postConfirmation = new PostConfirmationFunction(this, 'PostConfirmation', {
      ...fnDefaults('PostConfirmation', 'OpenClaw self-service: queue the provisioning of a confirmed user\'s tenant', Duration.seconds(5)),
      environment: { [ENV.QUEUE_URL]: this.provisioningQueue.queueUrl },
    });
    this.provisioningQueue.grantSendMessages(postConfirmation);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: o.domains.length > 0,
      signInAliases: { email: true },
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: o.mfaRequired ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: PASSWORD_MIN_LENGTH,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      email: options.email,
      userVerification: {
        emailSubject: 'Your OpenClaw verification code',
        emailBody: 'Your OpenClaw verification code is {####}. It expires in 24 hours.',
        emailStyle: cognito.VerificationEmailStyle.CODE,
      },
      userInvitation: {
        emailSubject: 'Your OpenClaw account',
        emailBody: 'An administrator created your OpenClaw account. Sign in as {username} with the temporary password {####} within 3 days.',
      },
      lambdaTriggers: { preSignUp, postConfirmation },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.userPoolClient = this.userPool.addClient('WebClient', {
      generateSecret: false,
      // Only what the sign-in page calls: password sign-in (over TLS to Cognito) and refresh through
      // GetTokensFromRefreshToken, which refresh token rotation requires.
      authFlows: { userPassword: true },
      disableOAuth: true,
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: o.sessionDuration,
      refreshTokenRotationGracePeriod: Duration.seconds(10),
      authSessionValidity: Duration.minutes(5),
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });
    acknowledge(this.userPool, ['AwsSolutions-COG2'],
      o.mfaRequired ? 'MFA is required (TOTP).' : 'MFA (TOTP) is optional by default so that people can sign up alone; mfaRequired: true requires it.');
    acknowledge(this.userPool, ['AwsSolutions-COG8'], 'The Plus feature plan is on (threat protection in full-function mode).');

    // --- Kubernetes access for the handlers that change tenants ----------------------------------------------------
    const handlerSecurityGroup = new ec2.SecurityGroup(this, 'HandlerSecurityGroup', {
      vpc: ctx.vpc,
      allowAllOutbound: false,
      description: 'OpenClaw self-service functions: HTTPS to the cluster API and AWS APIs, NFS to the file system',
    });
    handlerSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the cluster API and AWS APIs');
    ctx.cluster.connections.allowFrom(handlerSecurityGroup, ec2.Port.tcp(443), 'OpenClaw self-service functions to the cluster API');
    const rbac = ctx.cluster.addManifest('SelfServiceRbac', ...provisionerRbacObjects());
    const clusterEnv = {
      [ENV.CLUSTER_NAME]: ctx.cluster.clusterName,
      [ENV.CLUSTER_ENDPOINT]: ctx.cluster.clusterEndpoint,
      [ENV.CLUSTER_CA]: ctx.cluster.clusterCertificateAuthorityData,
    };
    const inVpc = (name: string, description: string, timeout: Duration): lambda.FunctionOptions => ({
      ...fnDefaults(name, description, timeout),
      vpc: ctx.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [handlerSecurityGroup],
    });
    const clusterAccess = (entryId: string, fn: lambda.Function) => {
      const entry = new CfnAccessEntry(this, entryId, {
        clusterName: ctx.cluster.clusterName,
        principalArn: fn.role!.roleArn,
        kubernetesGroups: [PROVISIONER_GROUP],
        type: 'STANDARD',
      });
      entry.node.addDependency(rbac);
    };

    // --- token rotation --------------------------------------------------------------------------------------------
    const rotation = new RotationFunction(this, 'TokenRotation', {
      ...inVpc('TokenRotation', 'OpenClaw self-service: rotates a tenant\'s gateway token and restarts its gateway', Duration.minutes(1)),
      environment: { ...clusterEnv },
    });
    rotation.addPermission('InvokedBySecretsManager', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
    });
    rotation.addToRolePolicy(selfServiceTokens('RotateSelfServiceTokens', [
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
    ]));
    grantSecretsKey(rotation, key);
    clusterAccess('TokenRotationAccess', rotation);
    this.rotationFunction = rotation;

    // --- provisioning ----------------------------------------------------------------------------------------------
    const provision = new ProvisionFunction(this, 'Provision', {
      ...inVpc('Provision', 'OpenClaw self-service: provisions a user\'s tenant (secret, Pod Identity, Kubernetes objects); every retry completes it', provisionTimeout),
      environment: {
        ...clusterEnv,
        [ENV.TENANT_TABLE]: this.tenantTable.tableName,
        [ENV.USER_POOL_ID]: this.userPool.userPoolId,
        [ENV.MAX_TENANTS]: String(o.maxTenants),
        [ENV.TENANT_ROLE_ARN]: ctx.tenantRole.roleArn,
        [ENV.KMS_KEY_ARN]: key.keyArn,
        [ENV.PLATFORM_SPEC]: Stack.of(this).toJsonString(ctx.platformSpec),
        [ENV.TENANT_DEFAULTS]: JSON.stringify(ctx.tenantDefaults),
        [ENV.ROTATION_FUNCTION_ARN]: rotation.functionArn,
        [ENV.ROTATION_DAYS]: String(o.rotationDays),
      },
    });
    provision.addEventSource(new SqsEventSource(this.provisioningQueue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }));
    provision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadConfirmedUsers',
      actions: ['cognito-idp:AdminGetUser'],
      resources: [this.userPool.userPoolArn],
    }));
    this.tenantTable.grant(provision, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    grantTableKey(provision, key);
    provision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'CreateTaggedTokens',
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      resources: [tokenSecretArns()],
      conditions: { StringEquals: { [`aws:RequestTag/${TAG_PROVISIONED_BY}`]: PROVISIONED_BY_SELF_SERVICE } },
    }));
    provision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'NeverRetagOtherTokens',
      // TagResource above is for CreateSecret's tags. Without this, it would also tag an existing token of a
      // code-declared tenant (tagged tenant-namespace, not provisioned-by) as self-service, and so bring it within
      // reach of ManageOwnTokens, the session API and the rotation function.
      effect: iam.Effect.DENY,
      actions: ['secretsmanager:TagResource'],
      resources: [tokenSecretArns()],
      conditions: {
        Null: { [`aws:ResourceTag/${TAG_TENANT_NAMESPACE}`]: 'false' },
        StringNotEquals: { [`aws:ResourceTag/${TAG_PROVISIONED_BY}`]: PROVISIONED_BY_SELF_SERVICE },
      },
    }));
    // PutSecretValue: a token adopted from an earlier tenant of the same name gets a fresh value.
    provision.addToRolePolicy(selfServiceTokens('ManageOwnTokens', [
      'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds', 'secretsmanager:PutSecretValue', 'secretsmanager:RestoreSecret',
      'secretsmanager:RotateSecret',
    ]));
    grantSecretsKey(provision, key);
    rotation.grantInvoke(provision);
    const podIdentityArns = [
      ctx.cluster.clusterArn,
      `arn:${Aws.PARTITION}:eks:${Aws.REGION}:${Aws.ACCOUNT_ID}:podidentityassociation/${ctx.cluster.clusterName}/*`,
    ];
    provision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'AssociateTenantRole',
      actions: ['eks:CreatePodIdentityAssociation', 'eks:ListPodIdentityAssociations', 'eks:DescribePodIdentityAssociation'],
      resources: podIdentityArns,
    }));
    provision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PassOnlyTheTenantRole',
      actions: ['iam:PassRole'],
      resources: [ctx.tenantRole.roleArn],
    }));
    clusterAccess('ProvisionAccess', provision);

    // --- session API -----------------------------------------------------------------------------------------------
    const session = new SessionFunction(this, 'Session', {
      ...fnDefaults('Session', 'OpenClaw self-service: a signed-in user\'s tenant state and gateway token; sign out everywhere', Duration.seconds(10)),
      environment: {
        [ENV.TENANT_TABLE]: this.tenantTable.tableName,
        [ENV.QUEUE_URL]: this.provisioningQueue.queueUrl,
        // Cognito's GetUser accepts a token of any pool in the region: the function checks the issuer first.
        [ENV.USER_POOL_ID]: this.userPool.userPoolId,
      },
    });
    this.tenantTable.grant(session, 'dynamodb:GetItem');
    grantTableKey(session, key);
    this.provisioningQueue.grantSendMessages(session);
    session.addToRolePolicy(selfServiceTokens('ReadAndRotateOwnTokens', ['secretsmanager:GetSecretValue', 'secretsmanager:RotateSecret']));
    grantSecretsKey(session, key);
    rotation.grantInvoke(session);
    const sessionUrl = session.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    ctx.edge._addFunctionUrl(SESSION_PATH, sessionUrl);

    // --- deprovisioning --------------------------------------------------------------------------------------------
    const recoveryDays = o.recoveryDays;
    const deprovision = new DeprovisionFunction(this, 'Deprovision', {
      // The verify step reads the whole export back and hashes it: the longest a function may run, and the network
      // bandwidth of 1 GB of memory.
      ...inVpc('Deprovision', 'OpenClaw self-service: removes a tenant step by step, never before its files are exported', Duration.minutes(15)),
      memorySize: 1024,
      environment: {
        ...clusterEnv,
        [ENV.TENANT_TABLE]: this.tenantTable.tableName,
        [ENV.USER_POOL_ID]: this.userPool.userPoolId,
        [ENV.EXPORT_BUCKET]: this.exportBucket.bucketName,
        [ENV.SECRET_RECOVERY_DAYS]: String(recoveryDays),
      },
    });
    this.tenantTable.grant(deprovision, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem');
    grantTableKey(deprovision, key);
    deprovision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'SignOutRemovedUsers',
      actions: ['cognito-idp:AdminDisableUser', 'cognito-idp:AdminUserGlobalSignOut'],
      resources: [this.userPool.userPoolArn],
    }));
    this.exportBucket.grantRead(deprovision, 'exports/*');
    deprovision.addToRolePolicy(new iam.PolicyStatement({
      sid: 'RemoveTenantAssociations',
      actions: ['eks:ListPodIdentityAssociations', 'eks:DescribePodIdentityAssociation', 'eks:DeletePodIdentityAssociation'],
      resources: podIdentityArns,
    }));
    deprovision.addToRolePolicy(selfServiceTokens('ScheduleTokenDeletion', ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret']));
    clusterAccess('DeprovisionAccess', deprovision);

    const exportAccessPoint = ctx.fileSystem.addAccessPoint('ExportAccessPoint', {
      // The directory under which the EFS CSI driver creates one directory per tenant namespace (uid 1000, 700).
      path: '/tenants',
      createAcl: { ownerUid: '0', ownerGid: '0', permissions: '755' },
      posixUser: { uid: '1000', gid: '1000' },
    });
    const exportFn = new ExportFunction(this, 'Export', {
      ...inVpc('Export', 'OpenClaw self-service: exports a removed tenant\'s files from EFS to S3 (read-only mount)', Duration.minutes(15)),
      memorySize: 1024,
      environment: {
        [ENV.EXPORT_BUCKET]: this.exportBucket.bucketName,
        [ENV.EXPORT_MOUNT]: EXPORT_MOUNT,
        [ENV.KMS_KEY_ARN]: key.keyArn,
      },
      filesystem: readOnlyMount(exportAccessPoint, ctx.fileSystem, EXPORT_MOUNT),
    });
    ctx.fileSystem.connections.allowDefaultPortFrom(handlerSecurityGroup, 'OpenClaw tenant export function (read-only)');
    // The role's own policy allows mounting through this access point, never writing: within the account that is
    // enough, and naming the role in the file system policy would make a dependency cycle through the mount targets.
    this.exportBucket.grantPut(exportFn, 'exports/*');
    // A multipart upload with SSE-KMS also decrypts the data keys of its parts.
    key.grantDecrypt(exportFn);
    exportFn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'AbortFailedUploads',
      actions: ['s3:AbortMultipartUpload'],
      resources: [this.exportBucket.arnForObjects('exports/*')],
    }));

    this.deprovisionStateMachine = this.stateMachine(deprovision, exportFn, key, ctx.logRetention);

    // --- the sign-in page on the edge ------------------------------------------------------------------------------
    const uiBucket = secureBucket(this, 'SignInPage', {
      key,
      accessLogs: ctx.accessLogs,
      accessLogsPrefix: 'sign-in-page/',
      // Every deployment replaces the page's files (and prunes old ones): keep the replaced versions a month to roll
      // back, not for ever.
      lifecycleRules: [{ id: 'ExpireReplacedPageFiles', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      s3ManagedEncryptionReason: 'The sign-in page\'s public HTML, CSS and JavaScript: CloudFront reads them through origin access control, which works with any key only if its policy names the distribution; nothing secret is stored here.',
    });
    const uiConfig: UiConfig = {
      region: Aws.REGION,
      userPoolId: this.userPool.userPoolId,
      clientId: this.userPoolClient.userPoolClientId,
      cognitoEndpoint: `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/`,
      sessionPath: SESSION_PATH,
      mfa: o.mfaRequired ? 'REQUIRED' : 'OPTIONAL',
      selfSignUp: o.domains.length > 0,
      passwordMinLength: PASSWORD_MIN_LENGTH,
    };
    const csp = [
      'default-src \'self\'',
      `connect-src 'self' https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}`,
      'img-src \'self\' data:',
      'style-src \'self\'',
      'script-src \'self\'',
      'object-src \'none\'',
      'base-uri \'none\'',
      'form-action \'self\'',
      'frame-ancestors \'none\'',
    ].join('; ');
    ctx.edge._addStaticContent('SignInPage', `${AUTH_PATH}*`, uiBucket, csp);
    const upload = new s3deploy.BucketDeployment(this, 'SignInPageFiles', {
      sources: [s3deploy.Source.asset(UI_DIRECTORY), s3deploy.Source.jsonData(UI_CONFIG_FILE, uiConfig)],
      destinationBucket: uiBucket,
      destinationKeyPrefix: AUTH_PATH.slice(1),
      distribution: ctx.edge.distribution,
      distributionPaths: [`${AUTH_PATH}*`],
      prune: true,
      retainOnDelete: false,
      memoryLimit: 256,
    });
    this.signInUrl = `${ctx.edge.url}${AUTH_PATH}`;

    // --- alarms ----------------------------------------------------------------------------------------------------
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new cwActions.SnsAction(ctx.alarmTopic));
      return a;
    };
    const alarms = [
      alarm('ProvisioningFailedAlarm', deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        'A tenant could not be provisioned after five attempts: its request is in the dead-letter queue (docs/self-service.md, "When provisioning fails").'),
      alarm('TenantCapAlarm', new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: CAP_METRIC, period: Duration.hours(1), statistic: 'Sum' }),
        `A confirmed user got no tenant because the platform holds its maximum of ${o.maxTenants} tenants: raise selfService.maxTenants or remove tenants, then re-queue (docs/self-service.md).`),
      alarm('DeprovisioningFailedAlarm', this.deprovisionStateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        'A tenant removal stopped before its end; nothing was deleted that was not exported (docs/self-service.md, "Removing a tenant").'),
    ];
    this.alarmArns = alarms.map((a) => a.alarmArn);

    acknowledgeFunctions({
      outsideVpc: [preSignUp, postConfirmation, session],
      inVpc: [provision, rotation, deprovision, exportFn],
      upload,
      rotation,
      exportBucket: this.exportBucket,
      uiBucket,
      stateMachine: this.deprovisionStateMachine,
      stepFunctions: [deprovision, exportFn],
      cluster: ctx.cluster,
    });
  }

  private stateMachine(deprovision: lambda.IFunction, exportFn: lambda.IFunction, key: kms.IKey, retention: logs.RetentionDays): sfn.StateMachine {
    const step = (name: string, payload: Record<string, unknown>, resultPath?: string) => new tasks.LambdaInvoke(this, name, {
      lambdaFunction: deprovision,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      resultPath: resultPath ?? sfn.JsonPath.DISCARD,
    });
    const begin = step('Begin', { step: 'begin', tenant: sfn.JsonPath.stringAt('$.tenant') });
    const stop = step('StopGateway', { step: 'stop', tenant: sfn.JsonPath.stringAt('$.tenant') })
      .addRetry({ errors: ['GatewayStillRunning'], interval: Duration.seconds(10), maxAttempts: 30, backoffRate: 1.2, maxDelay: Duration.minutes(1) });
    const exportFiles = new tasks.LambdaInvoke(this, 'ExportFiles', {
      lambdaFunction: exportFn,
      payload: sfn.TaskInput.fromObject({ tenant: sfn.JsonPath.stringAt('$.tenant') }),
      payloadResponseOnly: true,
      resultPath: '$.export',
    }).addRetry({ errors: ['States.TaskFailed'], interval: Duration.minutes(1), maxAttempts: 2 });
    const verify = step('VerifyExport', { 'step': 'verify', 'tenant': sfn.JsonPath.stringAt('$.tenant'), 'export.$': '$.export' });
    const remove = step('Remove', { step: 'remove', tenant: sfn.JsonPath.stringAt('$.tenant') });
    const definition = begin.next(stop).next(exportFiles).next(verify).next(remove).next(new sfn.Succeed(this, 'Removed'));
    const machine = new sfn.StateMachine(this, 'DeprovisionStateMachine', {
      comment: 'Removes an OpenClaw tenant: sign the user out, stop the gateway, export its files to S3, verify the export, then remove the namespace, the association and the token (input {"tenant": "<name>"})',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(2),
      tracingEnabled: true,
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(key),
      logs: { destination: encryptedLogGroup(this, 'DeprovisionStateMachineLogs', key, retention), level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    return machine;
  }
}

const PASSWORD_MIN_LENGTH = 12;

interface CheckedOptions {
  readonly domains: string[];
  readonly perHour: number;
  readonly maxTenants: number;
  readonly mfaRequired: boolean;
  readonly rotationDays: number;
  readonly sessionDuration: Duration;
  readonly recoveryDays: number;
}

function checkOptions(scope: Construct, options: SelfServiceOptions): CheckedOptions {
  const domains = (options.allowedEmailDomains ?? []).map((d) => d.trim());
  for (const d of domains) {
    if (Token.isUnresolved(d) || !isDnsName(d)) {
      invalidProp(scope, 'selfService.allowedEmailDomains', d, 'lower-case e-mail domains such as example.com');
    }
  }
  const perHour = options.signUpsPerDomainPerHour ?? 5;
  checkIntegerRange(scope, 'selfService.signUpsPerDomainPerHour', perHour, 1, 1000);
  const maxTenants = options.maxTenants ?? 100;
  checkIntegerRange(scope, 'selfService.maxTenants', maxTenants, 1, 10000);
  const rotation = options.tokenRotation ?? Duration.days(30);
  const rotationDays = rotation.toDays({ integral: false });
  if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > 365) {
    invalidProp(scope, 'selfService.tokenRotation', rotation.toHumanString(), 'a whole number of days from 1 to 365');
  }
  const sessionDuration = options.sessionDuration ?? Duration.hours(12);
  if (sessionDuration.toMinutes({ integral: false }) < 60 || sessionDuration.toDays({ integral: false }) > 30) {
    invalidProp(scope, 'selfService.sessionDuration', sessionDuration.toHumanString(), 'from 1 hour to 30 days');
  }
  const recovery = options.secretRecoveryWindow ?? Duration.days(30);
  const recoveryDays = recovery.toDays({ integral: false });
  if (!Number.isInteger(recoveryDays) || recoveryDays < 7 || recoveryDays > 30) {
    invalidProp(scope, 'selfService.secretRecoveryWindow', recovery.toHumanString(), 'a whole number of days from 7 to 30 (Secrets Manager\'s range)');
  }
  return { domains, perHour, maxTenants, mfaRequired: options.mfaRequired ?? false, rotationDays, sessionDuration, recoveryDays };
}

/** The platform key, used only through `service` (DynamoDB for the tables, Secrets Manager for the tokens). */
function grantKeyVia(fn: lambda.IFunction, key: kms.IKey, sid: string, service: 'dynamodb' | 'secretsmanager'): void {
  fn.addToRolePolicy(new iam.PolicyStatement({
    sid,
    actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    resources: [key.keyArn],
    conditions: { StringLike: { 'kms:ViaService': `${service}.${Aws.REGION}.${Aws.URL_SUFFIX}` } },
  }));
}
const grantTableKey = (fn: lambda.IFunction, key: kms.IKey) => grantKeyVia(fn, key, 'TableKeyThroughDynamoDb', 'dynamodb');
const grantSecretsKey = (fn: lambda.IFunction, key: kms.IKey) => grantKeyVia(fn, key, 'TokenKeyThroughSecretsManager', 'secretsmanager');

/** A statement on the self-service gateway tokens only (those tagged openclaw:provisioned-by=self-service). */
function selfServiceTokens(sid: string, actions: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions, resources: [tokenSecretArns()], conditions: selfServiceSecrets });
}

/**
 * The export function's mount: like `lambda.FileSystem.fromEfsAccessPoint`, but its role may only mount (never
 * write): the file system policy admits exactly this.
 */
function readOnlyMount(accessPoint: efs.IAccessPoint, fileSystem: efs.FileSystem, localMountPath: string): lambda.FileSystem {
  return new ReadOnlyMount({
    localMountPath,
    arn: accessPoint.accessPointArn,
    dependency: [fileSystem.mountTargetsAvailable],
    connections: fileSystem.connections,
    policies: [new iam.PolicyStatement({
      actions: ['elasticfilesystem:ClientMount'],
      resources: [fileSystem.fileSystemArn],
      conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.accessPointArn } },
    })],
  });
}

/** `lambda.FileSystem` with the policies given (its constructor is protected). */
class ReadOnlyMount extends lambda.FileSystem {
  constructor(config: lambda.FileSystemConfig) {
    super(config);
  }
}

interface SelfServiceFunctions {
  readonly outsideVpc: lambda.Function[];
  readonly inVpc: lambda.Function[];
  readonly upload: s3deploy.BucketDeployment;
  readonly rotation: lambda.Function;
  readonly exportBucket: s3.IBucket;
  readonly uiBucket: s3.IBucket;
  readonly stateMachine: sfn.StateMachine;
  readonly stepFunctions: lambda.Function[];
  readonly cluster: Construct;
}

/** The findings each wildcard of the self-service policies raises, with why it is as narrow as it can be. */
function acknowledgeFunctions(fns: SelfServiceFunctions): void {
  const stack = Stack.of(fns.upload);
  const arnOf = (c: Construct) => `<${stack.getLogicalId(c.node.defaultChild as CfnElement)}.Arn>`;
  const wildcards: Array<[string, string]> = [
    ['Action::kms:GenerateDataKey*', 'aws-cdk-lib\'s grants on the key-encrypted queue and bucket: data keys of the platform key only, used through SQS and S3.'],
    ['Action::kms:ReEncrypt*', 'aws-cdk-lib\'s grants on the key-encrypted queue and bucket: the platform key only.'],
    ['Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:openclaw/*/gateway-token-??????',
      'Gateway tokens of tenants that do not exist yet; every statement also requires the tag openclaw:provisioned-by=self-service (on the request when creating), so code-declared tenants\' tokens are out of reach.'],
    ['Resource::arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:podidentityassociation/<' + stack.getLogicalId(fns.cluster.node.defaultChild as CfnElement) + '>/*',
      'Pod Identity associations of this cluster only; their ids are made when tenants are provisioned.'],
    [`Resource::${arnOf(fns.rotation)}:*`, 'Invoking the rotation function in any version: RotateSecret requires it.'],
    [`Resource::${arnOf(fns.exportBucket)}/exports/*`, 'Tenant exports only, under exports/.'],
    ['Action::s3:GetObject*', 'aws-cdk-lib\'s read grant on the exports: checking an export before anything is removed.'],
    ['Action::s3:GetBucket*', 'aws-cdk-lib\'s read grant on the exports bucket.'],
    ['Action::s3:List*', 'aws-cdk-lib\'s read grant on the exports bucket.'],
    ['Action::s3:Abort*', 'Abandoning a failed multipart upload of an export.'],
  ];
  for (const fn of [...fns.outsideVpc, ...fns.inVpc]) {
    const role = fn.role!;
    acknowledge(role, [BASIC_EXECUTION_ROLE_RULE],
      'The function writes its own logs with the basic execution policy; its other rights are the scoped policy beside it.');
    const policy = role.node.findChild('DefaultPolicy').node.defaultChild!;
    acknowledge(policy, INLINE_POLICY_RULES, 'The function\'s only policy, written for it and deleted with it.');
    for (const [rule, reason] of wildcards) acknowledge(policy, [`AwsSolutions-IAM5[${rule}]`], reason);
  }
  for (const fn of fns.inVpc) {
    acknowledge(fn.role!, ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]'],
      'Lambda\'s managed policy for functions in a VPC: create and delete their own network interfaces.');
    acknowledge(fn.node.defaultChild!, LAMBDA_PLACEMENT_RULES.filter((r) => !r.includes('InsideVPC')),
      'Invoked by the provisioning queue (which has its dead-letter queue and a concurrency limit of 2), by Secrets Manager (which retries rotation steps) or by the deprovisioning state machine (which retries and alarms): no asynchronous invocations to catch, and reserved concurrency would take from the account\'s pool.');
  }
  for (const fn of fns.outsideVpc) {
    acknowledge(fn.node.defaultChild!, LAMBDA_PLACEMENT_RULES,
      'Called synchronously by Cognito or by CloudFront (the caller sees every error, so no dead-letter queue), talking only to AWS APIs (no VPC); reserved concurrency would take from the account\'s pool.');
  }

  const machinePolicy = fns.stateMachine.role.node.findChild('DefaultPolicy').node.defaultChild!;
  acknowledge(machinePolicy, INLINE_POLICY_RULES, 'The state machine\'s only policy, written by aws-cdk-lib for its tasks.');
  acknowledge(machinePolicy, ['AwsSolutions-IAM5[Resource::*]'],
    'X-Ray tracing and log delivery have no resource ARN (aws-cdk-lib\'s statements for tracingEnabled and logs).');
  for (const fn of fns.stepFunctions) {
    acknowledge(machinePolicy, [`AwsSolutions-IAM5[Resource::${arnOf(fn)}:*]`], 'Invoking the deprovisioning functions in any version.');
  }

  // aws-cdk-lib's one function per stack that copies the sign-in page into its bucket at deploy time.
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (handler) {
    acknowledge(handler.node.defaultChild!, ['AwsSolutions-L1', ...LAMBDA_PLACEMENT_RULES],
      'aws-cdk-lib\'s deploy-time function that copies static files into a bucket (runtime chosen by aws-cdk-lib): CloudFormation invokes it and waits; it calls only S3 and CloudFront.');
    const role = handler.node.findChild('ServiceRole');
    acknowledge(role, [BASIC_EXECUTION_ROLE_RULE], 'aws-cdk-lib\'s bucket deployment function writes its own logs with the basic execution policy.');
    const policy = role.node.findChild('DefaultPolicy').node.defaultChild!;
    acknowledge(policy, INLINE_POLICY_RULES, 'aws-cdk-lib\'s bucket deployment function\'s only policy.');
    acknowledge(policy, [
      'AwsSolutions-IAM5[Action::s3:Abort*]', 'AwsSolutions-IAM5[Action::s3:DeleteObject*]', 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      'AwsSolutions-IAM5[Action::s3:GetObject*]', 'AwsSolutions-IAM5[Action::s3:List*]',
      `AwsSolutions-IAM5[Resource::${arnOf(fns.uiBucket)}/*]`,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      'AwsSolutions-IAM5[Resource::*]',
    ], 'aws-cdk-lib\'s bucket deployment: read the page\'s asset from the bootstrap bucket, replace the files in the sign-in page bucket, invalidate the distribution\'s /auth/* paths (aws-cdk-lib grants the invalidation actions on every distribution; they change no content).');
  }
}
