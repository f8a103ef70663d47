import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Locator, Page, Request } from 'playwright-core';
import { expect } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { launchChromium, type Browser } from '../helpers/browser.js';
import { startListening, type ListeningServer } from '../helpers/listen.js';

/** Screenshots of every page, kept as test artefacts (git-ignored). */
export const ARTEFACTS = join(projectRoot(), '.artefacts', 'explorer');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Drives the explorer in one tab: waits for each page to finish drawing, checks it, photographs it. */
export class Driver {
  constructor(
    readonly page: Page,
    readonly origin: string,
  ) {
    mkdirSync(ARTEFACTS, { recursive: true });
  }

  /** The router marks <main data-ready="n"> when the n-th page is drawn. */
  private async readyCount(): Promise<string | null> {
    return this.page.locator('#maincontent').getAttribute('data-ready');
  }

  private async waitChanged(before: string | null): Promise<void> {
    await this.page.waitForFunction((b) => {
      const v = document.getElementById('maincontent')?.getAttribute('data-ready');
      return v !== null && v !== undefined && v !== b;
    }, before);
  }

  async open(path: string): Promise<void> {
    await this.page.goto(this.origin + path);
    await this.waitChanged(null);
  }

  /** Clicks something that navigates within the app, and waits for the new page. */
  async follow(target: Locator): Promise<void> {
    const before = await this.readyCount();
    await target.click();
    await this.waitChanged(before);
  }

  async press(key: string): Promise<void> {
    const before = await this.readyCount();
    await this.page.keyboard.press(key);
    await this.waitChanged(before);
  }

  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });
  }

  /** axe-core on the page as it is now: no serious or critical violation. */
  async axe(name: string): Promise<void> {
    // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
    await this.page.evaluate(axeSource);
    const violations = await this.page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad, `${name}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
  }

  /** Screenshot and accessibility check, the two every page gets. */
  async check(name: string): Promise<void> {
    await this.shot(name);
    await this.axe(name);
  }
}

/** A listening server with the demo data, checked to be this test's own, and Chromium on its explorer. */
export interface Explorer {
  server: ListeningServer;
  origin: string;
  browser: Browser;
  page: Page;
  ui: Driver;
  /** Every request the page made, and every error it threw. */
  requests: Request[];
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openExplorer(): Promise<Explorer> {
  const server = await startListening({ demoData: true });
  const origin = new URL(server.baseUrl).origin;
  await expectOwnServer(server);
  const browser = await launchChromium();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const requests: Request[] = [];
  const pageErrors: string[] = [];
  page.on('request', (r) => requests.push(r));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    server,
    origin,
    browser,
    page,
    ui: new Driver(page, origin),
    requests,
    pageErrors,
    close: async () => {
      await browser.close();
      await server.stop();
    },
  };
}

/**
 * The port was free when probed; make sure the server answering on it is this
 * test's: write a marker through the app in-process, then find it over HTTP.
 */
async function expectOwnServer(server: ListeningServer): Promise<void> {
  const marker = `explorer-${process.pid}-${Date.now()}`;
  const created = await server.app.inject({ method: 'POST', url: '/STU3/Basic', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify({ resourceType: 'Basic', code: { coding: [{ system: 'urn:ccri:test', code: marker }] } }) });
  expect(created.statusCode).toBe(201);
  const found = await (await fetch(`${server.baseUrl}/Basic?code=urn:ccri:test|${marker}`, { headers: { accept: 'application/fhir+json' } })).json();
  expect(found.total).toBe(1);
}
