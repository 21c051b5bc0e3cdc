/**
 * The rules of the README's "Vocabulary" section that a program can check, over the source of
 * every package and app in the workspace.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Every `.ts` file under `<group>/<name>/src` of the workspace, with its text. */
function sources(group: "packages" | "apps"): Array<{ path: string; text: string }> {
  const files: Array<{ path: string; text: string }> = [];
  for (const name of readdirSync(join(ROOT, group))) {
    const src = join(ROOT, group, name, "src");
    let entries: string[];
    try {
      entries = readdirSync(src, { recursive: true }) as string[];
    } catch {
      continue; // no src/
    }
    for (const entry of entries) {
      if (!entry.endsWith(".ts")) continue;
      const path = join(src, entry);
      files.push({ path: relative(ROOT, path), text: readFileSync(path, "utf8") });
    }
  }
  return files;
}

const PACKAGES = sources("packages");
const APPS = sources("apps");

/** `export const NAME` declarations matching `pattern`, as `path: NAME`. */
function exportedConstants(files: typeof PACKAGES, pattern: RegExp): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const { path, text } of files) {
    for (const match of text.matchAll(/^export const ([A-Z][A-Z0-9_]*)\b/gm)) {
      const name = match[1] as string;
      if (pattern.test(name)) found.push([path, name]);
    }
  }
  return found;
}

/** The name of the interface (or type) a line at `index` of `text` sits in, if any. */
function enclosingInterface(text: string, index: number): string | undefined {
  const before = text.slice(0, index);
  const opened = [...before.matchAll(/^export interface (\w+)|^interface (\w+)/gm)].at(-1);
  return opened?.[1] ?? opened?.[2];
}

describe("the vocabulary", () => {
  test("the sources were found", () => {
    expect(PACKAGES.length).toBeGreaterThan(50);
    expect(APPS.length).toBeGreaterThan(50);
  });

  test("a DEFAULT_* constant is defined once in the whole workspace", () => {
    const all = exportedConstants([...PACKAGES, ...APPS], /^DEFAULT_/);
    const places = new Map<string, string[]>();
    for (const [path, name] of all) places.set(name, [...(places.get(name) ?? []), path]);
    const twice = [...places].filter(([, paths]) => paths.length > 1);
    expect(twice).toEqual([]);
  });

  test("apps name their own defaults for the app, never DEFAULT_*", () => {
    const inApps = [];
    for (const { path, text } of APPS) {
      for (const match of text.matchAll(/^(?:export )?const (DEFAULT_[A-Z0-9_]*)\b/gm)) {
        inApps.push(`${path}: ${match[1]}`);
      }
    }
    expect(inApps).toEqual([]);
  });

  test("a bare timeoutMs option bounds one call: close() or receive()", () => {
    const bare: string[] = [];
    for (const { path, text } of PACKAGES) {
      for (const match of text.matchAll(/^\s+(?:readonly )?timeoutMs\?: number;/gm)) {
        const where = enclosingInterface(text, match.index);
        if (where !== "CloseOptions" && where !== "ReceiveOptions") bare.push(`${path}: ${where}`);
      }
    }
    expect(bare).toEqual([]);
  });

  test("stats is a property everywhere, never a stats() method", () => {
    const methods = [...PACKAGES, ...APPS]
      .filter(({ text }) => /^\s+stats\(\)\s*[:;]|\.stats\(\)/m.test(text))
      .map(({ path }) => path);
    expect(methods).toEqual([]);
  });

  test("a payload size option says its unit: maxPayloadBytes, not maxPayload", () => {
    const unnamed = PACKAGES.filter(({ text }) =>
      /^\s+(?:readonly )?\w*Payload\??: number;/m.test(text),
    ).map(({ path }) => path);
    expect(unnamed).toEqual([]);
  });

  test("backoff is one shape: core's BackoffOptions, never a number", () => {
    const numbers = PACKAGES.filter(({ text }) => /^\s+backoff\??: number;/m.test(text)).map(
      ({ path }) => path,
    );
    expect(numbers).toEqual([]);
    const shapes = PACKAGES.filter(({ text }) => /^\s+backoff\??: BackoffOptions;/m.test(text)).map(
      ({ path }) => path,
    );
    expect(shapes.sort()).toEqual(["packages/tcp/src/client.ts", "packages/udp/src/requester.ts"]);
  });
});
