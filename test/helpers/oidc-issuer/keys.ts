import { constants, createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { generateKeyPair } from 'jose';

/** A key pair the fake issuer (or an attacker) signs with, plus the names GitHub would give it. */
export interface SigningKey {
  kid: string;
  x5t: string;
  /** The algorithm the key was generated for; a token may still be signed under another. */
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: KeyObject;
  /** PEM (SPKI) of the public key: the HMAC secret of the RS256→HS256 confusion attack. */
  publicPem: string;
  /** The public key as the JWKS publishes it. */
  publicJwk: Record<string, unknown>;
}

/** `base64url` encodes a string (as UTF-8) or exact bytes, without padding. */
export function base64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** `createSigningKey` generates a key pair for `alg`; RSA keys get `modulusLength` bits. */
export async function createSigningKey(alg: SigningKey['alg'], modulusLength = 2048): Promise<SigningKey> {
  // jose refuses to generate RSA keys under 2048 bits, but the weak-key case (B-98) needs one.
  const { privateKey, publicKey } =
    alg === 'RS256' && modulusLength < 2048
      ? generateKeyPairSync('rsa', { modulusLength })
      : await generateKeyPair(alg, alg === 'RS256' ? { modulusLength } : {}).then((pair) => ({
          privateKey: KeyObject.from(pair.privateKey),
          publicKey: KeyObject.from(pair.publicKey),
        }));
  // GitHub's kid is the hex SHA-1 thumbprint of its signing certificate and x5t the same bytes in
  // base64url. We have no certificate, so we hash the public key's SPKI: same shapes, stable per key.
  const thumbprint = createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
  const kid = thumbprint.toString('hex').toUpperCase();
  const x5t = thumbprint.toString('base64url');
  return {
    kid,
    x5t,
    alg,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    // GitHub also publishes x5c; without a certificate we leave it out (jose ignores it anyway).
    publicJwk: { ...publicKey.export({ format: 'jwk' }), alg, use: 'sig', kid, x5t },
  };
}

const SIGNABLE_ALG = /^(?:(RS|PS|ES)(256|384|512)|EdDSA|Ed25519)$/;

/**
 * `signJws` signs `input` with `key` under `alg`, whatever alg the key was made for: the corpus
 * needs one RSA key under RS256, PS256 and RS512. node:crypto rather than jose because jose's
 * signers take a header object (no verbatim bytes) and refuse keys under 2048 bits.
 */
export function signJws(input: string, key: KeyObject, alg: string): Buffer {
  const match = SIGNABLE_ALG.exec(alg);
  if (!match) {
    throw new Error(`signJws: cannot sign "${alg}"; pass the real signing alg in opts.alg, or use hs256WithPublicKey`);
  }
  const [, family, bits] = match;
  const data = Buffer.from(input);
  if (!family || !bits) return sign(null, data, key);
  const hash = `sha${bits}`;
  if (family === 'PS') {
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 });
  }
  // JWS wants ECDSA signatures as raw r||s, not Node's default DER.
  if (family === 'ES') return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  return sign(hash, data, key);
}
