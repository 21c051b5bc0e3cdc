import { describe, expect, it } from "vitest";
import {
  formatValue,
  itRunsJsdocExamples,
  jsdocExamples,
  rewriteExample,
} from "../src/jsdoc-examples.js";

// test-utils' own examples.
itRunsJsdocExamples(new URL("../src/", import.meta.url));

describe("jsdocExamples", () => {
  it("takes each @example of a doc comment, without the margin, up to the next tag", () => {
    const source = [
      "/**",
      " * Adds.",
      " * @example",
      " * add(1, 2) //=> 3",
      " *",
      " * @returns the sum",
      " */",
      "export const add = (a: number, b: number) => a + b;",
      "class C {",
      "  /**",
      "   * @example Fragment: `c` is yours",
      "   * c.m();",
      "   */",
      "  m() {}",
      "}",
      "// @example in a line comment is not one",
    ].join("\n");
    expect(jsdocExamples(source)).toEqual([
      { line: 3, caption: "", code: "add(1, 2) //=> 3", codeLine: 4, fragment: undefined },
      {
        line: 11,
        caption: "Fragment: `c` is yours",
        code: "c.m();",
        codeLine: 12,
        fragment: "`c` is yours",
      },
    ]);
  });
});

describe("rewriteExample", () => {
  it("checks the statement before each //=>, on its line or the lines above", () => {
    const { body, checks } = rewriteExample(
      ['f("a") //=> 1', "const x = g({", "  a: 1,", "});", "//=> { a: 1 }"].join("\n"),
    );
    expect(checks).toEqual([
      { line: 0, expected: "1" },
      { line: 4, expected: "{ a: 1 }" },
    ]);
    expect(body).toContain('__example.begin(); __example.check(0, "1", (f("a")));');
    expect(body).toContain('__example.check(4, "{ a: 1 }", x);');
  });

  it("joins the //=> lines after one statement into one output, keeping their indentation", () => {
    const { checks } = rewriteExample(
      ["for (const n of [1, 2]) console.log(n);", "//=> 1", "//=>   2"].join("\n"),
    );
    expect(checks).toEqual([{ line: 1, expected: "1\n  2" }]);
  });

  it("finds //=> after template literals and top-level await", () => {
    const { checks } = rewriteExample(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the example's source text
      ["await using s = await open();", '`${s.a} and ${s.b}` //=> "x and y"'].join("\n"),
    );
    expect(checks).toEqual([{ line: 1, expected: '"x and y"' }]);
  });

  it("wraps an expression whose //=> says throws", () => {
    const { body } = rewriteExample('parse("x") //=> throws TypeError: bad');
    expect(body).toContain(
      'await __example.checkThrows(0, "throws TypeError: bad", async () => (parse("x")));',
    );
  });

  it("hoists the example's imports and names what they bind", () => {
    const { imports, imported, body } = rewriteExample(
      ['import { once } from "node:events";', "await once(e, 'x');"].join("\n"),
    );
    expect(imports).toBe('import { once } from "node:events";');
    expect(imported).toEqual(["once"]);
    expect(body).not.toContain("import");
  });

  it("refuses a //=> that follows no statement, or that is not a comment", () => {
    expect(() => rewriteExample("//=> 1")).toThrow(/line 1 of the example follows no statement/);
    expect(() => rewriteExample('const s = "//=> 1";')).toThrow(/line 1 .* not a comment/);
  });
});

describe("formatValue", () => {
  it("writes values as the comments do", () => {
    expect(formatValue('a\u001b"')).toBe('"a\\u001b\\""');
    expect(formatValue({ text: "abc", n: 1, none: undefined, "a-b": [1, "x"] })).toBe(
      '{ text: "abc", n: 1, none: undefined, "a-b": [1, "x"] }',
    );
    expect(formatValue([Buffer.from("hi"), Buffer.alloc(0)])).toBe("[<Buffer 68 69>, <Buffer >]");
    expect(formatValue({})).toBe("{}");
    expect(
      formatValue(Object.assign(new RangeError("too big"), { code: "ERR_OUT_OF_RANGE" })),
    ).toBe("RangeError [ERR_OUT_OF_RANGE]: too big");
  });
});
