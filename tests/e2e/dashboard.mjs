// End-to-end scenarios of the web dashboard in headless Chromium (Debian's /usr/bin/chromium),
// driven by playwright-core. Started by tests/interop/test_dashboard.py, which runs the gateway
// and its peers:  node dashboard.mjs <scenario>
// Environment: DASH_URL (the admin listener), DASH_AUTH (JSON {token} or {username, password}),
// DASH_PARAMS (JSON, per scenario), DASH_SHOTS (screenshot directory), CHROMIUM (executable).
// Every wait is on a condition (Playwright's auto-waiting expectations), never a fixed sleep.
// Exit 0 when the scenario held, 1 with the reason (and a failure screenshot) otherwise.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const scenario = process.argv[2];
const url = process.env.DASH_URL;
const auth = JSON.parse(process.env.DASH_AUTH || "{}");
const params = JSON.parse(process.env.DASH_PARAMS || "{}");
const shots = process.env.DASH_SHOTS || "artifacts";
const TIMEOUT = 20000;
mkdirSync(shots, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function shot(page, name) {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

// Wait until fn() (run in the test) returns a truthy value.
async function until(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out (${timeout} ms) waiting for ${what}; last: ${last}`);
    await new Promise((r) => setImmediate(r));
  }
}

async function login(page, how = auth) {
  await page.goto(url);
  await page.locator("#login-form").waitFor();
  if (how.token) {
    await page.locator("#login-token").fill(how.token);
  } else {
    await page.locator("#auth-kind-basic").check();
    await page.locator("#login-user").fill(how.username);
    await page.locator("#login-pass").fill(how.password);
  }
  await page.locator("#login-submit").click();
  await page.locator("#nav").waitFor({ state: "visible", timeout: TIMEOUT });
}

const stateCell = (page, table, name) => page.locator(`${table} tr[data-key="${name}"] td`).nth(table === "#status-table" ? 2 : 4);

async function waitText(locator, text, what) {
  await until(async () => (await locator.textContent())?.includes(text), what);
}

async function peers(page) {
  // A wrong token is refused on the login page.
  await page.goto(url);
  await shot(page, "login");
  await page.locator("#login-token").fill("certainly-not-the-token");
  await page.locator("#login-submit").click();
  await waitText(page.locator("#login-error"), "401", "the login error");
  check(await page.locator("#nav").isHidden(), "no navigation before logging in");

  await login(page);
  // Status: totals and a row per configured bind, live.
  await waitText(page.locator("#total-listener"), `127.0.0.1:${params.smpp_port}`, "the listener's address");
  await waitText(page.locator("#total-max-connections"), String(params.max_connections), "max_connections");
  await waitText(stateCell(page, "#status-table", "partner"), "Waiting", "partner waiting");
  await page.locator('#status-table tr[data-key="carrier"]').getByRole("button", { name: "Reconnect carrier" }).waitFor();
  const live = await page.locator("#live").textContent();
  check(live === "live", `the stream is live (${live})`);
  await shot(page, "status");

  // Add a client peer through the form, pointing at the SMSC simulator: Connected.
  await page.getByRole("link", { name: "Client peers" }).click();
  await page.locator("#client-add").click();
  await page.locator("#client-form").getByLabel("name *").fill(params.peer);
  await page.locator("#client-form").getByLabel("host *").fill("127.0.0.1");
  await page.locator("#client-form").getByLabel("port", { exact: true }).fill(String(params.smsc_port));
  await page.locator("#client-form").getByLabel("system_id *").fill(params.smsc_system_id);
  await page.locator("#client-form").getByLabel("password *").fill(params.smsc_password);
  await page.locator("#client-form").getByLabel("reconnect_interval").fill("1");
  await page.locator("#client-form").getByLabel("cache_enabled").check();
  await page.locator("#client-save").click();
  await page.locator("#client-form").waitFor({ state: "hidden" });
  const row = page.locator(`#client-table tr[data-key="${params.peer}"]`);
  await row.waitFor();
  await waitText(stateCell(page, "#client-table", params.peer), "Connected", `${params.peer} Connected on the peers page`);
  await shot(page, "client-peers");
  await page.getByRole("link", { name: "Status" }).click();
  await waitText(stateCell(page, "#status-table", params.peer), "Connected", `${params.peer} Connected on the status page`);

  // Disable it: Disconnected.
  await page.getByRole("link", { name: "Client peers" }).click();
  await row.getByRole("button", { name: `Disable ${params.peer}` }).click();
  await waitText(stateCell(page, "#client-table", params.peer), "Disconnected", `${params.peer} Disconnected`);
  await row.getByRole("button", { name: `Enable ${params.peer}` }).waitFor();
  await page.getByRole("link", { name: "Status" }).click();
  await waitText(stateCell(page, "#status-table", params.peer), "Disconnected", `${params.peer} Disconnected on the status page`);

  // An invalid CIDR: the error beside the field, nothing added.
  await page.getByRole("link", { name: "Server peers" }).click();
  await page.locator("#server-add").click();
  await page.locator("#server-form").getByLabel("name *").fill("badcidr");
  await page.locator("#server-form").getByLabel("system_id *").fill("badcidr");
  await page.locator("#server-form").getByLabel("password *").fill("pw");
  await page.locator("#server-form").getByLabel("ip_whitelist").fill("10.0.0.0/8\n10.1.2.0/33");
  await page.locator("#server-save").click();
  const err = page.locator("#server-e-ip_whitelist");
  await until(async () => ((await err.textContent()) || "").length > 0, "the error beside ip_whitelist");
  const errText = await err.textContent();
  check(/10\.1\.2\.0\/33|CIDR|address/i.test(errText), `the error names the bad entry: ${errText}`);
  check((await page.locator("#server-f-ip_whitelist").getAttribute("aria-invalid")) === "true", "ip_whitelist marked invalid");
  check(await page.locator('#server-table tr[data-key="badcidr"]').count() === 0, "badcidr not added");
  console.log(`ip_whitelist error shown: ${errText}`);
  await shot(page, "server-peers-invalid-cidr");

  // Logs: the addition is in the live tail; search, pause, clear.
  await page.getByRole("link", { name: "Logs" }).click();
  await page.getByLabel("Level at least").selectOption("debug");
  await page.getByLabel("Search").fill(params.peer);
  await until(async () => (await page.locator("#logs-list .rec").count()) > 0, "a log record naming the new peer");
  const texts = await page.locator("#logs-list .rec").allTextContents();
  check(texts.every((t) => t.includes(params.peer)), "the search shows matching records only");
  await page.getByRole("button", { name: "Pause" }).click();
  await waitText(page.locator("#logs-count"), "paused", "the paused tail");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByLabel("Search").fill("");
  await shot(page, "logs");
  await page.getByRole("button", { name: "Clear" }).click();
  await until(async () => (await page.locator("#logs-list .rec").count()) === 0, "a cleared tail");

  // Charts: one per bind.
  await page.getByRole("link", { name: "Charts" }).click();
  await page.locator('.chart[data-bind="carrier"] canvas').waitFor();
  await page.locator(`.chart[data-bind="${params.peer}"] canvas`).waitFor();
  await shot(page, "charts");

  // Phone width: nothing wider than the screen but the scrolling tables.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("link", { name: "Status" }).click();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no horizontal overflow at phone width (${overflow}px)`);
  await shot(page, "status-phone");
  await page.getByRole("link", { name: "Client peers" }).click();
  await page.locator("#client-add").click();
  const overflowForm = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflowForm <= 1, `the form fits at phone width (${overflowForm}px)`);
  await shot(page, "client-form-phone");
  // Every form control has an accessible name.
  const unlabelled = await page.evaluate(() => Array.from(document.querySelectorAll("input, select, textarea, button"))
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim() && !e.closest("label"))
    .map((e) => e.id || e.outerHTML.slice(0, 60)));
  check(unlabelled.length === 0, `unlabelled controls: ${unlabelled}`);
}

