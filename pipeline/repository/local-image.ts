// The image to publish, as found in the --from folder: the four export files
// (the signature optional) and the package manifest when the build made one.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, UserError } from '../errors.js';
import { parseSignature } from '../artifacts/signify.js';
import { imageFileNames, type ImageFileNames } from './names.js';

export interface LocalFile {
  name: string;
  path: string;
  size: number;
}

export interface LocalImage {
  pot: string;
  tag: string;
  names: ImageFileNames;
  xz: LocalFile;
  meta: LocalFile & { bytes: Buffer };
  skein: LocalFile & { bytes: Buffer; hex: string };
  sig?: LocalFile & { bytes: Buffer; keyFingerprint: string };
  packages?: LocalFile & { bytes: Buffer };
}

async function fileSize(path: string): Promise<number | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UserError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

export async function readLocalImage(from: string, pot: string, tag: string): Promise<LocalImage> {
  const names = imageFileNames(pot, tag);
  const found = async (name: string): Promise<LocalFile | null> => {
    const path = join(from, name);
    const size = await fileSize(path);
    return size === null ? null : { name, path, size };
  };
  const [xz, meta, skein, sig, packages] = await Promise.all([
    found(names.xz), found(names.meta), found(names.skein), found(names.sig), found(names.packages),
  ]);
  const missing = [[xz, names.xz], [meta, names.meta], [skein, names.skein]].filter(([f]) => !f).map(([, n]) => n);
  if (missing.length > 0) {
    throw new InputError(`${from} lacks ${missing.join(', ')}; export the image (pot export, or npm run build-image) into that folder, then publish`);
  }
  const skeinBytes = await readFile(skein!.path);
  if (!/^[0-9a-f]{256}\n$/.test(skeinBytes.toString('latin1'))) {
    throw new UserError(`${skein!.path} is not a Skein-1024 digest line (256 lowercase hex digits and a newline); export the image again`);
  }
  const image: LocalImage = {
    pot, tag, names,
    xz: xz!,
    meta: { ...meta!, bytes: await readFile(meta!.path) },
    skein: { ...skein!, bytes: skeinBytes, hex: skeinBytes.toString('latin1', 0, 256) },
  };
  if (sig) {
    const bytes = await readFile(sig.path);
    image.sig = { ...sig, bytes, keyFingerprint: Buffer.from(parseSignature(bytes.toString('utf8'), sig.path).keynum).toString('hex') };
  }
  if (packages) image.packages = { ...packages, bytes: await readFile(packages.path) };
  return image;
}
