// The monitor section of a firmware image: the monitor's static files as a
// plain POSIX tar (tar-stream), so integrators can inspect it with `tar tf`.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import tar from 'tar-stream';

/** Pack every regular file under `dir` (sorted, fixed mtime: the same tree gives the same bytes). */
export async function packDirectory(dir: string): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const file of existsSync(dir) ? walk(dir) : []) {
    const body = readFileSync(file);
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: relative(dir, file).split('\\').join('/'), size: body.length, mtime: new Date(0), mode: 0o644 }, body, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Names and sizes of the files in a packed bundle. */
export async function listBundle(bytes: Uint8Array): Promise<{ name: string; size: number }[]> {
  const extract = tar.extract();
  const out: { name: string; size: number }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      out.push({ name: header.name, size: header.size ?? 0 });
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(Buffer.from(bytes));
  await done;
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}
