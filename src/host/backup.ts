import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeBackupSelection } from '../core/nag';

/** @internal */
export interface HostBackupProps {
  readonly instance: ec2.Instance;
  readonly fileSystem?: efs.FileSystem;
  readonly key: kms.IKey;
  readonly retention: Duration;
}

/**
 * Daily AWS Backup of the instance's volumes (and the EFS file system when there is one) into a vault
 * encrypted with the construct's key. The vault and its recovery points are retained on stack delete.
 * @internal
 */
export class HostBackup extends Construct {
  public readonly vault: backup.BackupVault;
  public readonly plan: backup.BackupPlan;

  constructor(scope: Construct, id: string, props: HostBackupProps) {
    super(scope, id);
    this.vault = new backup.BackupVault(this, 'Vault', {
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.plan = new backup.BackupPlan(this, 'Plan', { backupVault: this.vault });
    this.plan.addRule(new backup.BackupPlanRule({
      ruleName: 'Daily',
      scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(4),
      deleteAfter: props.retention,
    }));
    const resources = [backup.BackupResource.fromEc2Instance(props.instance)];
    if (props.fileSystem) resources.push(backup.BackupResource.fromEfsFileSystem(props.fileSystem));
    const selection = this.plan.addSelection('Host', { resources, allowRestores: true });
    acknowledgeBackupSelection(selection);
  }
}
