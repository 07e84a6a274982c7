import { Match } from 'aws-cdk-lib/assertions';
import { renderedConfig, resourcesOf, synthHost } from '../util';

describe('SecureOpenClawHost with no props', () => {
  const { template, json, userData } = synthHost();

  test('no security group rule opens port 22, and nothing at all comes in', () => {
    const ingress = [
      ...resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...resourcesOf(template, 'AWS::EC2::SecurityGroup').flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? []),
    ];
    for (const rule of ingress) {
      const from = rule.FromPort ?? 0;
      const to = rule.ToPort ?? 65535;
      expect(from <= 22 && 22 <= to).toBe(false);
    }
    // The only ingress rules in the default shape are the NAT-free VPC's own: none on the host's group.
    const hostGroup = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('HostSecurityGroup'))![1];
    expect(hostGroup.Properties.SecurityGroupIngress).toBeUndefined();
    expect(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).toHaveLength(0);
  });

  test('the host may only send HTTPS out', () => {
    const hostGroup = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('HostSecurityGroup'))![1];
    expect(hostGroup.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
  });

  test('the instance has no public address, no key pair, and requires IMDSv2 with hop limit 1', () => {
    const [, instance] = resourcesOf(template, 'AWS::EC2::Instance')[0];
    expect(instance.Properties.KeyName).toBeUndefined();
    expect(instance.Properties.NetworkInterfaces[0].AssociatePublicIpAddress).toBe(false);
    expect(instance.Properties.Monitoring).toBe(true);
    expect(instance.Properties.MetadataOptions).toEqual(expect.objectContaining({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 }));
  });

  test('the instance runs t3.small on the latest Amazon Linux 2023, resolved when it launches', () => {
    const [, instance] = resourcesOf(template, 'AWS::EC2::Instance')[0];
    expect(instance.Properties.InstanceType).toBe('t3.small');
    expect(instance.Properties.ImageId).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
  });

  test('the root volume is gp3, 20 GiB, encrypted with the host key and kept when the instance goes', () => {
    const [, instance] = resourcesOf(template, 'AWS::EC2::Instance')[0];
    const [keyId] = resourcesOf(template, 'AWS::KMS::Key')[0];
    expect(instance.Properties.BlockDeviceMappings).toEqual([{
      DeviceName: '/dev/xvda',
      Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, DeleteOnTermination: false },
    }]);
  });

  test('the key refuses grants that are not made by an AWS service for an AWS resource', () => {
    const [, key] = resourcesOf(template, 'AWS::KMS::Key')[0];
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: 'GrantsOnlyForAwsServices',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    });
  });

  test('one customer key with rotation, retained on delete', () => {
    const keys = resourcesOf(template, 'AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties.EnableKeyRotation).toBe(true);
    expect(keys[0][1].DeletionPolicy).toBe('Retain');
  });

  test('stateful resources are retained on stack delete', () => {
    for (const type of ['AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::Backup::BackupVault']) {
      const found = resourcesOf(template, type);
      expect(found.length).toBeGreaterThan(0);
      for (const [id, r] of found) {
        expect({ id, policy: r.DeletionPolicy }).toEqual({ id, policy: 'Retain' });
      }
    }
  });

  test('no secret value appears in the template or the user data', () => {
    const [, secret] = resourcesOf(template, 'AWS::SecretsManager::Secret')[0];
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.GenerateSecretString).toEqual(expect.objectContaining({ PasswordLength: 48 }));
    const config = renderedConfig(userData);
    expect(config.gateway.auth.token).toEqual({ source: 'exec', provider: 'aws-secrets-manager', id: '${TOKEN}' });
    expect(JSON.stringify(json)).not.toMatch(/"SecretString"/);
  });

  test('secrets are encrypted with the host key', () => {
    const [keyId] = resourcesOf(template, 'AWS::KMS::Key')[0];
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  test('the gateway listens on loopback only with token auth, and the resolver may fetch only the host\'s own secret', () => {
    const config = renderedConfig(userData);
    expect(config.gateway.bind).toBe('loopback');
    expect(config.gateway.auth.mode).toBe('token');
    expect(config.secrets.providers['aws-secrets-manager'].args).toEqual(['--allow-prefix', '${TOKEN}', '--region', '${TOKEN}']);
    expect(config.gateway.controlUi).not.toHaveProperty('dangerouslyDisableDeviceAuth');
  });

  test('the instance role reads exactly the gateway token secret', () => {
    const [secretId] = resourcesOf(template, 'AWS::SecretsManager::Secret')[0];
    const policies = resourcesOf(template, 'AWS::IAM::Policy').map(([, p]) => p.Properties.PolicyDocument.Statement).flat();
    const reads = policies.filter((s: any) => ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(reads).toHaveLength(1);
    expect(reads[0].Resource).toEqual({ Ref: secretId });
  });

  test('Bedrock access is limited to invoking the configured model', () => {
    const statements = resourcesOf(template, 'AWS::IAM::Policy').map(([, p]) => p.Properties.PolicyDocument.Statement).flat();
    const invoke = statements.find((s: any) => s.Sid === 'InvokeChosenBedrockModels');
    expect(invoke.Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    expect(JSON.stringify(invoke.Resource)).toContain('inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(statements.some((s: any) => ([] as string[]).concat(s.Action).includes('bedrock:*'))).toBe(false);
  });

  test('Session Manager is the only way in, and sessions are logged and encrypted', () => {
    const [, role] = resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.startsWith('HostRole'))!;
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore');
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Session',
      Content: Match.objectLike({
        inputs: Match.objectLike({ cloudWatchEncryptionEnabled: true, kmsKeyId: Match.anyValue(), cloudWatchLogGroupName: Match.anyValue() }),
      }),
    });
  });

  test('flow logs record all traffic into an encrypted log group', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    for (const [, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.KmsKeyId).toBeDefined();
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });

  test('a managed NAT gateway gives the private subnet its way out', () => {
    expect(resourcesOf(template, 'AWS::EC2::NatGateway')).toHaveLength(1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    expect(resourcesOf(template, 'AWS::EC2::VPCEndpoint').filter(([, e]) => e.Properties.VpcEndpointType === 'Interface')).toHaveLength(0);
  });

  test('server access logs of the backup bucket reach the log bucket through its policy, for that bucket only, and no bucket uses an ACL', () => {
    const buckets = resourcesOf(template, 'AWS::S3::Bucket');
    const [backupId, backup] = buckets.find(([id]) => id.startsWith('HostBackups'))!;
    const [logsId, logBucket] = buckets.find(([id]) => id.startsWith('HostAccessLogs'))!;
    expect(backup.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'backups/' });
    for (const [, bucket] of buckets) {
      expect(bucket.Properties.AccessControl).toBeUndefined();
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
    expect(logBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    const [, policy] = resourcesOf(template, 'AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: logsId }))!;
    const delivery = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Principal?.Service === 'logging.s3.amazonaws.com');
    expect(delivery).toEqual([expect.objectContaining({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [backupId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    })]);
    expect(JSON.stringify(delivery[0].Resource)).toContain('/backups/*');
  });

  test('backups: a versioned, encrypted, TLS-only bucket with a lifecycle, and daily snapshots kept 7 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: Match.anyValue(),
      LoggingConfiguration: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ ScheduleExpression: 'cron(0 3 * * ? *)', Lifecycle: { DeleteAfterDays: 7 } })] },
    });
  });

  test('alarms watch CPU, memory, disk, both status checks, gateway restarts and error lines, and a failed system check recovers the instance', () => {
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.map((a) => a.MetricName).sort()).toEqual([
      'CPUUtilization', 'GatewayErrorLines', 'GatewayRestarts', 'StatusCheckFailed_Instance', 'StatusCheckFailed_System', 'disk_used_percent', 'mem_used_percent',
    ]);
    const system = alarms.find((a) => a.MetricName === 'StatusCheckFailed_System');
    expect(JSON.stringify(system.AlarmActions)).toContain(':automate:');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  test('no account CloudTrail trail unless asked for', () => {
    expect(resourcesOf(template, 'AWS::CloudTrail::Trail')).toHaveLength(0);
  });

  test('the estimate lists the NAT gateway and the instance and adds up', () => {
    const { host } = synthHost();
    const items = host.estimatedMonthlyCost.items.map((i) => i.item);
    expect(items).toEqual(expect.arrayContaining(['NAT gateway', 'EC2 t3.small']));
    const sum = host.estimatedMonthlyCost.items.reduce((s, i) => s + i.monthlyUsd, 0);
    expect(host.estimatedMonthlyCost.totalMonthlyUsd).toBeCloseTo(sum, 1);
  });
});
