// Administration in a real browser: connecting a line and receiving on the URL the page
// showed, an agent who is refused the admin pages and API, and a dead letter replayed.
const crypto = require('node:crypto');
const { test, expect } = require('@playwright/test');
const { state, api, newCustomer, signIn } = require('./helpers');

function sign(secret, body) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/** A WhatsApp delivery of one text message to the line with `phoneNumberId`. */
function whatsappBody(phoneNumberId, customer, text) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'waba-1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: phoneNumberId, phone_number_id: phoneNumberId },
      contacts: [{ profile: { name: customer.name }, wa_id: customer.id }],
      messages: [{ from: customer.id, id: `wamid.${crypto.randomUUID()}`, timestamp: String(Math.floor(Date.now() / 1000)),
        type: 'text', text: { body: text } }],
    } }] }],
  });
}

async function signedPost(url, secret, body) {
  return fetch(url, { method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(secret, body) } });
}

test('an admin connects a WhatsApp line and a signed webhook on the URL the page showed makes a ticket', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { name: 'Channels' })).toBeVisible();
  await page.getByLabel('Channel', { exact: true }).selectOption('whatsapp');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Connect WhatsApp' })).toBeVisible();
  await expect(page.getByText('Meta calls the URL once')).toBeVisible();

  const phoneNumberId = `1555${Date.now().toString().slice(-7)}`;
  await page.getByLabel('Name (what agents see)').fill('Sales WhatsApp');
  await page.getByLabel('Phone number ID').fill(phoneNumberId);
  await page.getByLabel('App secret').fill('sales-app-secret');
  await page.getByLabel('Access token').fill('sales-access');
  const verifyToken = await page.getByLabel('Verify token').inputValue();
  expect(verifyToken.length).toBeGreaterThan(10);
  await page.getByRole('button', { name: 'Connect' }).click();

  await expect(page.getByRole('heading', { name: /Sales WhatsApp.*connected/ })).toBeVisible();
  await expect(page.locator('#verify-token')).toHaveText(verifyToken);
  const webhookUrl = await page.locator('#webhook-url').textContent();
  expect(webhookUrl).toMatch(/\/webhooks\/whatsapp\//);

  // Meta's handshake with the verify token, then a customer's message.
  const challenge = await fetch(`${webhookUrl}?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=4242`);
  expect(await challenge.text()).toBe('4242');
  const customer = newCustomer('Wendy Webhook');
  const res = await signedPost(webhookUrl, 'sales-app-secret', whatsappBody(phoneNumberId, customer, 'Do you ship to Bali?'));
  expect(res.status).toBe(200);

  await page.goto(state.base + '/search?q=' + encodeURIComponent('Bali'));
  await page.getByRole('link', { name: /Do you ship to Bali/ }).first().click();
  await expect(page.locator('.message.inbound')).toContainText('Do you ship to Bali?');

  await page.goto(state.base + '/admin/channels');
  await page.getByRole('link', { name: 'Sales WhatsApp' }).click();
  await expect(page.locator('#last-webhook')).not.toHaveText('never');
});

test('a new agent signs in and is refused the admin pages and the admin API', async ({ page, browser }) => {
  await signIn(page);
  await page.goto(state.base + '/admin/agents');
  const email = `omar-${Date.now()}@example.com`;
  await page.getByLabel('Name', { exact: true }).fill('Omar Operator');
  await page.getByLabel('E-mail (they sign in with it)').fill(email);
  await page.getByLabel('Role', { exact: true }).selectOption('agent');
  await page.getByLabel(/First password/).fill('omar password 1');
  await page.getByRole('button', { name: 'Add agent' }).click();
  await expect(page.locator(`tr[data-email="${email}"]`)).toContainText('Omar Operator');

  const context = await browser.newContext();
  const agentPage = await context.newPage();
  await agentPage.goto(state.base + '/');
  await agentPage.getByLabel('E-mail').fill(email);
  await agentPage.getByLabel('Password').fill('omar password 1');
  await agentPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(agentPage.getByRole('heading', { name: 'Your social messaging tickets' })).toBeVisible();
  await expect(agentPage.getByRole('link', { name: 'Admin' })).toHaveCount(0);

  for (const p of ['/admin', '/admin/channels', '/admin/agents', '/admin/settings', '/admin/audit']) {
    const response = await agentPage.goto(state.base + p);
    expect(response.status(), p).toBe(403);
    await expect(agentPage.getByText('This needs the admin role.')).toBeVisible();
  }
  for (const p of ['/api/v1/settings', '/api/v1/tokens', '/api/v1/audit-log', '/api/v1/dead-letters']) {
    const response = await agentPage.request.get(state.base + p);
    expect(response.status(), p).toBe(403);
    expect((await response.json()).error.code).toBe('forbidden');
  }
  await context.close();

  await page.goto(state.base + '/admin/audit');
  await expect(page.locator('#audit')).toContainText('agent.created');
});

