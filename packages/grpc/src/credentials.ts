/**
 * Transport security of the internal API: plaintext HTTP/2 (the bearer token
 * alone), or mutual TLS when a certificate, its key and the CA that signs the
 * callers' certificates are configured (WHISPR_GRPC_TLS_CERT/KEY/CA): a caller
 * without a certificate from that CA is refused during the handshake.
 */
import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';

export interface GrpcTlsFiles {
  /** PEM certificate chain of this server. */
  certFile: string;
  /** PEM private key of that certificate. */
  keyFile: string;
  /** PEM CA bundle the callers' client certificates must chain to. */
  caFile: string;
}

export function serverCredentials(tls: GrpcTlsFiles | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`the gRPC TLS ${what} ${JSON.stringify(path)} cannot be read`, { cause: err });
    }
  };
  return ServerCredentials.createSsl(
    read(tls.caFile, 'CA'),
    [{ cert_chain: read(tls.certFile, 'certificate'), private_key: read(tls.keyFile, 'key') }],
    // true: a client certificate is required, and checked against the CA.
    true,
  );
}
