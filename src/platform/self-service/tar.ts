/**
 * A streaming POSIX tar writer (ustar headers, pax extended headers where ustar cannot hold a value) over a directory
 * tree, for the tenant export. It walks with `lstat` only: a symbolic link is recorded as a link and never followed,
 * every directory it descends into is checked to resolve inside the root, and files are opened with `O_NOFOLLOW`, so
 * the archive holds nothing from outside the root. Regular files, directories and symbolic links are archived;
 * sockets, FIFOs and devices are skipped and listed. Nothing is buffered beyond one read chunk, and the SHA-256 and
 * the counts are computed over exactly the bytes the stream hands out. CDK-free (the export function bundles it).
 * @internal
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, Stats } from 'node:fs';
import { lstat, open, readdir, readlink, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';

/** The size of a tar block: headers and the padding of file data are whole blocks. @internal */
export const TAR_BLOCK = 512;

/** What an archive holds, known once its stream has ended. @internal */
export interface TarSummary {
  /** Lower-case hex SHA-256 of the archive bytes. */
  readonly sha256: string;
  /** Size of the archive in bytes. */
  readonly bytes: number;
  /** Regular files archived. */
  readonly files: number;
  /** Directories archived, the root included. */
  readonly directories: number;
  /** Symbolic links archived (as links). */
  readonly symlinks: number;
  /** Bytes of file data archived (the sum of the regular files' sizes). */
  readonly contentBytes: number;
  /** Paths (relative to the root) of entries not archived: sockets, FIFOs and devices. */
  readonly skipped: string[];
  /** True when the root did not exist and `missingRootIsEmpty` made the archive empty. */
  readonly rootMissing: boolean;
}

/** Options of `createTar`. @internal */
export interface TarOptions {
  /**
   * The name of the root directory in the archive: entries are `<base>/`, `<base>/a/b`, ... A relative path without
   * `..` segments.
   * @default - the root's base name
   */
  readonly base?: string;
  /**
   * When the root does not exist: true gives an empty archive (two zero blocks, `rootMissing` set); false fails.
   * @default false
   */
  readonly missingRootIsEmpty?: boolean;
  /**
   * Bytes read from a file at a time (the largest chunk the stream hands out).
   * @default 1 MiB
   */
  readonly chunkSize?: number;
}

/** An archive being written. @internal */
export interface TarStream {
  /** The archive bytes. Destroying it stops the walk and closes the open file. */
  readonly stream: Readable;
  /** Resolves when the stream has handed out its last byte; rejects when writing failed. */
  readonly summary: Promise<TarSummary>;
}

/** The archive could not be written faithfully: the root is not a directory, or the tree changed while archived. @internal */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

/** Largest value of a ustar size or mtime field (11 octal digits). */
const MAX_OCTAL_11 = 0o77777777777;
/** Largest value of a ustar uid or gid field (7 octal digits). */
const MAX_OCTAL_7 = 0o7777777;
const NAME_FIELD = 100;

/**
 * Streams a POSIX tar archive of the directory tree at `root`. The walk starts when the stream is first read; entries
 * come in byte order of their names, each directory before its contents.
 * @internal
 */
export function createTar(root: string, options: TarOptions = {}): TarStream {
  const base = options.base ?? path.basename(path.resolve(root));
  if (!base || path.isAbsolute(base) || base.split('/').some(s => s === '..' || s === '')) {
    throw new TarError(`the archive base name "${base}" must be a relative path without empty or ".." segments`);
  }
  const chunkSize = options.chunkSize ?? 1024 * 1024;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new TarError(`the chunk size must be a positive integer, got ${chunkSize}`);

  const hash = createHash('sha256');
  const counts = { bytes: 0, files: 0, directories: 0, symlinks: 0, contentBytes: 0, skipped: [] as string[], rootMissing: false };
  let settle!: { resolve: (s: TarSummary) => void; reject: (e: unknown) => void };
  const summary = new Promise<TarSummary>((resolve, reject) => { settle = { resolve, reject }; });
  summary.catch(() => undefined); // the stream reports the same error; an unawaited summary must not crash the process

  async function* counted(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of archive(Buffer.from(path.resolve(root)), Buffer.from(base), chunkSize, counts, options.missingRootIsEmpty ?? false)) {
        hash.update(chunk);
        counts.bytes += chunk.length;
        yield chunk;
      }
      settle.resolve({ ...counts, sha256: hash.digest('hex'), skipped: [...counts.skipped] });
    } catch (error) {
      settle.reject(error);
      throw error;
    } finally {
      // Destroyed by the consumer before the end: the summary would never settle otherwise.
      settle.reject(new TarError('the archive stream was closed before its end'));
    }
  }

  return { stream: Readable.from(counted(), { objectMode: false }), summary };
}

