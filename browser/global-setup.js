// Builds the binary if needed, then starts, for the whole run: the fake platforms, and
// `switchboard serve` on a temp SQLite database pointed at them. Makes an admin, an API
// token and the lines the tests use, and leaves what the tests need in state.json.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { freePort } = require('./ports');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = process.env.SWITCHBOARD_BIN || path.join(root, 'target', 'debug', 'switchboard');
const stateFile = path.join(__dirname, 'state.json');

async function waitFor(url, what) {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up at ${url}`);
}

async function api(base, token, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

module.exports = async function globalSetup() {
  if (!process.env.SWITCHBOARD_BIN) {
    execFileSync('cargo', ['build', '--quiet', '--bin', 'switchboard'], { cwd: root, stdio: 'inherit' });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-browser-'));
  const env = {
    ...process.env,
    SWITCHBOARD_DATABASE_URL: `sqlite://${path.join(dir, 'switchboard.db')}`,
    SWITCHBOARD_DATA_DIR: path.join(dir, 'data'),
    SWITCHBOARD_LOG: process.env.SWITCHBOARD_LOG || 'warn',
  };
  const [fakePort, port] = [await freePort(), await freePort()];
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  const base = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const fakes = spawn(bin, ['fake-platforms', '--listen', `127.0.0.1:${fakePort}`], { env, stdio: ['ignore', log, log] });
  execFileSync(bin, ['migrate'], { env, stdio: ['ignore', log, log] });
  const admin = { email: 'ana@example.com', password: 'correct horse battery', name: 'Ana Agent' };
  execFileSync(bin, ['admin', 'create', '--email', admin.email, '--password', admin.password, '--name', admin.name],
    { env, stdio: ['ignore', log, log] });
  const token = execFileSync(bin, ['token', 'create', '--email', admin.email], { env }).toString().trim();
  const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--api-base-url', fakeUrl],
    { env, stdio: ['ignore', log, log] });
  await waitFor(`${fakeUrl}/_fake/requests`, 'the fake platforms');
  await waitFor(`${base}/healthz`, 'switchboard');

  const secrets = { app_secret: 'wa-app-secret', verify_token: 'wa-verify', access_token: 'wa-access' };
  const whatsapp = await api(base, token, 'POST', '/api/v1/channel-accounts',
    { kind: 'whatsapp', name: 'Support WhatsApp', external_id: '15550001111', secrets });
  await api(base, token, 'POST', `/api/v1/channel-accounts/${whatsapp.id}/templates`,
    { name: 'order_update', language: 'en_US', category: 'UTILITY', body: 'Hello {{1}}, your order {{2}} has shipped.' });
  const igSecrets = { app_secret: 'ig-app-secret', verify_token: 'ig-verify', access_token: 'ig-access' };
  const instagram = await api(base, token, 'POST', '/api/v1/channel-accounts',
    { kind: 'instagram', name: 'Shop Instagram', external_id: '17840000000', secrets: igSecrets });
  const email = await api(base, token, 'POST', '/api/v1/channel-accounts',
    { kind: 'email', name: 'Support e-mail', external_id: 'support@example.com', secrets: {} });

  fs.writeFileSync(stateFile, JSON.stringify({
    base, fakeUrl, token, admin, dir,
    whatsapp: { id: whatsapp.id, external_id: '15550001111', app_secret: secrets.app_secret },
    instagram: { id: instagram.id, external_id: '17840000000', app_secret: igSecrets.app_secret },
    email: { id: email.id },
  }, null, 2));

  return async () => {
    server.kill('SIGTERM');
    fakes.kill('SIGTERM');
  };
};
