import { Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { HostIngress } from '../../src';
import { resourcesOf, synthHost } from '../util';

/**
 * Stateful resources keep their logical ids across library versions: a changed id would make CloudFormation
 * create a new resource and orphan (or delete) the old one with its data.
 */
const STATEFUL = ['AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::EFS::FileSystem',
  'AWS::Backup::BackupVault', 'AWS::Cognito::UserPool', 'AWS::EC2::Instance'];

function statefulIds(template: any): string[] {
  return STATEFUL.flatMap((type) => resourcesOf(template, type).map(([id]) => `${type} ${id}`)).sort();
}

test('logical ids of the stateful resources of the default host are pinned', () => {
  expect(statefulIds(synthHost().template)).toEqual([
    'AWS::Backup::BackupVault HostBackupVaultB8A58849',
    'AWS::EC2::Instance HostF593FDA4',
    'AWS::KMS::Key HostKeyEF0657EC',
    'AWS::Logs::LogGroup HostAccessSessionLogs8EAA54A0',
    'AWS::Logs::LogGroup HostLogsC0C95A2C',
    'AWS::Logs::LogGroup HostVpcFlowLogsB10FA767',
    'AWS::S3::Bucket HostAccessLogs7B254474',
    'AWS::S3::Bucket HostBackups8752467C',
    'AWS::SecretsManager::Secret HostGatewayToken82939EB8',
  ]);
});

test('logical ids of the stateful resources of the load balancer + Cognito host with EFS and API key secrets are pinned', () => {
  const { template } = synthHost(undefined, (stack: Stack) => ({
    ingress: HostIngress.loadBalancerWithCognito({
      domainName: 'openclaw.example.com',
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123', zoneName: 'example.com' }),
    }),
    persistentAgentData: true,
    anthropicApiKey: true,
    telegramBotToken: true,
  }));
  expect(statefulIds(template)).toMatchSnapshot();
});
