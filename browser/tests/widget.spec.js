// The customer messenger (website widget) in a real browser: a shop's page, served here on
// another origin, embeds the widget with its one script tag; the panel is a cross-origin
// frame that only the line's configured origins may show (frame-ancestors).
const crypto = require('node:crypto');
const http = require('node:http');
const { test, expect } = require('@playwright/test');
const { state, api, signIn, screenshot } = require('./helpers');

const SITE_SECRET = 'shop-secret';
let shop;
let shopOrigin;

test.beforeAll(async () => {
  shop = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const line = url.searchParams.get('line') || '';
    if (!/^[0-9a-f-]{36}$/.test(line)) {
      res.writeHead(404).end();
      return;
    }
    // A signed-in user of the shop, vouched for as the shop's server would: an HMAC of the id.
    const user = (url.searchParams.get('user') || '').replace(/[^a-z0-9-]/g, '');
    const settings = user
      ? `<script>window.SwitchboardSettings = ${JSON.stringify({
        user_id: user, name: `Shopper ${user}`,
        user_hash: crypto.createHmac('sha256', SITE_SECRET).update(user).digest('hex'),
      })};</script>`
      : '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Acme Shop</title></head>
<body><h1>Acme Shop</h1><p>Socks, scarves and hats.</p>${settings}
<script src="${state.base}/widget/${line}/embed.js" async></script></body></html>`);
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  // "localhost" is another site than the server's 127.0.0.1: the panel is a third-party frame.
  shopOrigin = `http://localhost:${shop.address().port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => shop.close(resolve));
});

/** A widget line for the shop's origin. */
async function widgetLine(settings = {}) {
  const line = await api('POST', '/api/v1/channel-accounts', {
    kind: 'widget', name: 'Acme Shop', external_id: `shop-${Date.now()}-${Math.random()}`,
    secrets: { secret: SITE_SECRET }, settings: { allowed_origins: [shopOrigin], ...settings },
  });
  return line.id;
}

/** Opens the shop's page (as its signed-in `user`, if given) and the messenger; returns the panel's frame. */
async function openWidget(page, line, user) {
  await page.goto(`${shopOrigin}/?line=${line}${user ? `&user=${user}` : ''}`);
  await page.locator('#switchboard-launcher').click();
  const panel = page.frameLocator('#switchboard-frame');
  await expect(panel.locator('#tab-home')).toBeVisible();
  return panel;
}

async function write(panel, text) {
  await panel.getByLabel('Your message').fill(text);
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(panel.locator('.message.customer').filter({ hasText: text })).toBeVisible();
}

async function startConversation(panel, text) {
  await panel.locator('#space-home').getByRole('button', { name: 'Send us a message' }).click();
  await write(panel, text);
}

async function widgetTicket(subject) {
  const { tickets } = await api('GET', '/api/v1/tickets?channel=widget&limit=100');
  const ticket = tickets.find((t) => t.subject === subject);
  expect(ticket, `a widget ticket "${subject}"`).toBeTruthy();
  return ticket;
}

