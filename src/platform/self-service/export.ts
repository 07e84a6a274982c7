/**
 * The tenant export: a POSIX tar of the tenant's EFS directory, streamed into the export bucket by a multipart upload
 * (never the whole archive in memory), then a manifest beside it with the archive's SHA-256, size and counts, which
 * the deprovisioning `verify` step checks the stored object against. CDK-free (the export function bundles it).
 * @internal
 */
/* eslint-disable import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external) */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CompletedPart, CreateMultipartUploadCommand,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
/* eslint-enable import/no-extraneous-dependencies */
import { createTar, TarSummary } from './tar';
import { isTenantName, tenantNamespace } from '../tenant-spec';

/** The smallest part of the upload except the last (S3 allows 5 MiB; 8 MiB halves the requests). @internal */
export const MIN_PART_SIZE = 8 * 1024 * 1024;
/** S3's largest number of parts in one upload. @internal */
export const MAX_PARTS = 10_000;
/** Parts are this many to a size: part n is `partSize * 2^floor((n-1)/PARTS_PER_SIZE)` so 10,000 parts hold ~8 TiB. */
const PARTS_PER_SIZE = 1000;
/** S3's largest part. */
const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

/** The export function's input (from the deprovisioning state machine). @internal */
export interface ExportInput {
  readonly tenant: string;
}

/** The export function's output: what the `verify` step checks. @internal */
export interface ExportResult {
  /** `exports/openclaw-<tenant>/<ISO time>.tar` */
  readonly exportKey: string;
  /** `exports/openclaw-<tenant>/<ISO time>.manifest.json` */
  readonly manifestKey: string;
  /** Lower-case hex SHA-256 of the archive. */
  readonly sha256: string;
  /** Size of the archive in bytes. */
  readonly bytes: number;
  /** Regular files in the archive. */
  readonly files: number;
}

/** The manifest stored beside an export. @internal */
export interface ExportManifest {
  readonly tenant: string;
  /** Regular files in the archive. */
  readonly files: number;
  /** Size of the archive in bytes. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the archive. */
  readonly sha256: string;
  /** When the export began (the archive holds the directory as read from then on). ISO 8601. */
  readonly createdAt: string;
  /** Always `posix-tar` (ustar with pax extended headers). */
  readonly format: 'posix-tar';
  /** The archive's top-level directory: `openclaw-<tenant>/`. */
  readonly root: string;
  /** True when the tenant had no directory (it never wrote state): the archive is empty, which is not an error. */
  readonly directoryMissing: boolean;
  readonly directories: number;
  readonly symlinks: number;
  /** Bytes of file data (the archive adds headers and padding). */
  readonly contentBytes: number;
  /** Entries not archived (sockets, FIFOs, devices), relative to the tenant directory. */
  readonly skipped: string[];
  /** A sentence for people reading the manifest. */
  readonly note: string;
}

/** What `exportTenant` needs. @internal */
export interface ExportOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Where the tenants' EFS directory is mounted: the tenant's files are under `<mount>/openclaw-<tenant>`. */
  readonly mount: string;
  /** A KMS key for the objects; without it S3 uses its AWS managed key for SSE-KMS. */
  readonly kmsKeyId?: string;
  /** @default MIN_PART_SIZE */
  readonly partSize?: number;
  /** Parts uploaded at once (memory is about `(concurrency + 1) * partSize`). @default 4 */
  readonly concurrency?: number;
  /** Epoch milliseconds after which the export gives up cleanly (aborting the upload) instead of being killed. */
  readonly deadline?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** The export failed in a way worth a retry with a new export (the upload was aborted). @internal */
export class ExportError extends Error {
  constructor(name: 'ExportTimeout' | 'ExportTooLarge' | 'InvalidInput', message: string) {
    super(message);
    this.name = name;
  }
}

/** The key prefix of a tenant's exports, `exports/openclaw-<tenant>/`. @internal */
export function exportPrefix(tenant: string): string {
  return `exports/${tenantNamespace(tenant)}/`;
}

/** The manifest key of an export key: `<prefix><time>.tar` → `<prefix><time>.manifest.json`. @internal */
export function manifestKeyOf(exportKey: string): string {
  return exportKey.replace(/\.tar$/, '') + '.manifest.json';
}

/** Part `n`'s size (1-based): `partSize`, doubling every 1,000 parts, at most 5 GiB. @internal */
export function partSizeOf(n: number, partSize: number = MIN_PART_SIZE): number {
  return Math.min(partSize * 2 ** Math.floor((n - 1) / PARTS_PER_SIZE), MAX_PART_SIZE);
}

/**
 * Streams a tar of `<mount>/openclaw-<tenant>` into `s3://<bucket>/exports/openclaw-<tenant>/<ISO time>.tar` and writes
 * its manifest. Any failure aborts the multipart upload, so no partial archive is ever stored.
 * @internal
 */
