/**
 * Token verification for the WebSocket upgrade (PROTOCOL.md §2): a JWT whose
 * `sub` is the user's UUID, signed with an HS256 secret or with an RS256/ES256
 * key given as a PEM public key or a JWKS file. The key is loaded once, when the
 * verifier is built, so a bad key stops the node at start-up instead of failing
 * every connection.
 *
 * Verification is synchronous (fast-jwt over node:crypto) on purpose: the
 * gateway can then answer the upgrade inside uWebSockets.js's own upgrade
 * callback. Completing an upgrade later, corked from outside a callback, can
 * close the fresh socket right after `open` in the uWebSockets.js build we run
 * (the HTTP response state is read from memory the WebSocket has taken over);
 * about 5 connects in 100 failed that way while the node was warming up.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createDecoder, createVerifier, TokenError } from 'fast-jwt';
import { isUuid } from '@whispr/protocol';
import { SERVICE_PRINCIPAL_ID } from '@whispr/actors';

export interface VerifiedToken {
  userId: string;
  /** When the token expires, in ms since the epoch; null when it has no `exp`. */
  exp: number | null;
}

/** Returns the token's user, or throws an AuthError. */
export type TokenVerifier = (token: string) => VerifiedToken;

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


/** The claims this service reads; fast-jwt has checked exp and nbf (numbers, in range) already. */
interface Claims {
  sub?: unknown;
  exp?: unknown;
}

/** Checks a token's signature and standard claims (exp, nbf) with the node's key, returning its claims. */
type VerifySignature = (token: string) => Claims;

type AsymmetricAlgorithm = 'RS256' | 'ES256';

/** Verified tokens remembered (until their exp): a reconnect storm presents the same tokens again. */
const CACHE_SIZE = 10_000;

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
    verifySignature = verifierFor(secret, 'HS256');
  } else if (publicKeyFile !== undefined) {
    if (typeof publicKeyFile !== 'string' || publicKeyFile === '') {
      throw new TypeError('createTokenVerifier: options.publicKeyFile must be a file path');
    }
    verifySignature = await publicKeyFromFile(publicKeyFile);
  } else {
    throw new TypeError('createTokenVerifier: options.secret or options.publicKeyFile is required');
  }

  return (token: string): VerifiedToken => {
    if (typeof token !== 'string' || token === '') throw new AuthError('missing');
    let claims: Claims;
    try {
      claims = verifySignature(token);
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw new AuthError(failureOf(err), { cause: err });
    }
    const sub = claims.sub;
    // Ids travel as lowercase hyphenated UUIDs (PROTOCOL.md §2); any other spelling would make two ids for one user.
    // The service's placeholder id is never a user (actors/shard-contract.ts SERVICE_PRINCIPAL_ID).
    if (!isUuid(sub) || sub === SERVICE_PRINCIPAL_ID) throw new AuthError('bad subject');
    return { userId: sub, exp: typeof claims.exp === 'number' ? claims.exp * 1000 : null };
  };
}

function verifierFor(key: string, algorithm: 'HS256' | AsymmetricAlgorithm): VerifySignature {
  const verify = createVerifier({ key, algorithms: [algorithm], cache: CACHE_SIZE });
  return (token) => verify(token) as Claims;
}

/** Maps fast-jwt's error codes onto the short reasons; anything unknown is reported as malformed, with the original as cause. */
function failureOf(err: unknown): AuthFailure {
  if (!(err instanceof TokenError)) return 'malformed';
  switch (err.code) {
    case TokenError.codes.expired:
      return 'expired';
    case TokenError.codes.inactive:
      return 'not yet valid';
    // A wrong or missing signature, or another algorithm than the node's key (HS256
    // against an RSA key, alg none): either way the signature cannot be trusted.
    case TokenError.codes.invalidSignature:
    case TokenError.codes.missingSignature:
    case TokenError.codes.invalidAlgorithm:
      return 'bad signature';
    default:
      return 'malformed';
  }
}

async function publicKeyFromFile(path: string): Promise<VerifySignature> {
  const text = await readFile(path, 'utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return jwksKey(path, trimmed);
  if (trimmed.includes('-----BEGIN PUBLIC KEY-----')) return pemKey(path, trimmed);
  throw new Error(
    `createTokenVerifier: options.publicKeyFile ${path} is neither a PEM public key (BEGIN PUBLIC KEY) nor a JWKS file ({"keys": [...]})`,
  );
}

interface Jwk extends JsonWebKey {
  kid?: string;
  alg?: string;
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
  const keys = ('keys' in parsed ? (parsed as { keys: unknown }).keys : [parsed]) as Jwk[];
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new Error(`createTokenVerifier: options.publicKeyFile ${path} has no keys`);
  }
  const entries = keys.map((jwk) => {
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') {
      throw new Error(`createTokenVerifier: options.publicKeyFile ${path} holds a ${String(jwk.kty)} key; expected RSA or EC (P-256) public keys`);
    }
    if ('d' in jwk) {
      throw new Error(`createTokenVerifier: options.publicKeyFile ${path} holds a private key; give the node the public half only`);
    }
    const alg: AsymmetricAlgorithm = jwk.kty === 'RSA' ? 'RS256' : 'ES256';
    if (jwk.kty === 'EC' && jwk.crv !== 'P-256') {
      throw new Error(`createTokenVerifier: options.publicKeyFile ${path} holds an EC key on ${String(jwk.crv)}; expected P-256 (ES256)`);
    }
    let pem: string;
    try {
      pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    } catch (err) {
      throw new Error(`createTokenVerifier: options.publicKeyFile ${path} holds a key node:crypto cannot read${jwk.kid ? ` (kid ${jwk.kid})` : ''}`, { cause: err });
    }
    return { kid: jwk.kid, alg, verify: verifierFor(pem, alg) };
  });
  const decodeHeader = createDecoder({ complete: true });
  return (token) => {
    const header = (decodeHeader(token) as { header: { kid?: unknown; alg?: unknown } }).header;
    // The key named by kid; without a kid, the one key of the token's algorithm.
    const candidates = typeof header.kid === 'string' ? entries.filter((e) => e.kid === header.kid) : entries.filter((e) => e.alg === header.alg);
    const entry = candidates.length === 1 ? candidates[0] : undefined;
    if (!entry) throw new AuthError('bad signature');
    return entry.verify(token);
  };
}

function pemKey(path: string, pem: string): VerifySignature {
  let alg: AsymmetricAlgorithm;
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
  return verifierFor(pem, alg);
}