interface Counts {
  files: number;
  directories: number;
  symlinks: number;
  contentBytes: number;
  skipped: string[];
  rootMissing: boolean;
}

async function* archive(root: Buffer, base: Buffer, chunkSize: number, counts: Counts, missingRootIsEmpty: boolean): AsyncGenerator<Buffer> {
  let rootStat: Stats;
  try {
    rootStat = await lstat(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && missingRootIsEmpty) {
      counts.rootMissing = true;
      yield Buffer.alloc(2 * TAR_BLOCK);
      return;
    }
    throw error;
  }
  if (!rootStat.isDirectory()) throw new TarError(`the archive root ${root.toString()} is not a directory (symbolic links are not followed)`);
  const rootReal = await realpath(root, { encoding: 'buffer' });
  yield* directory({ rootReal, base, chunkSize, counts }, root, Buffer.alloc(0), rootStat);
  yield Buffer.alloc(2 * TAR_BLOCK); // end of archive
}

/** What every step of one walk shares. */
interface Walk {
  /** The root's real path (every directory must resolve below it). */
  readonly rootReal: Buffer;
  /** The root's name in the archive. */
  readonly base: Buffer;
  readonly chunkSize: number;
  readonly counts: Counts;
}

/** Archives the directory at `full` (`rel` below the root) and everything under it. */
async function* directory(walk: Walk, full: Buffer, rel: Buffer, stat: Stats): AsyncGenerator<Buffer> {
  const { rootReal, base, counts } = walk;
  // Refuse to escape the root: the directory must resolve to the same place below the real root (no symbolic link
  // or mount trickery on its path, e.g. a directory swapped for a link after it was listed).
  const real = await realpath(full, { encoding: 'buffer' });
  const expected = rel.length ? Buffer.concat([rootReal, Buffer.from('/'), rel]) : rootReal;
  if (!real.equals(expected)) throw new TarError(`${printable(rel)} resolves outside the archive root; refusing to follow it`);

  yield* header(entryName(base, rel, true), stat, '5', 0);
  counts.directories++;

  const names = (await readdir(full, { encoding: 'buffer' })).sort(Buffer.compare);
  for (const name of names) {
    const childFull = Buffer.concat([full, Buffer.from('/'), name]);
    const childRel = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
    const childStat = await lstat(childFull);
    if (childStat.isDirectory()) {
      yield* directory(walk, childFull, childRel, childStat);
    } else if (childStat.isSymbolicLink()) {
      const target = await readlink(childFull, { encoding: 'buffer' });
      yield* header(entryName(base, childRel, false), childStat, '2', 0, target);
      counts.symlinks++;
    } else if (childStat.isFile()) {
      yield* file(walk, childFull, childRel, childStat);
    } else {
      counts.skipped.push(printable(childRel));
    }
  }
}

