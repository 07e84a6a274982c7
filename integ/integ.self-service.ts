/**
 * Tenant self-service on the tenant platform (docs/self-service.md), with one sign-up per e-mail domain per hour.
 * Deploying it needs a public hosted zone you own: set OPENCLAW_INTEG_ZONE_ID and OPENCLAW_INTEG_ZONE_NAME (the
 * snapshot uses example values). On a real deploy the assertions check:
 * - the administrator's path: a user created with the admin API (no invitation e-mail) and given a permanent
 *   password, then queued with the documented provisioning message, gets a tenant record that becomes ACTIVE, and
 *   that tenant's gateway answers /t/<tenant>/healthz through CloudFront and the router;
 * - self sign-up: a sign-up from example.org (not an allowed domain) is refused; the first sign-up from example.com
 *   is accepted and a second one within the hour is refused by the per-domain limit.
 * The user pool, the tenant table and the platform key are retained (deletion protection): delete them after a run,
 * with the gateway-token secret the provisioner created (`openclaw/<tenant>/gateway-token`).
 */
import { AwsApiCall, ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { OpenClawTenantPlatform } from 'cdk-openclaw';

const zoneId = process.env.OPENCLAW_INTEG_ZONE_ID ?? 'Z0123456789EXAMPLE';
const zoneName = process.env.OPENCLAW_INTEG_ZONE_NAME ?? 'example.com';
const domainName = `openclaw-self-service-integ.${zoneName}`;

const app = new App();
const stack = new Stack(app, 'OpenClawIntegSelfService');
const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: zoneId, zoneName });
const platform = new OpenClawTenantPlatform(stack, 'Platform', {
  edge: { domainName, hostedZone: zone },
  kubectlLayer: new KubectlV35Layer(stack, 'KubectlLayer'),
  // Tags only: the deploy pulls the releases as published (an app you run pins the digests you reviewed).
  image: { tag: '2026.9.6' },
  routerImage: { tag: '1.30.4-alpine' },
  selfService: { allowedEmailDomains: ['example.com'], signUpsPerDomainPerHour: 1 },
});
const selfService = platform.selfService!;

