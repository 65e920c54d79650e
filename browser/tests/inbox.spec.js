// The agent's inbox in a real browser, against the real binary (see global-setup.js).
const { test, expect } = require('@playwright/test');
const { state, api, newCustomer, whatsapp, instagram, instagramComment, ticketOf, latestTicket, signIn, screenshot, DAY } = require('./helpers');

test('an agent signs in, is refused with a wrong password, and signs out', async ({ page }) => {
  await page.goto(state.base + '/');
  await expect(page).toHaveURL(/\/sign-in/);
  await screenshot(page, 'sign-in');
  await page.getByLabel('E-mail').fill(state.admin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('do not match');

  await page.getByLabel('Password').fill(state.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Your social messaging tickets' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Online/ })).toBeVisible();

  await page.getByRole('button', { name: /Online/ }).click();
  await expect(page.getByRole('button', { name: /Away/ })).toBeVisible();
  await page.getByRole('button', { name: /Away/ }).click();
  await expect(page.getByRole('button', { name: /Online/ })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto(state.base + '/inbox?view=open');
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});

test('the notifier shows a new customer message live, without reload', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Notifications' }).click();
  await page.getByRole('tab', { name: /Unassigned/ }).click();
  const customer = newCustomer('Lina Live');
  await expect(page.locator('#notifier-panel')).not.toContainText(customer.name);
  // The stream is open before the customer writes.
  await expect(page.locator('html')).toHaveAttribute('data-live', 'open');
  await whatsapp(customer, 'Is my parcel on its way?');
  const row = page.locator('#notifier-panel').getByRole('link', { name: new RegExp(customer.name) });
  await expect(row).toBeVisible();
  await expect(row).toContainText('Started a new chat');
  await expect(row).toContainText('WhatsApp');
  await expect(page.locator('#notifier-dot')).toBeVisible();
  await screenshot(page, 'notifier');
  await row.click();
  await expect(page.locator('.message.inbound')).toContainText('Is my parcel on its way?');
});

test('a reply within the WhatsApp window is sent and shows its delivery state', async ({ page }) => {
  const customer = newCustomer('Rita Reply');
  await whatsapp(customer, 'Hello, I need help with my order');
  const { ticket } = await ticketOf(customer.name);
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await expect(page.locator('#reply-window')).toContainText('WhatsApp window closes in');
  await expect(page.getByText('Sends from')).toContainText('Support WhatsApp');
  await page.getByLabel('Message').fill('Happy to help! Which order is it?');
  await page.getByRole('button', { name: 'Send' }).click();
  const sent = page.locator('.message.outbound').filter({ hasText: 'Which order is it?' });
  await expect(sent).toBeVisible();
  await expect(sent.locator('.delivery')).toContainText(/Queued|Sent/);
  await expect(page.locator('#ticket-status')).toHaveText('Open');
  // The fake WhatsApp received it.
  await expect.poll(async () => {
    const res = await fetch(`${state.fakeUrl}/_fake/requests`);
    return JSON.stringify(await res.json());
  }).toContain('Which order is it?');
  await page.reload();
  await expect(sent.locator('.delivery')).toContainText('Sent');
  await screenshot(page, 'ticket');
});

test('outside the 24-hour window the reply box asks for a template and sends one', async ({ page }) => {
  const customer = newCustomer('Tomas Template');
  await whatsapp(customer, 'Any news about my refund?', new Date(Date.now() - 2 * DAY));
  const { ticket } = await ticketOf(customer.name);
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await expect(page.locator('#reply-window')).toContainText('Outside the 24-hour window: pick a template');
  const picker = page.locator('#template-picker');
  await expect(picker).toBeVisible();
  await picker.getByLabel('Pick an approved template').selectOption({ label: 'order_update (en_US)' });
  await expect(picker).toContainText('Hello {{1}}, your order {{2}} has shipped.');
  await picker.getByLabel(/Parameters/).fill('Tomas\n#4411');
  await page.getByRole('button', { name: 'Send' }).click();
  const sent = page.locator('.message.outbound').last();
  await expect(sent).toContainText('Hello Tomas, your order #4411 has shipped.');
  await expect(sent).toContainText('Template order_update');
});

test('an internal note is added and marked as internal', async ({ page }) => {
  const customer = newCustomer('Nora Note');
  await whatsapp(customer, 'My package arrived damaged');
  const { ticket } = await ticketOf(customer.name);
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await page.getByLabel('Internal note (only agents see it)').check();
  await expect(page.locator('#send-button')).toHaveText('Add note');
  await page.getByLabel('Message').fill('Check with the warehouse before answering.');
  await page.locator('#send-button').click();
  const note = page.locator('.message.note').filter({ hasText: 'Check with the warehouse' });
  await expect(note).toBeVisible();
  await expect(note).toContainText('Internal note');
  await expect(page.locator('#live-events')).toContainText('Internal note added');
  // A note sends nothing and leaves the status alone.
  await expect(page.locator('#ticket-status')).toHaveText('New');
});

test('an agent assigns a ticket, changes its status and tags, and the log says so', async ({ page }) => {
  const customer = newCustomer('Axel Assign');
  await whatsapp(customer, 'Can someone call me back?');
  const { ticket } = await ticketOf(customer.name);
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  const props = page.locator('#properties-form');
  await props.getByLabel('Assignee').selectOption({ label: `${state.admin.name} (online)` });
  await props.getByLabel('Status').selectOption({ label: 'Pending' });
  await props.getByLabel(/Tags/).fill(ticket.tags.join(' ') + ' vip');
  await props.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#ticket-status')).toHaveText('Pending');
  await expect(page.locator('#live-events')).toContainText(`Assigned to ${state.admin.name}`);
  await expect(page.locator('#live-events')).toContainText('Status new → pending');
  await expect(page.locator('#live-events')).toContainText('Tag added: vip');
  const after = await api('GET', `/api/v1/tickets/${ticket.id}`);
  expect(after.status).toBe('pending');
  expect(after.tags).toContain('vip');
  expect(after.tags).toContain('whatsapp');
});

test('a new agent-initiated ticket is sent where the channel allows it', async ({ page }) => {
  const customer = newCustomer('Erin Email');
  await whatsapp(customer, 'Please e-mail me the invoice');
  const { contact } = await ticketOf(customer.name);
  await api('PATCH', `/api/v1/contacts/${contact.id}`, { email: `erin${customer.id}@example.com` });
  await signIn(page);
  await page.getByRole('link', { name: '+ New', exact: true }).click();
  await page.getByLabel('Find the customer').fill('Erin Email');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('link', { name: 'Erin Email' }).click();
  await page.getByLabel('Send from').selectOption({ label: 'E-mail · Support e-mail' });
  await expect(page.locator('#allowance-text')).toContainText('E-mail: you can send any time.');
  await page.getByLabel('First message').fill('Here is your invoice, Erin.');
  await screenshot(page, 'new-ticket');
  await page.getByRole('button', { name: 'Send and open the ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f-]{36}$/);
  await expect(page.locator('.message.outbound')).toContainText('Here is your invoice, Erin.');
  await expect(page.locator('#properties-form').getByLabel('Assignee')).toHaveValue(/[0-9a-f-]{36}/);
  const id = page.url().split('/').pop();
  const created = await api('GET', `/api/v1/tickets/${id}`);
  expect(created.origin).toBe('agent');
  expect(created.channel).toBe('email');
});

test('a new ticket is refused before sending when the channel does not allow it', async ({ page }) => {
  const customer = newCustomer('Ivo Instagram');
  await instagram(customer, 'hi', new Date(Date.now() - 8 * DAY));
  const { contact, ticket } = await latestTicket('instagram');
  await api('PATCH', `/api/v1/tickets/${ticket.id}`, { status: 'closed' });
  await signIn(page);
  await page.goto(`${state.base}/tickets/new?contact=${contact.id}`);
  await page.getByLabel('Send from').selectOption({ label: 'Instagram · Shop Instagram' });
  await expect(page.locator('#allowance-text')).toContainText(
    'instagram: the customer has not written in the last 7 days, so nothing can be sent');
  await expect(page.locator('#compose-form')).toHaveCount(0);
});

test('two contacts are merged from the contact page', async ({ page }) => {
  const a = newCustomer('Mia Merge');
  const b = newCustomer('Mia M. (second number)');
  await whatsapp(a, 'first number here');
  await whatsapp(b, 'second number here');
  const { contact } = await ticketOf(a.name);
  const { ticket: other } = await ticketOf(b.name);
  await signIn(page);
  await page.goto(`${state.base}/contacts/${contact.id}`);
  await page.getByLabel('Find the contact to merge in').fill('second number');
  await page.getByRole('button', { name: 'Find' }).click();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Merge into Mia Merge' }).click();
  await expect(page.locator('#contact-tickets')).toContainText(`#${other.number}`);
  await expect(page.locator('.identities tbody tr')).toHaveCount(2);
  await screenshot(page, 'contact');
  const merged = await api('GET', `/api/v1/tickets/${other.id}`);
  expect(merged.contact_id).toBe(contact.id);
});

test('a customer message with HTML and script shows as text and runs nothing', async ({ page }) => {
  const customer = newCustomer('<b>Bold</b> Mallory');
  const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> hello';
  await whatsapp(customer, evil);
  const { ticket } = await ticketOf('Mallory');
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  const message = page.locator('.message.inbound .body');
  await expect(message).toHaveText(evil);
  await expect(page.locator('.message.inbound img')).toHaveCount(0);
  await expect(page.getByRole('link', { name: '<b>Bold</b> Mallory' })).toBeVisible();
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  // The notifier panel renders it as text too.
  await page.getByRole('link', { name: 'Notifications' }).click();
  await page.getByRole('tab', { name: /Unassigned/ }).click();
  await expect(page.locator('#notifier-panel')).toContainText('<b>Bold</b> Mallory');
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(dialogs).toBe(0);
});

test('the inbox lists a view and reads well on a phone', async ({ page }) => {
  const customer = newCustomer('Pia Phone');
  await whatsapp(customer, 'Writing from my phone');
  await signIn(page);
  await page.getByRole('link', { name: 'All open' }).click();
  await expect(page.getByRole('heading', { name: 'All open' })).toBeVisible();
  await expect(page.locator('#live-list')).toContainText('Writing from my phone');
  await screenshot(page, 'inbox');
  await page.setViewportSize({ width: 390, height: 844 });
  const { ticket } = await ticketOf(customer.name);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await expect(page.getByLabel('Message')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(page, 'ticket-phone');
});

test('a personal view built from conditions lists the matching tickets with a count', async ({ page }) => {
  const customer = newCustomer('Vera View');
  await whatsapp(customer, 'Gold member here');
  const { ticket } = await ticketOf(customer.name);
  await api('PATCH', `/api/v1/tickets/${ticket.id}`, { tags: { add: ['gold'] } });
  await signIn(page);
  await page.getByRole('link', { name: '+ New view' }).click();
  await page.getByLabel('Name').fill('Gold on WhatsApp');
  await page.getByLabel('New', { exact: true }).check();
  await page.getByLabel('Open', { exact: true }).check();
  await page.getByLabel(/Any of these tags/).fill('gold');
  await page.getByLabel('WhatsApp', { exact: true }).check();
  await page.getByRole('button', { name: 'Save view' }).click();
  await expect(page.getByRole('heading', { name: 'Gold on WhatsApp' })).toBeVisible();
  await expect(page.locator('.query code')).toContainText('tags:gold');
  await expect(page.locator('#live-list')).toContainText('Gold member here');
  await expect(page.getByRole('link', { name: /Gold on WhatsApp/ }).locator('.count')).toHaveText('1');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete this view' }).click();
  await expect(page.getByRole('link', { name: /Gold on WhatsApp/ })).toHaveCount(0);
});

test('the search box finds customers by the digits of their number and explains a bad query', async ({ page }) => {
  const customer = newCustomer('Sami Search');
  await whatsapp(customer, 'Find me');
  await signIn(page);
  await page.getByLabel('Search tickets and customers').fill(`whatsapp:"${customer.id.slice(-6)}"`);
  await page.getByLabel('Search tickets and customers').press('Enter');
  await expect(page.locator('#search-users')).toContainText('Sami Search');
  await page.getByLabel('Search tickets and customers').fill('status:nonsense');
  await page.getByLabel('Search tickets and customers').press('Enter');
  await expect(page.getByRole('alert')).toContainText('At character');
});

test('an open ticket page shows the customer\'s next message live and keeps the draft', async ({ page }) => {
  const customer = newCustomer('Kai Keeps');
  await whatsapp(customer, 'First question');
  const { ticket } = await ticketOf(customer.name);
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await expect(page.locator('html')).toHaveAttribute('data-live', 'open');
  await page.getByLabel('Message').fill('A draft I am writing');
  await whatsapp(customer, 'And a second one, while you type');
  await expect(page.locator('.message.inbound').last()).toContainText('And a second one, while you type');
  await expect(page.getByLabel('Message')).toHaveValue('A draft I am writing');
});

test('a public thread shows its participants and a comment is answered publicly and privately', async ({ page }) => {
  const media = `post-${Date.now()}`;
  const nina = newCustomer('nina_knits');
  const bo = newCustomer('bo_bergen');
  await instagramComment(nina, media, 'Price for the green scarf please?');
  await instagramComment(bo, media, 'Also interested!');
  const { tickets } = await api('GET', '/api/v1/tickets?kind=public&limit=1');
  const thread = tickets[0];
  await signIn(page);
  await page.goto(`${state.base}/tickets/${thread.id}`);
  await expect(page.locator('.participants')).toContainText('nina_knits');
  await expect(page.locator('.participants')).toContainText('bo_bergen');
  await expect(page.locator('#reply-window')).toContainText('A public reply');
  await page.getByLabel('Answer the comment').selectOption({ label: '@nina_knits: Price for the green scarf please?' });
  await page.getByLabel('Message', { exact: true }).fill('It is 29 euros!');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('.message.outbound')).toContainText('It is 29 euros!');

  await page.getByLabel('Answer the comment').selectOption({ label: '@bo_bergen: Also interested!' });
  await page.getByLabel(/Privately/).check();
  await page.getByLabel('Message', { exact: true }).fill('I sent you the details in a message.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('#live-events')).toContainText('Reply queued');
  // The private reply opened Bo's direct ticket, linked to the thread.
  const direct = (await api('GET', '/api/v1/tickets?kind=direct&channel=instagram&limit=5')).tickets
    .find((t) => t.public_ticket_id === thread.id);
  expect(direct).toBeTruthy();
  await page.goto(`${state.base}/tickets/${direct.id}`);
  await expect(page.locator('.message.outbound')).toContainText('I sent you the details in a message.');
  await expect(page.getByRole('link', { name: `Public thread #${thread.number}` })).toBeVisible();
});

test('an agent edits a contact\'s profile', async ({ page }) => {
  const customer = newCustomer('Pat Profile');
  await whatsapp(customer, 'hello');
  const { contact } = await ticketOf(customer.name);
  await signIn(page);
  await page.goto(`${state.base}/contacts/${contact.id}`);
  await page.locator('#profile-form').getByLabel('Name').fill('Patricia Profile');
  await page.locator('#profile-form').getByLabel('E-mail').fill('pat@example.com');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('heading', { name: 'Patricia Profile' })).toBeVisible();
  const after = await api('GET', `/api/v1/contacts/${contact.id}`);
  expect(after.email).toBe('pat@example.com');
});

test('a reply the platform refuses shows as failed with the platform\'s error', async ({ page }) => {
  const customer = newCustomer('Fay Failure');
  await whatsapp(customer, 'Are you there?');
  const { ticket } = await ticketOf(customer.name);
  const fail = await fetch(`${state.fakeUrl}/_fake/fail`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'whatsapp', fault: { permanent: '131047' }, times: 1 }),
  });
  expect(fail.ok).toBeTruthy();
  await signIn(page);
  await page.goto(`${state.base}/tickets/${ticket.id}`);
  await page.getByLabel('Message').fill('This one will not arrive');
  await page.getByRole('button', { name: 'Send' }).click();
  const sent = page.locator('.message.outbound').filter({ hasText: 'This one will not arrive' });
  // The send posts a form and comes back to the page: reload only once it is back.
  await expect(sent).toBeVisible();
  await page.waitForLoadState();
  await expect.poll(async () => {
    await page.reload();
    return sent.textContent();
  }).toContain('Not delivered');
  await expect(sent.locator('.delivery')).toContainText('Failed');
  await expect(sent.locator('.error-text')).toContainText('131047');
  await expect(page.locator('#live-events')).toContainText('Delivery failed');
});