test('a delivery for a line not yet connected is kept, then replayed from the line page', async ({ page }) => {
  const lateId = `1666${Date.now().toString().slice(-7)}`;
  const customer = newCustomer('Dora Deadletter');
  // The app signs for a number that is not connected yet: kept as a dead letter.
  const res = await signedPost(`${state.base}/webhooks/whatsapp/${state.whatsapp.id}`, state.whatsapp.app_secret,
    whatsappBody(lateId, customer, 'Anyone there?'));
  expect(res.status).toBe(200);
  await api('POST', '/api/v1/channel-accounts', { kind: 'whatsapp', name: 'Late WhatsApp', external_id: lateId,
    secrets: { app_secret: state.whatsapp.app_secret, verify_token: 'late', access_token: 'late' } });

  await signIn(page);
  await page.goto(`${state.base}/admin/channels/${state.whatsapp.id}`);
  await expect(page.locator('#dead-letters-waiting')).not.toHaveText('0');
  const row = page.locator('#dead-letters tr', { hasText: lateId }).first();
  await row.getByRole('button', { name: 'Replay' }).click();
  await expect(page.getByRole('status')).toHaveText('The delivery was stored.');

  const { contacts } = await api('GET', `/api/v1/contacts?q=${encodeURIComponent(customer.name)}`);
  expect(contacts.length).toBe(1);
});

test('a custom field made on the admin page is set on a ticket and logged', async ({ page }) => {
  const customer = newCustomer('Fiona Fields');
  await signedPost(`${state.base}/webhooks/whatsapp/${state.whatsapp.id}`, state.whatsapp.app_secret,
    whatsappBody(state.whatsapp.external_id, customer, 'Where is order 4411?'));

  await signIn(page);
  await page.goto(state.base + '/admin/fields');
  const key = `plan_${Date.now()}`;
  await page.getByLabel('Label').fill('Customer plan');
  await page.getByLabel(/^Key/).fill(key);
  await page.getByLabel('Kind').selectOption('dropdown');
  await page.getByLabel(/Choices of a dropdown/).fill('gold\nsilver');
  await page.getByRole('button', { name: 'Add field' }).click();
  await expect(page.locator('#fields')).toContainText('Customer plan');

  const { contacts } = await api('GET', `/api/v1/contacts?q=${encodeURIComponent(customer.name)}`);
  const { tickets } = await api('GET', '/api/v1/tickets?limit=100');
  const ticket = tickets.find((t) => t.contact_id === contacts[0].id);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await page.locator('#custom-fields-form').getByLabel('Customer plan').selectOption('gold');
  await page.getByRole('button', { name: 'Save fields' }).click();
  await expect(page.locator('#custom-fields-form').getByLabel('Customer plan')).toHaveValue('gold');
  await expect(page.locator('#live-events')).toContainText(key);
  expect((await api('GET', `/api/v1/tickets/${ticket.id}`)).fields[key]).toBe('gold');
});

