import { defineConfig, type Options } from "tsup";

/**
 * The tsup config of every app. The workspace packages (`@socket-lab/*`) are bundled in from
 * their TypeScript sources (the `@socket-lab/source` export condition), so an app's programs
 * run on their own: `cd apps/tcp-echo && pnpm build` needs no package built first.
 */
export function appConfig(
  entry: string[],
  extra: Pick<Options, "external" | "dts"> = {},
): Options | Options[] {
  return defineConfig({
    entry,
    ...extra,
    format: ["esm"],
    sourcemap: true,
    clean: true,
    target: "node20",
    removeNodeProtocol: false,
    noExternal: [/^@socket-lab\//],
    esbuildOptions(options) {
      options.conditions = ["@socket-lab/source"];
    },
  }) as Options | Options[];
}