/** Archives one regular file, opened without following a link, exactly as large as it was when opened. */
async function* file(walk: Walk, full: Buffer, rel: Buffer, listed: Stats): AsyncGenerator<Buffer> {
  const { base, chunkSize, counts } = walk;
  const handle = await open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW); // eslint-disable-line no-bitwise
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.ino !== listed.ino || stat.dev !== listed.dev) {
      throw new TarError(`${printable(rel)} changed while it was archived`);
    }
    const size = stat.size;
    yield* header(entryName(base, rel, false), stat, '0', size);
    let position = 0;
    while (position < size) {
      const buffer = Buffer.allocUnsafe(Math.min(chunkSize, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new TarError(`${printable(rel)} shrank while it was archived`);
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
    const after = await handle.stat();
    if (after.size !== size || after.mtimeMs !== stat.mtimeMs) throw new TarError(`${printable(rel)} changed while it was archived`);
    const padding = paddingOf(size);
    if (padding) yield Buffer.alloc(padding);
    counts.files++;
    counts.contentBytes += size;
  } finally {
    await handle.close();
  }
}

/** The slice of `Stats` a header records. @internal */
export type HeaderStats = Pick<Stats, 'mode' | 'uid' | 'gid' | 'mtimeMs'>;

/**
 * The header block(s) of one entry: a pax extended header first when ustar cannot hold a value (a name or link
 * target over 100 bytes, a size of 8 GiB or more, an out-of-range time, uid or gid).
 * @internal
 */
export function* header(name: Buffer, stat: HeaderStats, type: '0' | '2' | '5', size: number, linkname?: Buffer): Generator<Buffer> {
  const mtime = Math.floor(stat.mtimeMs / 1000);
  const pax: Array<[string, Buffer]> = [];
  if (name.length > NAME_FIELD) pax.push(['path', name]);
  if (linkname && linkname.length > NAME_FIELD) pax.push(['linkpath', linkname]);
  if (size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(size))]);
  if (mtime < 0 || mtime > MAX_OCTAL_11) pax.push(['mtime', Buffer.from(String(mtime))]);
  if (stat.uid > MAX_OCTAL_7) pax.push(['uid', Buffer.from(String(stat.uid))]);
  if (stat.gid > MAX_OCTAL_7) pax.push(['gid', Buffer.from(String(stat.gid))]);
  if (pax.length) {
    // Values are the file system's bytes; POSIX says to announce values that are not UTF-8.
    if (pax.some(([, value]) => !isUtf8(value))) pax.unshift(['hdrcharset', Buffer.from('BINARY')]);
    const body = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
    yield ustarBlock({
      name: Buffer.concat([Buffer.from('PaxHeaders/'), name]).subarray(0, NAME_FIELD),
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: 0,
      type: 'x',
    });
    yield body;
    const padding = paddingOf(body.length);
    if (padding) yield Buffer.alloc(padding);
  }
  yield ustarBlock({
    name: name.subarray(0, NAME_FIELD),
    mode: stat.mode % 0o10000,
    uid: Math.min(stat.uid, MAX_OCTAL_7),
    gid: Math.min(stat.gid, MAX_OCTAL_7),
    size: size > MAX_OCTAL_11 ? 0 : size,
    mtime: Math.min(Math.max(mtime, 0), MAX_OCTAL_11),
    type,
    linkname: linkname?.subarray(0, NAME_FIELD),
  });
}

interface UstarFields {
  readonly name: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly type: string;
  readonly linkname?: Buffer;
}

/** One 512-byte ustar header block. @internal */
export function ustarBlock(f: UstarFields): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  f.name.copy(block, 0);
  octal(block, 100, 8, f.mode);
  octal(block, 108, 8, f.uid);
  octal(block, 116, 8, f.gid);
  octal(block, 124, 12, f.size);
  octal(block, 136, 12, f.mtime);
  block.write(f.type, 156, 'latin1');
  f.linkname?.copy(block, 157);
  block.write('ustar\u000000', 257, 'latin1'); // magic "ustar\0", version "00"
  // The checksum: the sum of the header's bytes with the checksum field counted as eight spaces.
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 'latin1');
  return block;
}

/** Writes `value` as zero-padded octal digits and a NUL into the `length`-byte field at `offset`. */
function octal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new TarError(`${value} does not fit a ${length}-byte tar header field`);
  block.write(digits.padStart(length - 1, '0') + '\u0000', offset, 'latin1');
}

/** A pax record, `<length> <key>=<value>\n`, where the length counts the whole record including its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return Buffer.concat([Buffer.from(`${length} ${key}=`), value, Buffer.from('\n')]);
}

function entryName(base: Buffer, rel: Buffer, isDirectory: boolean): Buffer {
  const parts = rel.length ? [base, Buffer.from('/'), rel] : [base];
  return Buffer.concat(isDirectory ? [...parts, Buffer.from('/')] : parts);
}

function paddingOf(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}

function isUtf8(value: Buffer): boolean {
  return Buffer.from(value.toString('utf8'), 'utf8').equals(value);
}

function printable(rel: Buffer): string {
  return rel.length ? rel.toString('utf8') : '.';
}