test('a macro made on the admin page is applied to a ticket from its page', async ({ page }) => {
  const customer = newCustomer('Maya Macro');
  await signedPost(`${state.base}/webhooks/whatsapp/${state.whatsapp.id}`, state.whatsapp.app_secret,
    whatsappBody(state.whatsapp.external_id, customer, 'Has my order shipped?'));

  await signIn(page);
  await page.goto(state.base + '/admin/macros');
  const name = `Shipped ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel(/^Reply/).fill('Hi {{first_name}}, it has shipped!');
  await page.getByLabel('Status').selectOption('pending');
  await page.getByLabel(/Add tags/).fill('shipping');
  await page.getByLabel('Assignee').selectOption('me');
  await page.getByRole('button', { name: 'Save macro' }).click();
  await expect(page.locator('#macros')).toContainText(name);

  const { contacts } = await api('GET', `/api/v1/contacts?q=${encodeURIComponent(customer.name)}`);
  const { tickets } = await api('GET', '/api/v1/tickets?limit=100');
  const ticket = tickets.find((t) => t.contact_id === contacts[0].id);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  // The reply box offers it, saying what it does before it is applied.
  const box = page.locator('#macro-form');
  await expect(box.locator('li', { hasText: name })).toContainText('it has shipped!');
  await expect(box.locator('li', { hasText: name })).toContainText('adds shipping; assigns you.');
  await page.getByLabel('Or answer with a macro').selectOption({ label: name });
  await page.getByRole('button', { name: 'Apply macro' }).click();
  await expect(page.locator('.message.outbound').last()).toContainText('Hi Maya, it has shipped!');
  await expect(page.locator('#prop-status')).toHaveValue('pending');
  await expect(page.locator('#prop-tags')).toHaveValue(/shipping/);
});

test('a WhatsApp template is registered on the templates page and previewed with values', async ({ page }) => {
  await signIn(page);
  await page.goto(state.base + '/admin/templates');
  const section = page.locator(`#line-${state.whatsapp.id}`);
  await expect(section).toContainText('order_update');
  await section.getByText('Register a template').click();
  const name = `pickup_${Date.now()}`;
  await section.getByLabel('Name (as approved)').fill(name);
  await section.getByLabel(/^Body/).fill('Hi {{1}}, pick up order {{2}} today.');
  await section.getByRole('button', { name: 'Save template' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');

  const row = page.locator(`#line-${state.whatsapp.id} tr`, { hasText: name });
  await row.getByLabel('Value 1').fill('Mira');
  await row.getByLabel('Value 2').fill('#4411');
  await row.getByRole('button', { name: 'Preview' }).click();
  await expect(page.locator(`#line-${state.whatsapp.id} tr`, { hasText: name }).locator('.preview'))
    .toContainText('Hi Mira, pick up order #4411 today.');
});

test('an admin makes a shared view with chosen columns, moves it up, and the inbox shows it so', async ({ page }) => {
  const stamp = Date.now();
  const tag = `columns_${stamp}`;
  const field = await api('POST', '/api/v1/fields',
    { key: `tier_${stamp}`, label: `Tier ${stamp}`, kind: 'text', options: [], required_on_solve: false });
  const customer = newCustomer('Colm Columns');
  await signedPost(`${state.base}/webhooks/whatsapp/${state.whatsapp.id}`, state.whatsapp.app_secret,
    whatsappBody(state.whatsapp.external_id, customer, 'Which columns do you see?'));
  const { contacts } = await api('GET', `/api/v1/contacts?q=${encodeURIComponent(customer.name)}`);
  const { tickets } = await api('GET', '/api/v1/tickets?limit=100');
  const ticket = tickets.find((t) => t.contact_id === contacts[0].id);
  await api('PATCH', `/api/v1/tickets/${ticket.id}`, { fields: { [field.key]: 'Platinum' }, tags: { add: [tag] } });
  const earlier = `Earlier ${stamp}`;
  await api('POST', '/api/v1/views', { name: earlier, query: `tags:${tag}`, shared: true });

  await signIn(page);
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Views' }).click();
  await expect(page.getByRole('heading', { name: 'Views' })).toBeVisible();
  await page.getByRole('link', { name: 'New shared view' }).click();

  const name = `Tiers ${stamp}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel(/Any of these tags/).fill(tag);
  for (const off of ['Number', 'Status', 'Channel', 'Updated']) {
    await page.getByLabel(off, { exact: true }).uncheck();
  }
  await page.getByLabel(`Tier ${stamp} (field)`, { exact: true }).check();
  await page.getByLabel(`Order of Tier ${stamp} (field)`).fill('1');
  await page.getByLabel('Order of Subject').fill('2');
  await page.getByLabel('Requester', { exact: true }).check();
  await page.getByLabel('Order of Requester').fill('3');
  await expect(page.getByLabel('Shared with every agent')).toBeChecked();
  await page.getByRole('button', { name: 'Save view' }).click();

  await expect(page).toHaveURL(/\/admin\/views$/);
  const rows = page.locator('#views tbody tr');
  await expect(rows.last()).toContainText(name);
  await expect(rows.last()).toContainText(`Tier ${stamp}, Subject, Requester`);
  await page.getByRole('button', { name: `Move ${name} up` }).click();
  await expect(page).toHaveURL(/\/admin\/views$/);
  const names = await page.locator('#views tbody tr td:first-child').allTextContents();
  expect(names.indexOf(name)).toBe(names.indexOf(earlier) - 1);

  await page.goto(state.base + '/inbox');
  const sidebar = await page.getByRole('navigation', { name: 'Views' }).locator('li').allTextContents();
  const at = (n) => sidebar.findIndex((text) => text.includes(n));
  expect(at(name)).toBeGreaterThanOrEqual(0);
  expect(at(name)).toBe(at(earlier) - 1);
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: new RegExp(name) }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await expect(page.locator('#view-table thead th')).toHaveText([`Tier ${stamp}`, 'Subject', 'Requester']);
  const row = page.locator('#view-table tbody tr').first();
  await expect(row.locator('td')).toHaveText(['Platinum', ticket.subject || '(no subject)', 'Colm Columns']);
});
