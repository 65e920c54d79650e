// Playwright drives Debian's chromium (no browser download) against the real binary, which
// global-setup.js builds and starts with a fresh SQLite database and the fake platforms.
const { defineConfig } = require('@playwright/test');

module.exports = defineConfig({
  testDir: './tests',
  globalSetup: require.resolve('./global-setup.js'),
  // One server for all tests; each test makes its own customers, so order does not matter,
  // but the machine has two cores: one worker keeps timings calm.
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: process.env.CI ? 'list' : [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      // The machine's network is closed: Chromium's background connections only fail.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
    viewport: { width: 1280, height: 800 },
    trace: 'off',
  },
});