test('a visitor writes, the agent answers live, the visitor follows the ticket to its resolution', async ({ page, browser }) => {
  const line = await widgetLine();
  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  await signIn(agent);
  await agent.goto(`${state.base}/inbox?view=all_open`);
  await expect(agent.locator('html')).toHaveAttribute('data-live', 'open');

  const panel = await openWidget(page, line);
  await expect(panel.locator('#tab-tickets')).toBeHidden();
  const subject = 'My parcel never arrived';
  await startConversation(panel, subject);

  // The agent's open inbox shows the new ticket without a reload.
  const row = agent.locator('#live-list').getByRole('link', { name: subject });
  await expect(row).toBeVisible();
  await row.click();
  await expect(agent.locator('.message.inbound')).toContainText(subject);

  // The visitor goes back home; the reply arrives live and badges Messages only.
  await panel.getByRole('button', { name: '‹ Back' }).click();
  await expect(panel.locator('#tab-tickets')).toBeVisible();
  await agent.getByLabel('Message').fill('Sorry about that! A new one ships today.');
  await agent.getByRole('button', { name: 'Send' }).click();
  await expect(agent.locator('.message.outbound').filter({ hasText: 'A new one ships today' })).toBeVisible();
  await expect(panel.locator('#tab-messages .badge')).toHaveText('1');
  await expect(panel.locator('#tab-tickets .badge')).toBeHidden();
  const card = panel.locator('#recent-tickets');
  await expect(card.locator('.ticket-row')).toHaveCount(1);
  await expect(card.locator('.ticket-state')).toHaveText('Active');
  await screenshot(page, 'widget-home');

  await panel.locator('#tab-messages').click();
  await screenshot(page, 'widget-messages');
  await panel.locator('.conversation-row').first().locator('button').click();
  await expect(panel.locator('.message.team')).toContainText('A new one ships today');
  await expect(panel.locator('#tab-messages .badge')).toBeHidden();
  await screenshot(page, 'widget-conversation');
  // The agent sees the read receipt.
  await expect.poll(async () => {
    const { messages } = await api('GET', `/api/v1/tickets/${(await widgetTicket(subject)).id}/messages`);
    return messages.find((m) => m.direction === 'outbound').delivery_status;
  }).toBe('read');

  // The agent solves it: the Tickets space is badged and shows it resolved, to view only.
  await panel.getByRole('button', { name: '‹ Back' }).click();
  await panel.locator('#tab-home').click();
  const props = agent.locator('#properties-form');
  await props.getByLabel('Status').selectOption({ label: 'Solved' });
  await props.getByRole('button', { name: 'Save' }).click();
  await expect(agent.locator('#ticket-status')).toHaveText('Solved');
  await expect(panel.locator('#tab-tickets .badge')).toHaveText('1');
  await expect(panel.locator('#tab-messages .badge')).toBeHidden();
  await expect(card).toBeHidden();

  await panel.locator('#tab-tickets').click();
  const ticketRow = panel.locator('#tickets .ticket-row').first();
  await expect(ticketRow.locator('.title')).toHaveText(subject);
  await expect(ticketRow.locator('.ticket-state')).toHaveText('Resolved');
  await expect(ticketRow.locator('.when')).toContainText('Updated');
  await screenshot(page, 'widget-tickets');
  await ticketRow.getByRole('button', { name: 'View the conversation' }).click();
  await expect(panel.locator('.message.team')).toContainText('A new one ships today');
  await expect(panel.locator('#composer')).toBeHidden();
  await expect(panel.locator('#resolved-note')).toBeVisible();
  await expect(panel.locator('#tab-tickets .badge')).toBeHidden();
  await agentContext.close();
});

test('the Recent tickets card shows at most three tickets and never a resolved one', async ({ page }) => {
  const line = await widgetLine();
  const panel = await openWidget(page, line);
  const stamp = Date.now();
  const subjects = [1, 2, 3, 4, 5].map((n) => `Question ${n} (${stamp})`);
  for (const subject of subjects) {
    await startConversation(panel, subject);
    await panel.getByRole('button', { name: '‹ Back' }).click();
  }
  await api('PATCH', `/api/v1/tickets/${(await widgetTicket(subjects[4])).id}`, { status: 'solved' });
  await panel.locator('#tab-home').click();
  const card = panel.locator('#recent-tickets');
  await expect(card.locator('.ticket-row')).toHaveCount(3);
  await expect(card.locator('.ticket-row').first().locator('.title')).toHaveText(subjects[3]);
  await expect(card).not.toContainText(subjects[4]);
  await expect(card.locator('.ticket-state')).toHaveText(['Active', 'Active', 'Active']);
  await panel.locator('#tab-tickets').click();
  await expect(panel.locator('#tickets .ticket-row')).toHaveCount(5);
  await expect(panel.locator('#tickets .ticket-row').first().locator('.ticket-state')).toHaveText('Resolved');
});

test('with the Tickets space switched off it is hidden and Messages still work', async ({ page }) => {
  const line = await widgetLine({ tickets_space: false });
  const panel = await openWidget(page, line);
  const subject = `Do you ship abroad? ${Date.now()}`;
  await startConversation(panel, subject);
  await panel.getByRole('button', { name: '‹ Back' }).click();
  await expect(panel.locator('#tab-tickets')).toBeHidden();
  await expect(panel.locator('#recent-tickets')).toBeHidden();

  await api('POST', `/api/v1/tickets/${(await widgetTicket(subject)).id}/messages`, { body: 'We do, to 30 countries.' });
  await expect(panel.locator('#tab-messages .badge')).toHaveText('1');
  await panel.locator('#tab-messages').click();
  await panel.locator('.conversation-row').first().locator('button').click();
  await expect(panel.locator('.message.team')).toContainText('30 countries');
  await write(panel, 'Great, thanks!');
  await expect(panel.locator('#tab-tickets')).toBeHidden();
});