async function cache(page) {
  await login(page);
  await page.getByRole("link", { name: "Message cache" }).click();
  const row = page.locator(`#cache-failed tr[data-key="${params.bind}/${params.id}"]`);
  await row.waitFor({ timeout: TIMEOUT });
  await waitText(page.locator("#cache-failed-permanent .value"), "1", "1 failed permanent");
  const cells = await row.locator("td").allTextContents();
  check(cells[5] === String(params.retry_count), `retry count ${cells[5]}`);
  check(cells[6].includes("core unreachable"), `last error: ${cells[6]}`);
  await page.locator(`#cache-binds tr[data-key="${params.bind}"] [role="meter"]`).waitFor();
  await shot(page, "cache-failed");
  await row.getByRole("button", { name: `Retry ${params.id}` }).click();
  await row.waitFor({ state: "detached", timeout: TIMEOUT });
  await waitText(page.locator("#cache-total .value"), "0", "the cache empty: delivered");
  await waitText(page.locator("#cache-message"), "No entry failed", "no failed entry left");
  await shot(page, "cache-after-retry");
}

// Over HTTPS ([admin] tls_cert_file): the page, its API calls and the live stream all work
// on the TLS port. The test's certificate is self-signed, hence ignoreHTTPSErrors below.
async function https(page) {
  check(url.startsWith("https://"), `DASH_URL is https (${url})`);
  await login(page);
  check((await page.evaluate(() => location.protocol)) === "https:", "the page came over https");
  await waitText(page.locator("#total-listener"), `127.0.0.1:${params.smpp_port}`, "the listener's address over https");
  await waitText(stateCell(page, "#status-table", "partner"), "Waiting", "partner waiting over https");
  await until(async () => (await page.locator("#live").textContent()) === "live", "the live stream over https");
  await shot(page, "status-https");
}

const SCENARIOS = { peers, cache, https };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // As root in a container Chromium needs --no-sandbox.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, ignoreHTTPSErrors: url.startsWith("https://") });
page.setDefaultTimeout(TIMEOUT);
page.on("dialog", (d) => { console.log(`confirm: ${d.message()}`); d.accept(); });
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`console ${m.type()}: ${m.text()}`); });
let rc = 0;
try {
  if (!SCENARIOS[scenario]) throw new Error(`no scenario ${scenario}: ${Object.keys(SCENARIOS)}`);
  await SCENARIOS[scenario](page);
  check(pageErrors.length === 0, `no script error in the page: ${pageErrors}`);
  console.log(`scenario ${scenario}: ok`);
} catch (e) {
  console.error(`scenario ${scenario} FAILED: ${e.stack || e}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors}`);
  try { await shot(page, `FAILED-${scenario}`); } catch (_) { /* no page */ }
  rc = 1;
} finally {
  await browser.close();
}
process.exit(rc);
