/**
 * The export function: mounted on the tenants' EFS directory at `EXPORT_MOUNT` (as the tenants' POSIX user), it
 * streams a tar of one tenant's directory into `EXPORT_BUCKET` and writes its manifest. Input `{ tenant }`; output
 * `ExportResult`. Reads EXPORT_BUCKET, EXPORT_MOUNT and, when set, KMS_KEY_ARN (the objects' key).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from './contract';
import { ExportInput, ExportResult, exportTenant } from './export';

/** Time kept back from the function's timeout to abort the upload cleanly. */
const ABORT_MARGIN_MS = 30_000;

/** The clients and settings of the handler (tests replace them). @internal */
export const deps = {
  s3: new S3Client({}),
  env: (): NodeJS.ProcessEnv => process.env,
};

/** The slice of the Lambda context the handler uses. @internal */
export interface ExportContext {
  getRemainingTimeInMillis(): number;
}

/** Exports one tenant's files. @internal */
export async function handler(event: ExportInput, context?: ExportContext): Promise<ExportResult> {
  const env = deps.env();
  const bucket = env[ENV.EXPORT_BUCKET];
  const mount = env[ENV.EXPORT_MOUNT];
  if (!bucket || !mount) throw new Error(`the export function needs ${ENV.EXPORT_BUCKET} and ${ENV.EXPORT_MOUNT}`);
  const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - ABORT_MARGIN_MS : undefined;
  return exportTenant(event?.tenant, { s3: deps.s3, bucket, mount, kmsKeyId: env[ENV.KMS_KEY_ARN] || undefined, deadline });
}
