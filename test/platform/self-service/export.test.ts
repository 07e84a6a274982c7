import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { MIN_PART_SIZE, exportTenant, partSizeOf } from '../../../src/platform/self-service/export';
import { deps as lambdaDeps, handler } from '../../../src/platform/self-service/export.lambda';
import { createTar } from '../../../src/platform/self-service/tar';

const s3 = mockClient(S3Client);
const MiB = 1024 * 1024;
const NOW = new Date('2025-01-02T03:04:05.678Z');
const KEY = 'exports/openclaw-acme/2025-01-02T03:04:05.678Z.tar';
const MANIFEST_KEY = 'exports/openclaw-acme/2025-01-02T03:04:05.678Z.manifest.json';
const named = (name: string) => Object.assign(new Error(name), { name });

let mount: string;
let uploaded: Map<number, Buffer>;
beforeEach(() => {
  mount = fs.mkdtempSync(path.join(os.tmpdir(), 'export-test-'));
  uploaded = new Map();
  s3.reset();
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
  s3.on(UploadPartCommand).callsFake(async (input) => {
    uploaded.set(input.PartNumber, Buffer.from(input.Body));
    return { ETag: `"etag-${input.PartNumber}"` };
  });
  s3.on(CompleteMultipartUploadCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
});
afterEach(() => fs.rmSync(mount, { recursive: true, force: true }));

/** A tenant directory with ~20 MiB of data: three parts (8 MiB, 8 MiB, the rest). */
function writeTenant(): string {
  const dir = path.join(mount, 'openclaw-acme');
  fs.mkdirSync(path.join(dir, 'workspace'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'workspace', 'big.bin'), randomBytes(20 * MiB));
  fs.writeFileSync(path.join(dir, 'openclaw.json'), '{}\n');
  fs.symlinkSync('/etc/passwd', path.join(dir, 'link'));
  return dir;
}

async function tarOf(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createTar(dir, { base: 'openclaw-acme' }).stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const manifestPut = () => JSON.parse(String(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body));

describe('the tenant export', () => {
  test('streams the tar in parts of 8 MiB (the last smaller) whose bytes are exactly the archive, encrypted with KMS', async () => {
    const dir = writeTenant();
    const result = await exportTenant('acme', { s3: new S3Client({}), bucket: 'exports-bucket', mount, now: () => NOW, kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k' });
    const expected = await tarOf(dir);

    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toEqual({
      Bucket: 'exports-bucket',
      Key: KEY,
      ContentType: 'application/x-tar',
      ChecksumAlgorithm: 'SHA256',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
    });
    const sizes = [...uploaded.keys()].sort((a, b) => a - b).map(n => uploaded.get(n)!.length);
    expect(sizes.slice(0, -1)).toEqual([MIN_PART_SIZE, MIN_PART_SIZE]);
    expect(sizes[2]).toBe(expected.length - 2 * MIN_PART_SIZE);
    expect(Buffer.concat([1, 2, 3].map(n => uploaded.get(n)!)).equals(expected)).toBe(true);
    for (const call of s3.commandCalls(UploadPartCommand)) {
      const input = call.args[0].input;
      expect(input).toMatchObject({ Bucket: 'exports-bucket', Key: KEY, UploadId: 'upload-1', ChecksumAlgorithm: 'SHA256' });
      expect(input.ChecksumSHA256).toBe(createHash('sha256').update(input.Body as Buffer).digest('base64'));
    }
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input;
    expect(complete).toMatchObject({ Bucket: 'exports-bucket', Key: KEY, UploadId: 'upload-1' });
    expect(complete.MultipartUpload!.Parts!.map(p => [p.PartNumber, p.ETag])).toEqual([[1, '"etag-1"'], [2, '"etag-2"'], [3, '"etag-3"']]);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);

    expect(result).toEqual({ exportKey: KEY, manifestKey: MANIFEST_KEY, sha256: sha256(expected), bytes: expected.length, files: 2 });
  });

  test('writes the manifest beside the archive, after it, encrypted with KMS', async () => {
    const dir = writeTenant();
    await exportTenant('acme', { s3: new S3Client({}), bucket: 'exports-bucket', mount, now: () => NOW });
    const expected = await tarOf(dir);
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'exports-bucket', Key: MANIFEST_KEY, ContentType: 'application/json', ServerSideEncryption: 'aws:kms' });
    expect(put.SSEKMSKeyId).toBeUndefined();
    expect(manifestPut()).toEqual({
      tenant: 'acme',
      files: 2,
      bytes: expected.length,
      sha256: sha256(expected),
      createdAt: NOW.toISOString(),
      format: 'posix-tar',
      root: 'openclaw-acme/',
      directoryMissing: false,
      directories: 2,
      symlinks: 1,
      contentBytes: 20 * MiB + 3,
      skipped: [],
      note: expect.stringContaining(`read from ${NOW.toISOString()} on`),
    });
    const order = s3.calls().map(c => (c.args[0] as object).constructor.name);
    expect(order.indexOf('CompleteMultipartUploadCommand')).toBeLessThan(order.indexOf('PutObjectCommand'));
  });

  test('a tenant that never wrote state exports an empty archive and a manifest saying so', async () => {
    const result = await exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, now: () => NOW });
    expect([...uploaded.keys()]).toEqual([1]);
    expect(uploaded.get(1)!.equals(Buffer.alloc(1024))).toBe(true);
    expect(result).toEqual({ exportKey: KEY, manifestKey: MANIFEST_KEY, sha256: sha256(Buffer.alloc(1024)), bytes: 1024, files: 0 });
    expect(manifestPut()).toMatchObject({ directoryMissing: true, files: 0, bytes: 1024, note: expect.stringContaining('never wrote state') });
  });

  test('an empty tenant directory exports its directory entry only', async () => {
    fs.mkdirSync(path.join(mount, 'openclaw-acme'));
    const result = await exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, now: () => NOW });
    expect(result.bytes).toBe(512 + 1024);
    expect(manifestPut()).toMatchObject({ directoryMissing: false, files: 0, directories: 1 });
  });

  test.each([
    ['a part fails', () => s3.on(UploadPartCommand, { PartNumber: 2 }).rejects(named('InternalError')), 'InternalError'],
    ['completing fails', () => s3.on(CompleteMultipartUploadCommand).rejects(named('InternalError')), 'InternalError'],
    ['the tree cannot be read', () => {
      fs.rmSync(path.join(mount, 'openclaw-acme'), { recursive: true });
      fs.symlinkSync('/etc', path.join(mount, 'openclaw-acme'));
    }, 'is not a directory'],
  ])('when %s, the upload is aborted and no manifest is written', async (_, inject, message) => {
    writeTenant();
    inject();
    await expect(exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, now: () => NOW })).rejects.toThrow(message);
    expect(s3.commandCalls(AbortMultipartUploadCommand).map(c => c.args[0].input)).toEqual([{ Bucket: 'b', Key: KEY, UploadId: 'upload-1' }]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('a failed part is noticed while parts are still in flight, and no part starts after the abort', async () => {
    writeTenant();
    const events: string[] = [];
    s3.on(UploadPartCommand).callsFake(async (input) => {
      events.push(`start ${input.PartNumber}`);
      await new Promise(resolve => setTimeout(resolve, 20));
      events.push(`end ${input.PartNumber}`);
      if (input.PartNumber === 1) throw named('SlowDown');
      return { ETag: 'e' };
    });
    s3.on(AbortMultipartUploadCommand).callsFake(async () => { events.push('abort'); return {}; });
    await expect(exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, now: () => NOW, concurrency: 2 })).rejects.toThrow('SlowDown');
    expect(events[events.length - 1]).toBe('abort');
    expect(events.filter(e => e.startsWith('start')).length).toBe(events.filter(e => e.startsWith('end')).length);
  });

  test('at most `concurrency` parts are in flight, so memory stays bounded whatever the archive\'s size', async () => {
    const dir = path.join(mount, 'openclaw-acme');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'big.bin'), randomBytes(45 * MiB));
    let inflight = 0;
    let most = 0;
    s3.on(UploadPartCommand).callsFake(async (input) => {
      most = Math.max(most, ++inflight);
      // Hold each part until another is in flight (or a while passed): a third would show if the bound leaked.
      for (let waited = 0; inflight < 3 && waited < 400 && !(inflight >= 2 && waited >= 20); waited += 5) {
        await new Promise(resolve => setTimeout(resolve, 5));
      }
      inflight--;
      return { ETag: `"${input.PartNumber}"` };
    });
    await exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, now: () => NOW, concurrency: 2 });
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(6);
    expect(most).toBe(2);
  });

  test('past its deadline the export gives up and aborts the upload', async () => {
    writeTenant();
    await expect(exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, now: () => NOW, deadline: Date.now() - 1 }))
      .rejects.toMatchObject({ name: 'ExportTimeout' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  test('refuses a tenant name that is not one (no path tricks) and parts under 8 MiB', async () => {
    for (const tenant of ['../etc', 'a/b', '', 'Acme']) {
      await expect(exportTenant(tenant, { s3: new S3Client({}), bucket: 'b', mount })).rejects.toThrow('is not a tenant name');
    }
    await expect(exportTenant('acme', { s3: new S3Client({}), bucket: 'b', mount, partSize: 5 * MiB })).rejects.toThrow('at least 8388608 bytes');
    expect(s3.calls()).toHaveLength(0);
  });

  test('part sizes double every 1,000 parts, so 10,000 parts hold terabytes', () => {
    expect(partSizeOf(1)).toBe(8 * MiB);
    expect(partSizeOf(1000)).toBe(8 * MiB);
    expect(partSizeOf(1001)).toBe(16 * MiB);
    expect(partSizeOf(10_000)).toBe(4096 * MiB);
    let capacity = 0;
    for (let n = 1; n <= 10_000; n++) capacity += partSizeOf(n);
    expect(capacity).toBeGreaterThan(7 * 1024 ** 4);
  });

  test('the handler reads its bucket, mount and key from the environment and needs the first two', async () => {
    lambdaDeps.env = () => ({ EXPORT_MOUNT: mount });
    await expect(handler({ tenant: 'acme' })).rejects.toThrow('needs EXPORT_BUCKET and EXPORT_MOUNT');
    lambdaDeps.env = () => ({ EXPORT_BUCKET: 'exports-bucket', EXPORT_MOUNT: mount, KMS_KEY_ARN: 'arn:key' });
    const result = await handler({ tenant: 'acme' }, { getRemainingTimeInMillis: () => 600_000 });
    expect(result.exportKey).toMatch(/^exports\/openclaw-acme\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\.tar$/);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({ Bucket: 'exports-bucket', SSEKMSKeyId: 'arn:key' });
  });
});
