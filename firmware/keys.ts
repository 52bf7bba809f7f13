// Ed25519 signing keys for firmware images, as PEM files (node:crypto).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileError } from '../common/errors.js';
import { readInputText } from '../common/input-file.js';

export function generateKeys(dir: string): { privatePath: string; publicPath: string } {
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = join(dir, 'private.pem');
  const publicPath = join(dir, 'public.pem');
  // 'wx': never overwrite an existing key — losing a signing key strands every box that trusts it.
  try {
    writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FileError(privatePath, 'a key already exists here; refusing to overwrite it', 'EXISTS');
    throw e;
  }
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePath, publicPath };
}

export function loadPrivateKey(file: string): KeyObject {
  const key = loadKey(file, createPrivateKey, 'private');
  if (key.asymmetricKeyType !== 'ed25519') throw new FileError(file, `is a ${key.asymmetricKeyType} key, expected an Ed25519 private key`, 'BAD_KEY');
  return key;
}

export function loadPublicKey(file: string): KeyObject {
  const key = loadKey(file, createPublicKey, 'public');
  if (key.asymmetricKeyType !== 'ed25519') throw new FileError(file, `is a ${key.asymmetricKeyType} key, expected an Ed25519 public key`, 'BAD_KEY');
  return key;
}

function loadKey(file: string, create: (pem: string) => KeyObject, kind: string): KeyObject {
  const pem = readInputText(file, `${kind} key`);
  try {
    return create(pem);
  } catch (e) {
    throw new FileError(file, `not a PEM ${kind} key: ${(e as Error).message}`, 'BAD_KEY');
  }
}
