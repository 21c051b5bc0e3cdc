import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, test } from "vitest";
import { arrivalOrder } from "../src/arrival-order.js";
import { renderHtml } from "../src/html-report.js";
import { ROW_IDS } from "../src/settings.js";
import { FIXTURE } from "./_fixture.js";
import { runCli } from "./_helpers.js";

/** Debian's chromium; `.ci/run` installs it. */
const CHROMIUM = "/usr/bin/chromium";
/** Where the browser test leaves its screenshot (gitignored). */
const ARTIFACTS = fileURLToPath(new URL("../.artifacts/", import.meta.url));

const noBrowser = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed`;
if (noBrowser !== undefined) {
  if (process.env.CI !== undefined)
    throw new Error(`the HTML report test needs a browser in CI: ${noBrowser}`);
  console.warn(`skipping the browser test: ${noBrowser} (apt-get install chromium)`);
}

/** The elements of one kind in the SVG of `plot` and `row`. */
function count(html: string, plot: string, row: string, element: RegExp): number {
  const svg = new RegExp(`<svg [^>]*data-plot="${plot}" data-row="${row}"[\\s\\S]*?</svg>`).exec(
    html,
  );
  if (svg === null) throw new Error(`no ${plot} plot for ${row}`);
  return svg[0].match(element)?.length ?? 0;
}

describe("renderHtml", () => {
  const html = renderHtml(FIXTURE);

  test("is one self-contained page: no script, no link, no fetch of anything", () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|https?:/i);
    expect(html).not.toMatch(/\s(src|href)=/);
  });

  test("draws three plots per row, a dot per receipt and a tick per lost message", () => {
    expect(html.match(/<section class="row"/g)).toHaveLength(ROW_IDS.length);
    for (const id of ROW_IDS) {
      const row = FIXTURE[id];
      expect(count(html, "arrivals", id, /<circle /g)).toBe(row.arrivals.seq.length);
      const lost = arrivalOrder(row.arrivals, row.sent).fates.filter((f) => f === "lost").length;
      expect(count(html, "arrivals", id, /class="lost"/g)).toBe(lost);
      expect(count(html, "cdf", id, /<polyline /g)).toBe(1);
      expect(count(html, "timeline", id, /class="resend"/g)).toBe(row.resendsAtMs?.length ?? 0);
    }
    // The troubled fixture row: every 20th lost (50), every 90th twice (12), reordered pairs drawn as late dots.
    expect(count(html, "arrivals", "udp", /class="lost"/g)).toBe(50);
    expect(count(html, "arrivals", "udp", /class="repeat"/g)).toBe(12);
    expect(count(html, "arrivals", "udp", /class="late"/g)).toBeGreaterThan(0);
    expect(count(html, "arrivals", "tcp", /class="(late|repeat)"/g)).toBe(0);
  });

  test("escapes text and shows the table", () => {
    expect(html).toMatch(/UDP \+ retries +1,000 +1,000/);
    expect(html).not.toContain("<pre>\n");
  });
});

describe.skipIf(noBrowser !== undefined)("the page in a real browser (chromium)", () => {
  const dir = mkdtempSync(join(tmpdir(), "compare-html-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("renders every plot with the expected number of points, and fetches nothing", async () => {
    const file = join(dir, "report.html");
    const ran = await runCli(["--count", "300", "--json", "--html", file], 60_000);
    expect(ran.code, ran.stderr).toBe(0);
    const rows = JSON.parse(ran.stdout).rows as Record<
      string,
      { delivered: number; duplicated: number; retries: number | null }
    >;
    expect(statSync(file).size).toBeGreaterThan(10_000);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
      const requests: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(file).href);
      const plots = await page.$$eval("svg.plot", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const circles = [...svg.querySelectorAll("circle")];
          return {
            plot: svg.getAttribute("data-plot"),
            row: svg.getAttribute("data-row"),
            width: box.width,
            height: box.height,
            circles: circles.length,
            // Dots the browser laid out with a size, inside the plot.
            drawn: circles.filter((c) => {
              const b = c.getBoundingClientRect();
              return b.width > 0 && b.height > 0 && b.left >= box.left && b.right <= box.right;
            }).length,
            cdfPoints:
              svg.querySelector("polyline.cdf")?.getAttribute("points")?.split(" ").length ?? 0,
            resends: svg.querySelectorAll("line.resend").length,
          };
        }),
      );
      expect(plots).toHaveLength(3 * Object.keys(rows).length);
      for (const [id, row] of Object.entries(rows)) {
        const of = (kind: string) => plots.find((p) => p.plot === kind && p.row === id);
        const receipts = row.delivered + row.duplicated;
        expect(of("arrivals"), id).toMatchObject({ circles: receipts, drawn: receipts });
        expect(of("cdf"), id).toMatchObject({ cdfPoints: 101 });
        expect(of("timeline")?.resends, id).toBe(row.retries ?? 0);
      }
      for (const plot of plots) {
        expect(plot.width).toBeGreaterThan(100);
        expect(plot.height).toBeGreaterThan(100);
      }
      expect(requests).toEqual([pathToFileURL(file).href]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: true });
      expect(statSync(join(ARTIFACTS, "report.png")).size).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });
});