export async function exportTenant(tenant: string, options: ExportOptions): Promise<ExportResult> {
  if (!isTenantName(tenant)) throw new ExportError('InvalidInput', `"${tenant}" is not a tenant name`);
  const partSize = options.partSize ?? MIN_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) throw new ExportError('InvalidInput', `the part size must be at least ${MIN_PART_SIZE} bytes`);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ExportError('InvalidInput', `the concurrency must be a positive integer, got ${concurrency}`);
  const now = options.now ?? (() => new Date());
  const root = tenantNamespace(tenant);
  const createdAt = now().toISOString();
  const exportKey = `${exportPrefix(tenant)}${createdAt}.tar`;
  const manifestKey = manifestKeyOf(exportKey);
  const encryption = { ServerSideEncryption: 'aws:kms' as const, ...(options.kmsKeyId ? { SSEKMSKeyId: options.kmsKeyId } : {}) };

  const tar = createTar(path.join(options.mount, root), { base: root, missingRootIsEmpty: true });
  let uploadId: string | undefined;
  let summary: TarSummary;
  try {
    const created = await options.s3.send(new CreateMultipartUploadCommand({
      Bucket: options.bucket, Key: exportKey, ContentType: 'application/x-tar', ChecksumAlgorithm: 'SHA256', ...encryption,
    }));
    uploadId = created.UploadId;
    if (!uploadId) throw new Error('S3 returned no upload ID for the export');
    const parts = await uploadParts(tar.stream, { ...options, partSize, concurrency, exportKey, uploadId });
    summary = await tar.summary;
    await options.s3.send(new CompleteMultipartUploadCommand({
      Bucket: options.bucket, Key: exportKey, UploadId: uploadId, MultipartUpload: { Parts: parts },
    }));
  } catch (error) {
    tar.stream.destroy();
    if (uploadId) {
      try {
        await options.s3.send(new AbortMultipartUploadCommand({ Bucket: options.bucket, Key: exportKey, UploadId: uploadId }));
      } catch (abortError) {
        console.error(`aborting the upload of ${exportKey} failed (left to the bucket's AbortIncompleteMultipartUpload rule): ${(abortError as Error).name}`);
      }
    }
    throw error;
  }

  const manifest: ExportManifest = {
    tenant,
    files: summary.files,
    bytes: summary.bytes,
    sha256: summary.sha256,
    createdAt,
    format: 'posix-tar',
    root: `${root}/`,
    directoryMissing: summary.rootMissing,
    directories: summary.directories,
    symlinks: summary.symlinks,
    contentBytes: summary.contentBytes,
    skipped: summary.skipped,
    note: summary.rootMissing
      ? `The tenant had no directory (${root} never wrote state): the archive is empty.`
      : `A POSIX tar of the tenant's directory ${root}, read from ${createdAt} on (deprovisioning verifies it was taken after the gateway stopped).`,
  };
  await options.s3.send(new PutObjectCommand({
    Bucket: options.bucket, Key: manifestKey, ContentType: 'application/json', Body: JSON.stringify(manifest, undefined, 2), ...encryption,
  }));
  return { exportKey, manifestKey, sha256: summary.sha256, bytes: summary.bytes, files: summary.files };
}

interface PartOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly exportKey: string;
  readonly uploadId: string;
  readonly partSize: number;
  readonly concurrency: number;
  readonly deadline?: number;
}

/** Cuts the stream into parts and uploads them, at most `concurrency` at once; resolves to the parts in order. */
async function uploadParts(stream: AsyncIterable<Buffer>, o: PartOptions): Promise<CompletedPart[]> {
  const done: CompletedPart[] = [];
  const inflight = new Set<Promise<void>>();
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let partNumber = 0;
  let failure: { error: unknown } | undefined;

  const send = async (body: Buffer) => {
    const n = ++partNumber;
    if (n > MAX_PARTS) throw new ExportError('ExportTooLarge', `the export needs more than ${MAX_PARTS} parts`);
    const checksum = createHash('sha256').update(body).digest('base64');
    const task = (async () => {
      const answer = await o.s3.send(new UploadPartCommand({
        Bucket: o.bucket,
        Key: o.exportKey,
        UploadId: o.uploadId,
        PartNumber: n,
        Body: body,
        ContentLength: body.length,
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: checksum,
      }));
      if (!answer.ETag) throw new Error(`S3 returned no ETag for part ${n} of the export`);
      done.push({ PartNumber: n, ETag: answer.ETag, ChecksumSHA256: answer.ChecksumSHA256 ?? checksum });
    })();
    inflight.add(task);
    task.then(() => inflight.delete(task), error => { failure ??= { error }; });
    if (inflight.size >= o.concurrency) await Promise.race(inflight);
  };
  const take = (size: number): Buffer => {
    const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
    pending = size < all.length ? [all.subarray(size)] : [];
    pendingLength = all.length - Math.min(size, all.length);
    return all.subarray(0, size);
  };

  try {
    for await (const chunk of stream) {
      if (failure) throw failure.error; // a part failed: stop reading the tree
      if (o.deadline !== undefined && Date.now() > o.deadline) {
        throw new ExportError('ExportTimeout', `the export did not finish in time after ${partNumber} parts; the upload was aborted`);
      }
      pending.push(chunk);
      pendingLength += chunk.length;
      while (pendingLength >= partSizeOf(partNumber + 1, o.partSize)) await send(take(partSizeOf(partNumber + 1, o.partSize)));
    }
    if (pendingLength > 0 || partNumber === 0) await send(take(pendingLength));
    await Promise.all(inflight);
  } catch (error) {
    await Promise.allSettled(inflight); // no part may land after the abort
    throw error;
  }
  return done.sort((a, b) => a.PartNumber! - b.PartNumber!);
}
