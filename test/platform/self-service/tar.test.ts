import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { TAR_BLOCK, TarError, createTar, header, ustarBlock } from '../../../src/platform/self-service/tar';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-test-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const LONG_NAME = 'n'.repeat(196) + '.txt'; // 200 characters: more than ustar's 100-byte name field
const LONG_TARGET = 'target/'.repeat(20) + 'file'; // 144 characters: more than ustar's 100-byte link field
const NON_UTF8 = Buffer.concat([Buffer.from('latin1-'), Buffer.from([0xe9, 0xff]), Buffer.from('-'.repeat(110))]);

/** A tenant-like tree, plus a secret outside it that a symbolic link inside points at. */
function writeTree(): { root: string; outside: string; binary: Buffer } {
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'OUTSIDE-SECRET-CONTENT');
  const root = path.join(tmp, 'openclaw-acme');
  fs.mkdirSync(path.join(root, 'workspace', 'deep', 'deeper', 'deepest'), { recursive: true });
  fs.mkdirSync(path.join(root, 'empty-dir'));
  fs.writeFileSync(path.join(root, 'openclaw.json'), '{"hello":"world"}\n');
  fs.writeFileSync(path.join(root, 'empty-file'), '');
  const binary = Buffer.concat([randomBytes(300 * 1024), Buffer.from([0, 255, 0, 13, 10]), randomBytes(777)]);
  fs.writeFileSync(path.join(root, 'workspace', 'blob.bin'), binary);
  fs.writeFileSync(path.join(root, 'workspace', 'deep', 'deeper', 'deepest', 'note.md'), '# nested\n');
  fs.writeFileSync(path.join(root, 'workspace', 'deep', LONG_NAME), 'long name\n');
  fs.writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'workspace') + '/'), NON_UTF8]), 'bytes name\n');
  fs.chmodSync(path.join(root, 'openclaw.json'), 0o600);
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'escape'));
  fs.symlinkSync('../outside', path.join(root, 'escape-dir'));
  fs.symlinkSync('workspace/deep/deeper/deepest/note.md', path.join(root, 'inside-link'));
  fs.symlinkSync(LONG_TARGET, path.join(root, 'long-link'));
  execFileSync('mkfifo', [path.join(root, 'a-fifo')]);
  return { root, outside, binary };
}

interface Entry { type: 'file' | 'dir' | 'link'; mode: number; content?: string; target?: string }

/** Every entry under `dir` (names as hex of their bytes, so non-UTF-8 names compare exactly), never following links. */
function snapshot(dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (full: Buffer, rel: string) => {
    for (const name of fs.readdirSync(full, { encoding: 'buffer' })) {
      const child = Buffer.concat([full, Buffer.from('/'), name]);
      const childRel = `${rel}/${name.toString('hex')}`;
      const stat = fs.lstatSync(child);
      const mode = stat.mode % 0o10000;
      if (stat.isSymbolicLink()) {
        out.set(childRel, { type: 'link', mode: 0, target: fs.readlinkSync(child, { encoding: 'buffer' }).toString('hex') });
      } else if (stat.isDirectory()) {
        out.set(childRel, { type: 'dir', mode });
        visit(child, childRel);
      } else if (stat.isFile()) {
        out.set(childRel, { type: 'file', mode, content: createHash('sha256').update(fs.readFileSync(child)).digest('hex') });
      }
    }
  };
  visit(Buffer.from(dir), '');
  return out;
}

