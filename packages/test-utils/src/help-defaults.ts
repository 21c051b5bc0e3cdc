/**
 * What a program's `--help` shows as each flag's default, so that an app's test can check each
 * one against the constant the program applies (one default, written once).
 *
 * @example
 * helpDefaults("Options:\n  -p, --port N  port (default: 7000)\n  -h, --help    show this help")
 * //=> { port: "7000" }
 */
export function helpDefaults(help: string): Record<string, string> {
  const defaults: Record<string, string> = {};
  for (const line of help.split("\n")) {
    const flag = /^\s+(?:-\w, )?--([\w-]+)/.exec(line)?.[1];
    const at = line.lastIndexOf(" (default: ");
    if (flag === undefined || at < 0 || !line.endsWith(")")) continue;
    defaults[flag] = line.slice(at + " (default: ".length, -1);
  }
  return defaults;
}
