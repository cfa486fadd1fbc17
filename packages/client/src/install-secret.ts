/**
 * This install's own JWT secret (DESIGN.md "Embedded default and real services"):
 * a node bound to a loopback address with no key configured verifies tokens with
 * a random secret it makes once and keeps in the data folder, so that a local try
 * needs no variable. The development tools (`npm run chat`, `npm run token`) read
 * the same file, so they sign with the node's key without being told it.
 *
 * A module of its own, outside the SDK's entry point: it reads the file system
 * and knows the checkout's layout, which an application using the SDK does not.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_SECRET } from './token.ts';

/** The checkout's data folder, <repo>/.data: the node keeps its embedded servers' data and this secret there. */
export const DEFAULT_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.data');
export const INSTALL_SECRET_FILE = 'jwt-secret';
/** 32 random bytes, base64url: 43 characters. Anything much shorter was not made here. */
const MIN_SECRET_LENGTH = 32;

export function installSecretPath(dataDir: string = DEFAULT_DATA_DIR): string {
  return join(dataDir, INSTALL_SECRET_FILE);
}

function errorCode(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** The install's secret, or null when none was made yet. Throws when the file exists but holds no usable secret. */
export function readInstallSecret(dataDir: string = DEFAULT_DATA_DIR): string | null {
  const path = installSecretPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw new Error(`cannot read this install's secret ${path}`, { cause: err });
  }
  const secret = text.trim();
  if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) {
    throw new Error(`${path} holds no usable secret (expected one line of at least ${MIN_SECRET_LENGTH} characters): remove it, and the next node start makes a new one`);
  }
  return secret;
}

export interface InstallSecret {
  secret: string;
  path: string;
  /** True when this call made it (the first start of this install). */
  created: boolean;
}

/** The install's secret, made (random, mode 0600) when there is none yet. */
export function ensureInstallSecret(dataDir: string = DEFAULT_DATA_DIR): InstallSecret {
  const path = installSecretPath(dataDir);
  const existing = readInstallSecret(dataDir);
  if (existing !== null) {
    // Whoever can read it can sign in as anyone: keep it the owner's only, as it was made.
    if ((statSync(path).mode & 0o077) !== 0) {
      try {
        chmodSync(path, 0o600);
      } catch (err) {
        throw new Error(`${path} can be read by other users and could not be made private (chmod 600 it)`, { cause: err });
      }
    }
    return { secret: existing, path, created: false };
  }

  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // Written whole under a name of its own, then linked into place: a node starting at
  // the same moment sees no file or the complete one, never a half-written one, and
  // link() fails rather than replace a secret another start made first.
  const scratch = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(scratch, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(scratch, path);
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw new Error(`cannot create this install's secret ${path}`, { cause: err });
    const winner = readInstallSecret(dataDir);
    if (winner === null) throw new Error(`${path} appeared and vanished while this node made it`, { cause: err });
    return { secret: winner, path, created: false };
  } finally {
    unlinkSync(scratch);
  }
  return { secret, path, created: true };
}

export interface SigningSecret {
  secret: string;
  /** Where it came from, for messages: `WHISPR_JWT_SECRET`, `WHISPR_DEV=1 (dev-secret)` or the file's path. */
  source: string;
}

function devFlag(env: NodeJS.ProcessEnv): boolean {
  const raw = env['WHISPR_DEV']?.trim();
  return raw === '1' || raw === 'true';
}

/**
 * The secret a development tool signs its tokens with, found as a node started in
 * the same environment picks its key: WHISPR_JWT_SECRET, else the dev secret under
 * WHISPR_DEV=1, else this install's secret. (A node with WHISPR_JWT_PUBLIC_KEY
 * verifies tokens whose private key only their issuer has; no tool here can mint those.)
 */
export function findSigningSecret(env: NodeJS.ProcessEnv = process.env, dataDir: string = DEFAULT_DATA_DIR): SigningSecret {
  const fromEnv = env['WHISPR_JWT_SECRET']?.trim();
  if (fromEnv) return { secret: fromEnv, source: 'WHISPR_JWT_SECRET' };
  if (devFlag(env)) return { secret: DEV_SECRET, source: `WHISPR_DEV=1 (${DEV_SECRET})` };
  const path = installSecretPath(dataDir);
  const installed = readInstallSecret(dataDir);
  if (installed !== null) return { secret: installed, source: path };
  throw new Error(
    `no secret to sign a token with: ${path} does not exist yet (a node started with no key on 127.0.0.1 makes it: \`npm start\`), ` +
      "WHISPR_JWT_SECRET is not set (set it to the node's secret), and WHISPR_DEV is not 1 (for a node started with WHISPR_DEV=1)",
  );
}
