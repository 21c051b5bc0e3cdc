/**
 * A real browser: Debian's chromium, driven by playwright-core, opens the page over HTTP and
 * over HTTPS. For HTTPS it trusts exactly the certificate the server made — pinned by the
 * SHA-256 of its public key — and nothing else.
 */

import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { start, stopAll, WAIT_MS } from "./_spawn.js";

const CHROMIUM = "/usr/bin/chromium";

afterEach(stopAll);

/** base64 SHA-256 of a certificate's public key, as --ignore-certificate-errors-spki-list takes it. */
function spkiHash(pem: string): string {
  const der = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

describe("web-hello-server in a real browser (chromium)", () => {
  const dir = mkdtempSync(join(tmpdir(), "web-hello-browser-"));
  let browser: Browser | undefined;

  beforeAll(() => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)`);
    }
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "opens the page over HTTP and over HTTPS with the generated certificate trusted",
    async () => {
      const pem = join(dir, "cert.pem");
      const server = start("server-cli", ["--port", "0", "--https-port", "0", "--save-cert", pem]);
      const http = (await server.line(/^listening on http:/)).replace("listening on ", "");
      const https = (await server.line(/^listening on https:/)).replace("listening on ", "");
      await server.line(/^certificate: /);

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        timeout: WAIT_MS,
        args: [
          "--no-sandbox",
          // Trust this one certificate (by its public key) and no other untrusted one.
          `--ignore-certificate-errors-spki-list=${spkiHash(readFileSync(pem, "utf8"))}`,
        ],
      });
      const page = await browser.newPage();

      await page.goto(`${http}/`, { timeout: WAIT_MS });
      expect(await page.title()).toBe("Hello from web-hello");
      expect(await page.textContent("body")).toContain("over a stream socket: TCP.");
      expect(await page.textContent("#fd")).toMatch(
        /^\d+ \(the socket accept\(\) returned for you\)$/,
      );
      expect(await page.textContent("#client")).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await page.textContent("#request")).toMatch(
        /^GET \/ HTTP\/1\.1\nhost: 127\.0\.0\.1:\d+\n/,
      );

      // Reloading goes over the same kept-alive connection: the count goes up.
      await page.reload({ timeout: WAIT_MS });
      expect(Number(await page.textContent("#requests"))).toBeGreaterThanOrEqual(2);

      // localhost is a name the certificate carries; the pin makes chromium trust it.
      const secure = https.replace("127.0.0.1", "localhost");
      const response = await page.goto(`${secure}/`, { timeout: WAIT_MS });
      expect(response?.status()).toBe(200);
      expect(await page.textContent("body")).toMatch(
        /over a stream socket: TLS \(TLSv1\.3, TLS_[A-Z0-9_]+\) over TCP\./,
      );
      const details = await response?.securityDetails();
      expect(details?.protocol).toBe("TLS 1.3");
      expect(details?.subjectName).toBe("localhost");
    },
    4 * WAIT_MS,
  );

  test(
    "without the pin, chromium refuses the self-signed certificate",
    async () => {
      const server = start("server-cli", ["--port", "0", "--https-port", "0"]);
      const https = (await server.line(/^listening on https:/)).replace("listening on ", "");
      const strict = await chromium.launch({
        executablePath: CHROMIUM,
        timeout: WAIT_MS,
        args: ["--no-sandbox"],
      });
      try {
        const page = await strict.newPage();
        await expect(page.goto(`${https}/`, { timeout: WAIT_MS })).rejects.toThrow(
          /ERR_CERT_AUTHORITY_INVALID/,
        );
        // The server hears the refusal as a failed handshake and goes on serving.
        expect(await server.line(/^web-hello-server: /)).toMatch(/certificate|reset/);
      } finally {
        await strict.close();
      }
    },
    4 * WAIT_MS,
  );
});