// Cognito's SignUp answers a refusal with an error, which an SDK assertion cannot expect: this function makes the
// attempts (fresh addresses, random passwords that meet the pool's policy) and reports each outcome.
// Event { domain, attempts } -> { first, second?, message } (message: the first refusal's text, or '').
const signUpProbeCode = `
const { randomBytes } = require('node:crypto');
const endpoint = 'https://cognito-idp.' + process.env.AWS_REGION + '.amazonaws.com/';

async function signUp(email) {
  const password = 'Aa1!' + randomBytes(18).toString('base64url');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.SignUp' },
    body: JSON.stringify({
      ClientId: process.env.CLIENT_ID,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: 'email', Value: email }],
    }),
  });
  if (response.ok) return { outcome: 'accepted' };
  const body = await response.json().catch(() => ({}));
  const type = String(body.__type || '').split('#').pop();
  const message = String(body.message || body.Message || response.status);
  // The pre sign-up trigger's refusals; anything else (a password rule, throttling) is a failure of the test itself.
  return type === 'UserLambdaValidationException' ? { outcome: 'refused', message } : { outcome: 'error', message: type + ': ' + message };
}

exports.handler = async (event) => {
  const run = Date.now().toString(36) + randomBytes(3).toString('hex');
  const results = [];
  for (let i = 0; i < event.attempts; i++) results.push(await signUp('integ-' + run + '-' + i + '@' + event.domain));
  const answer = { first: results[0].outcome };
  if (results.length > 1) answer.second = results[1].outcome;
  answer.message = (results.find((r) => r.message) || {}).message || '';
  return answer;
};
`;
const signUpProbe = new lambda.Function(stack, 'SignUpProbe', {
  description: 'OpenClaw integ test: Cognito SignUp attempts from one e-mail domain, and their outcomes',
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline(signUpProbeCode),
  timeout: Duration.seconds(30),
  environment: { CLIENT_ID: selfService.userPoolClient.userPoolClientId },
  logGroup: new logs.LogGroup(stack, 'SignUpProbeLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
});

const integ = new IntegTest(app, 'SelfService', { testCases: [stack], regions: ['eu-west-1'] });

// --- (1) An administrator creates a user and queues its provisioning ------------------------------------------------

// A password made at deploy time, so none is written in the template (it passes through the assertion function).
// No quotes or backslashes: the assertion provider carries parameters as JSON text.
const password = integ.assertions.awsApiCall('SecretsManager', 'getRandomPassword', {
  PasswordLength: 32,
  RequireEachIncludedType: true,
  ExcludeCharacters: '"\'\\`',
});
const adminEmail = 'integ-admin@example.com';
const createUser = integ.assertions.awsApiCall('CognitoIdentityServiceProvider', 'adminCreateUser', {
  UserPoolId: selfService.userPool.userPoolId,
  Username: adminEmail,
  UserAttributes: [{ Name: 'email', Value: adminEmail }, { Name: 'email_verified', Value: 'true' }],
  MessageAction: 'SUPPRESS',
});
// The pool signs in by e-mail: its usernames are the users' sub, which the response gives.
const username = createUser.getAttString('User.Username');
const setPassword = integ.assertions.awsApiCall('CognitoIdentityServiceProvider', 'adminSetUserPassword', {
  UserPoolId: selfService.userPool.userPoolId,
  Username: username,
  Password: password.getAttString('RandomPassword'),
  Permanent: true,
});
// docs/self-service.md: "An administrator can queue anyone at any time".
const enqueue = integ.assertions.awsApiCall('SQS', 'sendMessage', {
  QueueUrl: selfService.provisioningQueue.queueUrl,
  MessageBody: `{"version":1,"userPoolId":"${selfService.userPool.userPoolId}","username":"${username}"}`,
});
// The queue is encrypted with the platform key.
enqueue.provider.addToRolePolicy({
  Effect: 'Allow',
  Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
  Resource: [platform.encryptionKey.keyArn],
});

// The user's record (src/platform/self-service/contract.ts: partition key `pk`, `USER#<username>`) becomes ACTIVE.
const record = integ.assertions
  .awsApiCall('DynamoDB', 'getItem', {
    TableName: selfService.tenantTable.tableName,
    Key: { pk: { S: `USER#${username}` } },
    ConsistentRead: true,
  })
  .assertAtPath('Item.status.S', ExpectedResult.stringLikeRegexp('^ACTIVE$'))
  .waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) }) as AwsApiCall;
// The table is encrypted with the platform key; the waiter's function makes the reads.
record.waiterProvider!.addToRolePolicy({
  Effect: 'Allow',
  Action: ['kms:Decrypt', 'kms:DescribeKey'],
  Resource: [platform.encryptionKey.keyArn],
});
const tenant = record.getAttString('Item.tenant.S');

// Through CloudFront, the web ACL, the internal load balancer and the router to the new tenant's gateway.
const healthz = integ.assertions
  .httpApiCall(`${platform.edge.url}/t/${tenant}/healthz`)
  .expect(ExpectedResult.objectLike({ status: 200 }))
  .waitForAssertions({ totalTimeout: Duration.minutes(25), interval: Duration.seconds(30) });

password.next(createUser).next(setPassword).next(enqueue).next(record).next(healthz);

// --- (2) Self sign-up: allowed domains and the hourly limit -----------------------------------------------------------

// Another domain is refused before any counter is touched (this also warms the pre sign-up function up).
const otherDomain = integ.assertions
  .invokeFunction({ functionName: signUpProbe.functionName, payload: JSON.stringify({ domain: 'example.org', attempts: 1 }) })
  .expect(ExpectedResult.objectLike({
    StatusCode: 200,
    Payload: Match.serializedJson({ first: 'refused', message: Match.stringLikeRegexp('not open to example\\.org') }),
  }));

// With one sign-up per domain per hour, the first is accepted and the second refused with the limit's message.
const allowedDomain = integ.assertions
  .invokeFunction({ functionName: signUpProbe.functionName, payload: JSON.stringify({ domain: 'example.com', attempts: 2 }) })
  .expect(ExpectedResult.objectLike({
    StatusCode: 200,
    Payload: Match.serializedJson({
      first: 'accepted',
      second: 'refused',
      message: Match.stringLikeRegexp('Too many sign-ups from example\\.com'),
    }),
  }));

otherDomain.next(allowedDomain);
