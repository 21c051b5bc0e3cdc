/**
 * Throwaway certificates for `tls://` servers on this machine: a self-signed one for
 * localhost, made at start, which a client trusts by being given it (`ca`). Node's crypto makes
 * keys but cannot sign an X.509 certificate, so the `selfsigned` package (pure JavaScript, no
 * openssl needed) builds it.
 */

import { createHash, X509Certificate } from "node:crypto";
import { invalidArgValue } from "@socket-lab/core/internal";

/** How {@link selfSignedCertificate} makes a certificate. */
export interface SelfSignedOptions {
  /**
   * Names and addresses the certificate is for (its subjectAltName); the first is also its
   * common name.
   * @default ["localhost", "127.0.0.1", "::1"]
   */
  hosts?: readonly string[];
  /** Start of validity. @default now, less one minute (clocks differ a little) */
  notBefore?: Date;
  /** End of validity. @default 30 days after notBefore */
  notAfter?: Date;
  /** Make a CA certificate, one that can sign others, rather than a server's. @default false */
  ca?: boolean;
  /** Sign with this CA (its key and certificate, PEM) instead of the certificate's own key. @default undefined (self-signed) */
  issuer?: { key: string; cert: string };
}

/** A certificate, its key, and the digests a client can pin it by. */
export interface SelfSignedCertificate {
  /** The private key, PEM (PKCS#8). */
  readonly key: string;
  /** The certificate, PEM. */
  readonly cert: string;
  /** SHA-256 of the certificate, as `openssl x509 -fingerprint -sha256` prints it: `AB:12:…`. */
  readonly fingerprint256: string;
  /** Base64 SHA-256 of the public key (SPKI), as HPKP and Chromium's `--ignore-certificate-errors-spki-list` take it. */
  readonly spki256: string;
}

/** The hosts a certificate is for unless told otherwise: this machine's loopback names. */
export const LOCALHOST_NAMES: readonly string[] = Object.freeze(["localhost", "127.0.0.1", "::1"]);

const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;
const CLOCK_SKEW_MS = 60_000;

/**
 * Makes a certificate (ECDSA P-256, SHA-256) for `hosts`, self-signed unless `issuer` is given.
 * For tests and demos on loopback: nobody else trusts it, which is the point.
 * @throws {TypeError} for an empty `hosts`.
 * @example
 * const { key, cert, fingerprint256 } = await selfSignedCertificate();
 * const server = await listen("tls://127.0.0.1:0", { tls: { key, cert } });
 * const connection = await connect(server.endpoint, { tls: { ca: cert } }); // it names 127.0.0.1 too
 * fingerprint256.length //=> 95
 * await connection.close();
 * await server.close();
 */
export async function selfSignedCertificate(
  options: SelfSignedOptions = {},
): Promise<SelfSignedCertificate> {
  const hosts = options.hosts ?? LOCALHOST_NAMES;
  const [first] = hosts;
  if (first === undefined) throw invalidArgValue("hosts", hosts, "must name at least one host");
  const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + DEFAULT_DAYS * DAY_MS);
  const altNames = hosts.map((host) =>
    /^[\d.]+$/.test(host) || host.includes(":")
      ? { type: 7 as const, ip: host }
      : { type: 2 as const, value: host },
  );
  // Loaded on first use: it and its X.509 libraries take a good part of a second to load,
  // which every program importing this package would otherwise pay at start.
  const { generate } = await loadSelfsigned();
  const pems = await generate([{ name: "commonName", value: first }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: options.ca
      ? [
          { name: "basicConstraints", cA: true, critical: true },
          { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true },
        ]
      : [
          { name: "basicConstraints", cA: false },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
          { name: "extKeyUsage", serverAuth: true },
          { name: "subjectAltName", altNames },
        ],
    ...(options.issuer === undefined ? {} : { ca: options.issuer }),
  });
  const x509 = new X509Certificate(pems.cert);
  const spki = x509.publicKey.export({ type: "spki", format: "der" });
  return {
    key: pems.private,
    cert: pems.cert,
    fingerprint256: x509.fingerprint256,
    spki256: createHash("sha256").update(spki).digest("base64"),
  };
}

/**
 * The `selfsigned` package: an optional peer dependency, since only this function needs it.
 * @throws {Error} `ERR_MODULE_NOT_FOUND`, saying how to install it, when it is not installed
 */
async function loadSelfsigned(): Promise<typeof import("selfsigned")> {
  try {
    return await import("selfsigned");
  } catch (cause) {
    throw Object.assign(
      new Error(
        "selfSignedCertificate() needs the optional package 'selfsigned': npm install selfsigned (or pass a key and certificate of your own)",
        { cause },
      ),
      { code: "ERR_MODULE_NOT_FOUND" },
    );
  }
}