describe('the streaming tar writer', () => {
  test('the system tar extracts exactly the tree: nested directories, a 200-character name, a non-UTF-8 name, links, an empty and a binary file', async () => {
    const { root } = writeTree();
    const tar = createTar(root, { chunkSize: 4096 });
    const archive = await collect(tar.stream);
    fs.writeFileSync(path.join(tmp, 'a.tar'), archive);
    const out = path.join(tmp, 'out');
    fs.mkdirSync(out);
    // GNU tar warns that it does not know pax's `hdrcharset` (it keeps the name's bytes as they are, as wanted).
    execFileSync('tar', ['-x', '-f', path.join(tmp, 'a.tar'), '-C', out], { stdio: 'pipe' });

    const expected = snapshot(root);
    expected.delete(`/${Buffer.from('a-fifo').toString('hex')}`); // FIFOs are skipped
    const extracted = snapshot(path.join(out, 'openclaw-acme'));
    expect(extracted).toEqual(expected);
    expect(fs.readFileSync(path.join(out, 'openclaw-acme', 'workspace', 'deep', LONG_NAME), 'utf8')).toBe('long name\n');
    expect(fs.readlinkSync(path.join(out, 'openclaw-acme', 'long-link'))).toBe(LONG_TARGET);
    expect((await tar.summary).skipped).toEqual(['a-fifo']);
  });

  test('a symbolic link pointing outside the root is stored as a link: the outside file never enters the archive', async () => {
    const { root, outside } = writeTree();
    const archive = await collect(createTar(root).stream);
    expect(archive.includes(Buffer.from('OUTSIDE-SECRET-CONTENT'))).toBe(false);
    fs.writeFileSync(path.join(tmp, 'a.tar'), archive);
    const listing = execFileSync('tar', ['-tvf', path.join(tmp, 'a.tar')], { encoding: 'utf8', stdio: 'pipe' });
    expect(listing).toMatch(new RegExp(`^l.* openclaw-acme/escape -> ${path.join(outside, 'secret.txt')}$`, 'm'));
    expect(listing).toMatch(/^l.* openclaw-acme\/escape-dir -> \.\.\/outside$/m);
    expect(listing).not.toMatch(/openclaw-acme\/escape-dir\/secret\.txt/);
  });

  test('the SHA-256, the size and the counts describe exactly the bytes handed out', async () => {
    const { root, binary } = writeTree();
    const tar = createTar(root);
    const archive = await collect(tar.stream);
    const summary = await tar.summary;
    expect(summary.sha256).toBe(createHash('sha256').update(archive).digest('hex'));
    expect(summary.bytes).toBe(archive.length);
    expect(archive.length % TAR_BLOCK).toBe(0);
    // openclaw.json, empty-file, blob.bin, note.md, the long name, the non-UTF-8 name
    expect(summary.files).toBe(6);
    // the root, workspace, deep, deeper, deepest, empty-dir
    expect(summary.directories).toBe(6);
    expect(summary.symlinks).toBe(4);
    expect(summary.contentBytes).toBe(18 + 0 + binary.length + 9 + 10 + 11);
    expect(summary.rootMissing).toBe(false);
  });

  test('the same tree gives the same archive twice (entries in byte order)', async () => {
    const { root } = writeTree();
    const first = await collect(createTar(root).stream);
    const second = await collect(createTar(root).stream);
    expect(first.equals(second)).toBe(true);
  });

  test('a missing root is an empty archive when allowed, and an error otherwise', async () => {
    const tar = createTar(path.join(tmp, 'never-written'), { base: 'openclaw-x', missingRootIsEmpty: true });
    const archive = await collect(tar.stream);
    expect(archive.equals(Buffer.alloc(1024))).toBe(true);
    expect(await tar.summary).toMatchObject({ rootMissing: true, files: 0, directories: 0, bytes: 1024 });
    fs.writeFileSync(path.join(tmp, 'empty.tar'), archive);
    expect(execFileSync('tar', ['-tf', path.join(tmp, 'empty.tar')], { encoding: 'utf8' })).toBe('');

    await expect(collect(createTar(path.join(tmp, 'never-written')).stream)).rejects.toThrow(/ENOENT/);
  });

  test('a root that is a symbolic link is refused, not followed', async () => {
    const { root } = writeTree();
    fs.symlinkSync(root, path.join(tmp, 'link-to-root'));
    const tar = createTar(path.join(tmp, 'link-to-root'));
    await expect(collect(tar.stream)).rejects.toThrow(TarError);
    await expect(tar.summary).rejects.toThrow('is not a directory (symbolic links are not followed)');
  });

  test('a directory swapped for a link to the outside during the walk is refused, and nothing outside is read', async () => {
    const root = path.join(tmp, 'root');
    fs.mkdirSync(path.join(root, 'b', 'c'), { recursive: true });
    fs.writeFileSync(path.join(root, 'b', 'big'), randomBytes(4 * 1024 * 1024));
    fs.mkdirSync(path.join(tmp, 'outside', 'c'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'outside', 'c', 'secret'), 'OUTSIDE-SECRET-CONTENT');
    const tar = createTar(root, { chunkSize: 64 * 1024 });
    const seen: Buffer[] = [];
    let swapped = false;
    const read = (async () => {
      for await (const chunk of tar.stream) {
        seen.push(chunk);
        if (!swapped && Buffer.concat(seen).length > 512 * 1024) {
          // The walk is inside b/big; b/c comes next. Make b a link to the outside.
          fs.renameSync(path.join(root, 'b'), path.join(root, 'b-moved'));
          fs.symlinkSync(path.join(tmp, 'outside'), path.join(root, 'b'));
          swapped = true;
        }
      }
    })();
    await expect(read).rejects.toThrow('b/c resolves outside the archive root; refusing to follow it');
    expect(swapped).toBe(true);
    expect(Buffer.concat(seen).includes(Buffer.from('OUTSIDE-SECRET-CONTENT'))).toBe(false);
  });

  test('a file that grows while it is archived fails the archive instead of storing a torn copy', async () => {
    const root = path.join(tmp, 'root');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'log'), randomBytes(4 * 1024 * 1024));
    const tar = createTar(root, { chunkSize: 64 * 1024 });
    let length = 0;
    let appended = false;
    const read = (async () => {
      for await (const chunk of tar.stream) {
        length += chunk.length;
        if (!appended && length > 512 * 1024) {
          fs.appendFileSync(path.join(root, 'log'), 'more');
          appended = true;
        }
      }
    })();
    await expect(read).rejects.toThrow('log changed while it was archived');
  });

  test('destroying the stream stops the walk and rejects the summary', async () => {
    const { root } = writeTree();
    const tar = createTar(root, { chunkSize: 1024 });
    for await (const chunk of tar.stream) { expect(chunk.length).toBeGreaterThan(0); break; }
    await expect(tar.summary).rejects.toThrow(/closed before its end|aborted/);
  });

  test('a header holds its fields in ustar layout with a checksum the system tar accepts', async () => {
    const block = ustarBlock({ name: Buffer.from('x/y.txt'), mode: 0o640, uid: 1000, gid: 1000, size: 3, mtime: 1_700_000_000, type: '0' });
    expect(block.length).toBe(TAR_BLOCK);
    expect(block.subarray(257, 265).toString('latin1')).toBe('ustar\u000000');
    expect(block.subarray(124, 136).toString('latin1')).toBe('00000000003\u0000');
    const archive = Buffer.concat([block, Buffer.from('abc'), Buffer.alloc(TAR_BLOCK - 3), Buffer.alloc(1024)]);
    fs.writeFileSync(path.join(tmp, 'one.tar'), archive);
    expect(execFileSync('tar', ['-tvf', path.join(tmp, 'one.tar'), '--numeric-owner'], { encoding: 'utf8' })).toMatch(/^-rw-r----- 1000\/1000\s+3 2023-11-1\d \d\d:\d\d x\/y\.txt\n$/);
  });

  test('sizes of 8 GiB and more, and ids beyond ustar\'s fields, go into a pax header the system tar reads', () => {
    const size = 9_000_000_000;
    const blocks = Buffer.concat([...header(Buffer.from('big.bin'), { mode: 0o100644, uid: 3_000_000, gid: 1000, mtimeMs: 1_700_000_000_000 }, '0', size)]);
    expect(blocks.length).toBe(3 * TAR_BLOCK); // pax header, pax records, ustar header
    expect(blocks.subarray(156, 157).toString()).toBe('x');
    fs.writeFileSync(path.join(tmp, 'big.tar'), blocks);
    // The data is not there: tar lists the entry, then reports the archive's unexpected end.
    let listing = '';
    try {
      listing = execFileSync('tar', ['-tvf', path.join(tmp, 'big.tar'), '--numeric-owner'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      listing = (error as { stdout: string }).stdout;
    }
    expect(listing).toMatch(/^-rw-r--r-- 3000000\/1000\s+9000000000 .* big\.bin$/m);
  });

  test('base names that could escape the extraction directory are refused', () => {
    for (const base of ['../up', '/abs', 'a/../b', '', 'a//b']) expect(() => createTar(tmp, { base })).toThrow(TarError);
  });
});
