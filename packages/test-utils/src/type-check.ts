/**
 * The TypeScript compiler over a package, with the package's own tsconfig (strict): the
 * examples of its READMEs and doc comments are checked as its own code is, not only run
 * (Vite strips types without checking them).
 */

import { join } from "node:path";
import ts from "typescript";

/** Longest the type-check of one package's examples may take: seconds, more on a busy machine. */
export const TYPECHECK_MS = 120_000;

/** A type error in an example module: its 0-based line, and the message. */
export interface TypeProblem {
  readonly module: string;
  readonly line: number;
  readonly text: string;
}

/**
 * The package at `root` (the folder of its tsconfig.json) seen by the compiler: the type-only
 * exports of each of `sources` (values come from importing them), and a check of example
 * modules. One program of `sources`, made when first asked for, reused by the check.
 */
export function typeScriptOf(root: string, sources: readonly string[]) {
  let program: ts.Program | undefined;
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  const options: ts.CompilerOptions = {
    ...parsed?.options,
    noEmit: true,
    // The examples import the package's sources, as its tests do.
    allowImportingTsExtensions: true,
  };
  const sourceProgram = () => {
    program ??= ts.createProgram({ rootNames: sources, options });
    return program;
  };
  return {
    typesOf(path: string): string[] {
      const checker = sourceProgram().getTypeChecker();
      const file = sourceProgram().getSourceFile(path);
      const symbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
      if (symbol === undefined) return [];
      return checker.getExportsOfModule(symbol).flatMap((exported) => {
        const target =
          exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        return target.flags & ts.SymbolFlags.Value ? [] : [exported.name];
      });
    },
    check(modules: readonly string[]): TypeProblem[] {
      if (modules.length === 0) return [];
      const checked = ts.createProgram({
        rootNames: modules,
        options,
        oldProgram: sourceProgram(),
      });
      return modules.flatMap((module) => {
        const file = checked.getSourceFile(module);
        if (file === undefined) return [{ module, line: 0, text: "not found by the compiler" }];
        return [
          ...checked.getSyntacticDiagnostics(file),
          ...checked.getSemanticDiagnostics(file),
        ].map((diagnostic) => ({
          module,
          line: file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line,
          text: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`,
        }));
      });
    },
  };
}
