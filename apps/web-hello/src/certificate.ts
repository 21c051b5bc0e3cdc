/**
 * The HTTPS certificate: read from `--key`/`--cert` files, or made at start (self-signed for
 * localhost, 127.0.0.1 and ::1), which no browser trusts until told to.
 */

import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { UsageError } from "@socket-lab/cli";
import { LOCALHOST_NAMES, selfSignedCertificate } from "@socket-lab/tcp";
import type { Certificate } from "./options.js";

/** A certificate and what to tell the user about it. */
export interface LoadedCertificate extends Certificate {
  /** Where it came from: `self-signed for localhost, 127.0.0.1, ::1` or the file's path. */
  readonly origin: string;
  /** SHA-256 of the certificate, `AB:12:…`, to compare with what a browser shows. */
  readonly fingerprint256: string;
}

/**
 * The files' certificate, or a new self-signed one; saved as PEM to `saveTo` when given, so a
 * client can trust it (`curl --cacert FILE`).
 * @throws {UsageError} when only one of `keyFile`, `certFile` is given or a file cannot be read.
 */
export async function loadCertificate(
  keyFile: string | undefined,
  certFile: string | undefined,
  saveTo: string | undefined,
): Promise<LoadedCertificate> {
  let loaded: LoadedCertificate;
  if (keyFile === undefined && certFile === undefined) {
    const made = await selfSignedCertificate();
    loaded = { ...made, origin: `self-signed for ${LOCALHOST_NAMES.join(", ")}` };
  } else {
    if (keyFile === undefined || certFile === undefined) {
      throw new UsageError("--key and --cert go together: give both files, or neither");
    }
    const [key, cert] = await Promise.all([readPem("key", keyFile), readPem("cert", certFile)]);
    loaded = {
      key,
      cert,
      origin: certFile,
      fingerprint256: new X509Certificate(cert).fingerprint256,
    };
  }
  if (saveTo !== undefined) await writeFile(saveTo, loaded.cert);
  return loaded;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}
