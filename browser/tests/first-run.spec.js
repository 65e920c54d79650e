// A new admin sets up a working helpdesk entirely in the browser: a fresh server prints its
// one-time setup link; the admin names the business, connects a WhatsApp line, adds an agent and
// a team, a custom field and a macro; a customer writes on the URL the page showed, and the
// ticket is answered with the macro. Runs its own server on an empty database.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { freePort } = require('../ports');
const os = require('node:os');
const path = require('node:path');
const { test, expect } = require('@playwright/test');
const { state, screenshot } = require('./helpers');

const root = path.resolve(__dirname, '..', '..');
const bin = process.env.SWITCHBOARD_BIN || path.join(root, 'target', 'debug', 'switchboard');

/** Starts `switchboard serve` on an empty SQLite database; resolves with the setup link it prints. */
async function freshServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-first-run-'));
  const port = await freePort();
  const env = {
    ...process.env,
    SWITCHBOARD_DATABASE_URL: `sqlite://${path.join(dir, 'switchboard.db')}`,
    SWITCHBOARD_DATA_DIR: path.join(dir, 'data'),
    SWITCHBOARD_LOG: 'warn',
  };
  const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--api-base-url', state.fakeUrl],
    { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const link = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no setup link printed:\n${out}`)), 20_000);
    server.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const found = out.match(/http:\/\/\S+\/setup\?key=[0-9a-f]+/);
      if (found) {
        clearTimeout(timer);
        resolve(found[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return { server, link, base: `http://127.0.0.1:${port}` };
}

function sign(secret, body) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

test('a new admin sets up lines, an agent, a team, a field and a macro from the browser, and answers a customer', async ({ page, browser }) => {
  test.setTimeout(60_000);
  const { server, link, base } = await freshServer();
  try {
    // No admin yet: the sign-in page says where to go.
    await page.goto(base + '/');
    await expect(page.locator('#first-run')).toContainText('no admin yet');

    await page.goto(link);
    await page.getByLabel('Business name (optional)').fill('Toko Sinar');
    await page.getByLabel('Your name').fill('Sari Owner');
    await page.getByLabel('Your e-mail').fill('sari@example.com');
    await page.getByLabel('Password (at least 8 characters)').fill('sari password 1');
    await page.getByLabel('Password again').fill('sari password 1');
    await screenshot(page, 'setup');
    await page.getByRole('button', { name: 'Create the admin account' }).click();
    await expect(page.getByRole('heading', { name: 'Channels' })).toBeVisible();

    // A WhatsApp line, with what to paste on Meta's side.
    await page.getByLabel('Channel', { exact: true }).selectOption('whatsapp');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Name (what agents see)').fill('Toko WhatsApp');
    await page.getByLabel('Phone number ID').fill('15557770000');
    await page.getByLabel('App secret').fill('toko-app-secret');
    await page.getByLabel('Access token').fill('toko-access');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByRole('heading', { name: /Toko WhatsApp.*connected/ })).toBeVisible();
    const webhookUrl = await page.locator('#webhook-url').textContent();
    await screenshot(page, 'admin-line-connected');

    // An agent, and a team with both of them.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Agents' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Budi Agent');
    await page.getByLabel('E-mail (they sign in with it)').fill('budi@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('agent');
    await page.getByLabel(/First password/).fill('budi password 1');
    await page.getByRole('button', { name: 'Add agent' }).click();
    await expect(page.locator('tr[data-email="budi@example.com"]')).toContainText('Budi Agent');
    await page.goto(base + '/admin/teams');
    await page.locator('#team-form').getByLabel('Name').fill('Orders');
    await page.locator('#team-form').getByLabel('Budi Agent').check();
    await page.getByRole('button', { name: 'Create team' }).click();
    await expect(page.getByRole('button', { name: 'Save Orders' })).toBeVisible();

    // A custom field and a macro.
    await page.goto(base + '/admin/fields');
    await page.getByLabel('Label').fill('Order number');
    await page.getByLabel(/^Key/).fill('order_no');
    await page.getByLabel('Kind').selectOption('text');
    await page.getByRole('button', { name: 'Add field' }).click();
    await expect(page.locator('#fields')).toContainText('Order number');
    await page.goto(base + '/admin/macros');
    await page.getByLabel('Name', { exact: true }).fill('Thanks');
    await page.getByLabel(/^Reply/).fill('Thank you {{first_name}}, we are on it!');
    await page.getByLabel('Status').selectOption('pending');
    await page.getByRole('button', { name: 'Save macro' }).click();
    await expect(page.locator('#macros')).toContainText('Thanks');

    // A customer writes on the URL the page showed.
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'waba-toko', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15557770000', phone_number_id: '15557770000' },
        contacts: [{ profile: { name: 'Rina Customer' }, wa_id: '6281234567' }],
        messages: [{ from: '6281234567', id: `wamid.${crypto.randomUUID()}`,
          timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'Is order 88 ready?' } }],
      } }] }],
    });
    const res = await fetch(webhookUrl, { method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign('toko-app-secret', body) } });
    expect(res.status).toBe(200);

    // The agent signs in, finds it, sets the field and answers with the macro.
    const context = await browser.newContext();
    const agent = await context.newPage();
    await agent.goto(base + '/');
    await agent.getByLabel('E-mail').fill('budi@example.com');
    await agent.getByLabel('Password').fill('budi password 1');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.goto(base + '/search?q=' + encodeURIComponent('order 88'));
    await agent.getByRole('link', { name: /Is order 88 ready/ }).first().click();
    await agent.locator('#custom-fields-form').getByLabel('Order number').fill('88');
    await agent.getByRole('button', { name: 'Save fields' }).click();
    await expect(agent.locator('#custom-fields-form').getByLabel('Order number')).toHaveValue('88');
    await agent.getByLabel('Or answer with a macro').selectOption({ label: 'Thanks' });
    await agent.getByRole('button', { name: 'Apply macro' }).click();
    await expect(agent.locator('.message.outbound').last()).toContainText('Thank you Rina, we are on it!');
    await expect(agent.locator('#prop-status')).toHaveValue('pending');
    // And the field is searchable.
    await agent.goto(base + '/search?q=' + encodeURIComponent('field.order_no:88'));
    await expect(agent.getByRole('link', { name: /Is order 88 ready/ })).toBeVisible();
    await context.close();
  } finally {
    server.kill('SIGTERM');
  }
});