test('switching the Tickets space off on a live line hides it, and its tickets stay reachable through Messages', async ({ page }) => {
  const line = await widgetLine();
  const panel = await openWidget(page, line);
  await startConversation(panel, 'Can I change my order?');
  await panel.getByRole('button', { name: '‹ Back' }).click();
  await expect(panel.locator('#tab-tickets')).toBeVisible();
  // The admin's switch (PATCH /api/v1/channel-accounts/{id}) lands with the admin pages.
  const res = await fetch(`${state.base}/api/v1/channel-accounts/${line}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ settings: { tickets_space: false } }),
  });
  test.skip(res.status === 405, 'this build cannot change a line yet');
  expect(res.ok).toBe(true);
  const again = await openWidget(page, line);
  await expect(again.locator('#tab-tickets')).toBeHidden();
  await expect(again.locator('#recent-tickets')).toBeHidden();
  await again.locator('#tab-messages').click();
  await again.locator('.conversation-row').first().locator('button').click();
  await write(again, 'Still here?');
});

test('a second visitor sees nothing of the first', async ({ page, browser }) => {
  const line = await widgetLine();
  const first = await openWidget(page, line);
  const secret = `My card ends in 4242 ${Date.now()}`;
  await startConversation(first, secret);

  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  const second = await openWidget(other, line);
  await expect(second.locator('#tab-tickets')).toBeHidden();
  await expect(second.locator('#recent-tickets')).toBeHidden();
  await second.locator('#tab-messages').click();
  await expect(second.locator('#no-conversations')).toBeVisible();
  await expect(second.locator('body')).not.toContainText('4242');
  await otherContext.close();
});

test('a signed-in shopper finds their conversations on another device; a signed-out browser starts afresh', async ({ page, browser }) => {
  const line = await widgetLine();
  const laptop = await openWidget(page, line, 'u-77');
  await startConversation(laptop, 'Asked on my laptop');

  const phoneContext = await browser.newContext();
  const phonePage = await phoneContext.newPage();
  const phone = await openWidget(phonePage, line, 'u-77');
  await phone.locator('#tab-messages').click();
  await expect(phone.locator('.conversation-row')).toHaveCount(1);
  await expect(phone.locator('.conversation-row')).toContainText('Asked on my laptop');

  // Signed out, the shop names nobody: this browser no longer shows the shopper's chats.
  const signedOut = await openWidget(phonePage, line);
  await signedOut.locator('#tab-messages').click();
  await expect(signedOut.locator('#no-conversations')).toBeVisible();
  await expect(signedOut.locator('body')).not.toContainText('Asked on my laptop');
  await phoneContext.close();
});

test('what customers and agents write shows as text in the panel and runs nothing', async ({ page }) => {
  const line = await widgetLine();
  let dialogs = 0;
  page.on('dialog', async (dialog) => { dialogs += 1; await dialog.dismiss(); });
  const panel = await openWidget(page, line);
  const hostile = '<img src=x onerror="alert(1)"> <b>bold?</b>';
  await startConversation(panel, hostile);
  await expect(panel.locator('.message.customer').first()).toContainText('<img src=x onerror="alert(1)">');
  await api('POST', `/api/v1/tickets/${(await widgetTicket(hostile)).id}/messages`, { body: '<script>alert(2)</script>ok' });
  await expect(panel.locator('.message.team')).toContainText('<script>alert(2)</script>ok');
  await expect(panel.locator('.message b, .message img, .message script')).toHaveCount(0);
  expect(dialogs).toBe(0);
});

test('a site that is not among the line\'s origins cannot show the panel', async ({ page }) => {
  const line = await widgetLine({ allowed_origins: ['https://elsewhere.example'] });
  const refused = [];
  page.on('console', (msg) => { if (/frame-ancestors/.test(msg.text())) refused.push(msg.text()); });
  await page.goto(`${shopOrigin}/?line=${line}`);
  await page.locator('#switchboard-launcher').click();
  await expect.poll(() => refused.length).toBeGreaterThan(0);
  await expect(page.frameLocator('#switchboard-frame').locator('#tab-home')).toHaveCount(0);
});
