/**
 * Token verification for the WebSocket upgrade (PROTOCOL.md §2): a JWT whose
 * `sub` is the user's UUID, signed with an HS256 secret or with an RS256/ES256
 * key given as a PEM public key or a JWKS file. The key is loaded and imported
 * once, when the verifier is built, so a bad key stops the node at start-up
 * instead of failing every connection.
 */
import { createPublicKey, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, importSPKI, jwtVerify, type JSONWebKeySet, type JWSAlgorithm, type JWTPayload } from 'jose';

export interface VerifiedToken {
  userId: string;
  /** When the token expires, in ms since the epoch; null when it has no `exp`. */
  exp: number | null;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

export interface TokenVerifierOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** Path to an RS256/ES256 public key: a PEM (SPKI, `BEGIN PUBLIC KEY`) or a JWKS (`{"keys": [...]}`) file. */
  publicKeyFile?: string;
}

/** Why a token was refused; short, safe to log and to put in a 401 body. */
export type AuthFailure = 'missing' | 'malformed' | 'bad signature' | 'expired' | 'not yet valid' | 'bad subject';

export class AuthError extends Error {
  readonly reason: AuthFailure;

  constructor(reason: AuthFailure, options?: ErrorOptions) {
    super(`token ${reason}`, options);
    this.name = 'AuthError';
    this.reason = reason;
  }
}

/** Ids travel as lowercase hyphenated UUIDs (PROTOCOL.md §2); any other spelling would make two ids for one user. */
const USER_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks a token's signature and standard claims (exp, nbf) with the node's key, returning its claims. */
type VerifySignature = (token: string) => Promise<JWTPayload>;

export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const { secret, publicKeyFile } = options;
  if (secret !== undefined && publicKeyFile !== undefined) {
    throw new TypeError('createTokenVerifier: give options.secret or options.publicKeyFile, not both');
  }
  let verifySignature: VerifySignature;
  if (secret !== undefined) {
    if (typeof secret !== 'string' || secret === '') {
      throw new TypeError('createTokenVerifier: options.secret must be a non-empty string');
    }
    verifySignature = await secretKey(secret);
  } else if (publicKeyFile !== undefined) {
    if (typeof publicKeyFile !== 'string' || publicKeyFile === '') {
      throw new TypeError('createTokenVerifier: options.publicKeyFile must be a file path');
    }
    verifySignature = await publicKeyFromFile(publicKeyFile);
  } else {
    throw new TypeError('createTokenVerifier: options.secret or options.publicKeyFile is required');
  }

  return async (token: string): Promise<VerifiedToken> => {
    if (typeof token !== 'string' || token === '') throw new AuthError('missing');
    let payload: JWTPayload;
    try {
      payload = await verifySignature(token);
    } catch (err) {
      throw new AuthError(failureOf(err), { cause: err });
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !USER_ID_RE.test(sub)) throw new AuthError('bad subject');
    // jose has already checked that exp, when present, is a number in the future.
    return { userId: sub, exp: typeof payload.exp === 'number' ? payload.exp * 1000 : null };
  };
}

/** Maps jose's errors onto the short reasons; anything unknown is reported as malformed, with the original as cause. */
function failureOf(err: unknown): AuthFailure {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) return err.claim === 'nbf' && err.reason === 'check_failed' ? 'not yet valid' : 'malformed';
  if (
    err instanceof errors.JWSSignatureVerificationFailed ||
    // Signed with another algorithm than the node's key (e.g. HS256 against an RSA key)
    // or with a key the JWKS does not hold: either way the signature cannot be trusted.
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return 'bad signature';
  }
  return 'malformed';
}

async function secretKey(secret: string): Promise<VerifySignature> {
  // Imported once: handing jose the raw bytes would re-import the key on every verification.
  const key = await webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  return async (token) => (await jwtVerify(token, key, { algorithms: ['HS256'] })).payload;
}

const ASYMMETRIC_ALGORITHMS: JWSAlgorithm[] = ['RS256', 'ES256'];

async function publicKeyFromFile(path: string): Promise<VerifySignature> {
  const text = await readFile(path, 'utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return jwksKey(path, trimmed);
  if (trimmed.includes('-----BEGIN PUBLIC KEY-----')) return pemKey(path, trimmed);
  throw new Error(
    `createTokenVerifier: options.publicKeyFile ${path} is neither a PEM public key (BEGIN PUBLIC KEY) nor a JWKS file ({"keys": [...]})`,
  );
}

function jwksKey(path: string, json: string): VerifySignature {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`createTokenVerifier: options.publicKeyFile ${path} is not valid JSON`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object') {
    throw new Error(`createTokenVerifier: options.publicKeyFile ${path} must hold a JSON object`);
  }
  // A file holding one bare JWK is accepted as a set of one: it is what key tools often write.
  const jwks = ('keys' in parsed ? parsed : { keys: [parsed] }) as JSONWebKeySet;
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new Error(`createTokenVerifier: options.publicKeyFile ${path} has no keys`);
  }
  for (const jwk of jwks.keys) {
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') {
      throw new Error(`createTokenVerifier: options.publicKeyFile ${path} holds a ${String(jwk.kty)} key; expected RSA or EC (P-256) public keys`);
    }
    if ('d' in jwk) {
      throw new Error(`createTokenVerifier: options.publicKeyFile ${path} holds a private key; give the node the public half only`);
    }
  }
  const keySet = createLocalJWKSet(jwks);
  return async (token) => (await jwtVerify(token, keySet, { algorithms: ASYMMETRIC_ALGORITHMS })).payload;
}

async function pemKey(path: string, pem: string): Promise<VerifySignature> {
  let alg: JWSAlgorithm;
  try {
    const details = createPublicKey(pem);
    if (details.asymmetricKeyType === 'rsa') alg = 'RS256';
    else if (details.asymmetricKeyType === 'ec' && details.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
    else {
      const curve = details.asymmetricKeyDetails?.namedCurve;
      throw new Error(`holds a ${details.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''} key; expected RSA (RS256) or EC P-256 (ES256)`);
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`createTokenVerifier: options.publicKeyFile ${path}: ${reason}`, { cause: err });
  }
  const key = await importSPKI(pem, alg);
  return async (token) => (await jwtVerify(token, key, { algorithms: [alg] })).payload;
}
