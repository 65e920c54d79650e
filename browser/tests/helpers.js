// What the tests share: the running server's state, its API, signed customer webhooks,
// and signing in.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { expect } = require('@playwright/test');

const state = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'state.json'), 'utf8'));

async function api(method, p, body) {
  const res = await fetch(state.base + p, {
    method,
    headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

let serial = 0;
/** A customer nobody has seen yet. */
function newCustomer(name) {
  serial += 1;
  const digits = String(Date.now()).slice(-7) + String(serial).padStart(3, '0');
  return { id: `4477${digits}`, name };
}

async function post(p, body, headers) {
  const res = await fetch(state.base + p, { method: 'POST', headers, body });
  if (!res.ok) throw new Error(`webhook ${p}: ${res.status} ${await res.text()}`);
}

function sign(secret, body) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/** A WhatsApp message from `customer`, signed as Meta signs it, sent `at` (a Date). */
async function whatsapp(customer, text, at = new Date()) {
  const line = state.whatsapp;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'waba-1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: line.external_id, phone_number_id: line.external_id },
      contacts: [{ profile: { name: customer.name }, wa_id: customer.id }],
      messages: [{ from: customer.id, id: `wamid.${crypto.randomUUID()}`, timestamp: String(Math.floor(at / 1000)),
        type: 'text', text: { body: text } }],
    } }] }],
  });
  await post(`/webhooks/whatsapp/${line.id}`, body,
    { 'content-type': 'application/json', 'x-hub-signature-256': sign(line.app_secret, body) });
}

/** An Instagram DM from `customer`, sent `at`. */
async function instagram(customer, text, at = new Date()) {
  const line = state.instagram;
  const millis = at.getTime();
  const body = JSON.stringify({
    object: 'instagram',
    entry: [{ id: line.external_id, time: millis, messaging: [{
      sender: { id: customer.id }, recipient: { id: line.external_id }, timestamp: millis,
      message: { mid: `igmid.${crypto.randomUUID()}`, text },
    }] }],
  });
  await post(`/webhooks/instagram/${line.id}`, body,
    { 'content-type': 'application/json', 'x-hub-signature-256': sign(line.app_secret, body) });
}

/** A comment by `customer` under the Instagram post `mediaId`, sent `at`. */
async function instagramComment(customer, mediaId, text, at = new Date()) {
  const line = state.instagram;
  const body = JSON.stringify({
    object: 'instagram',
    entry: [{ id: line.external_id, time: Math.floor(at / 1000), changes: [{ field: 'comments', value: {
      from: { id: customer.id, username: customer.name },
      media: { id: mediaId, media_product_type: 'FEED' },
      id: `ig-comment-${crypto.randomUUID()}`,
      text,
    } }] }],
  });
  await post(`/webhooks/instagram/${line.id}`, body,
    { 'content-type': 'application/json', 'x-hub-signature-256': sign(line.app_secret, body) });
}

/** The newest ticket of the contact a customer became, with the contact id. */
async function ticketOf(customerName) {
  const { contacts } = await api('GET', `/api/v1/contacts?q=${encodeURIComponent(customerName)}`);
  expect(contacts.length, `a contact named ${customerName}`).toBeGreaterThan(0);
  const contact = contacts[0];
  const { tickets } = await api('GET', '/api/v1/tickets?limit=100');
  const ticket = tickets.find((t) => t.contact_id === contact.id);
  return { contact, ticket };
}

/** The ticket with the latest activity on a channel, with its contact id. */
async function latestTicket(channel) {
  const { tickets } = await api('GET', `/api/v1/tickets?channel=${channel}&limit=1`);
  expect(tickets.length, `a ${channel} ticket`).toBe(1);
  return { ticket: tickets[0], contact: { id: tickets[0].contact_id } };
}

const DAY = 24 * 3600 * 1000;

async function signIn(page) {
  await page.goto(state.base + '/');
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByLabel('E-mail').fill(state.admin.email);
  await page.getByLabel('Password').fill(state.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Your social messaging tickets' })).toBeVisible();
}

const shots = path.join(__dirname, '..', '..', 'docs', 'screenshots');
/** Saves the README's screenshots when asked (`SWITCHBOARD_SCREENSHOTS=1`), so that an
 * ordinary run leaves the work tree as it was. */
async function screenshot(page, name) {
  if (!process.env.SWITCHBOARD_SCREENSHOTS) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

module.exports = { state, api, newCustomer, whatsapp, instagram, instagramComment, ticketOf, latestTicket, signIn, screenshot, DAY };
