// telegram-test-api on 127.0.0.1:PORT for Doorstep's tests, with a shim for the gaps that break aiogram.
// Usage: node emulator_server.js PORT. Prints one JSON line {"url": ...} when it listens. See emulator.py.
'use strict';

const { routes } = require('telegram-test-api/lib/routes');
const { TelegramServer } = require('telegram-test-api/lib/telegramServer');

const BOT = { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' };
const MAX_LONG_POLL_SECONDS = 5;

// Its getMe has no is_bot (required), its errors have no ok/error_code, its getUpdates never waits.
function shimRoutes(app, server) {
  app.use((_req, res, next) => {
    res.sendError = (error) => {
      const status = error.http || 500;
      res.status(status).json({ ok: false, error_code: status, description: String(error.message) });
    };
    next();
  });
  app.all('/bot:token/getMe', (_req, res) => res.json({ ok: true, result: BOT }));
  app.all('/bot:token/getUpdates', async (req, res) => {
    const params = { ...req.query, ...req.body };
    const deadline = Date.now() + 1000 * Math.min(Number(params.timeout) || 0, MAX_LONG_POLL_SECONDS);
    let updates = server.getUpdates(req.params.token);
    while (updates.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => { setTimeout(resolve, 20); });
      updates = server.getUpdates(req.params.token);
    }
    res.json({ ok: true, result: updates });
  });
  app.get('/_shim/deliveries', (_req, res) => res.json({ ok: true, result: server.deliveries }));
  app.post('/_shim/redeliver', async (req, res) => {
    const first = server.deliveries.find((d) => d.update.update_id === Number(req.body.update_id));
    const webhook = first && server.webhooks[first.bot_token];
    if (!webhook) {
      res.sendError({ http: 400, message: `no webhook delivery of update ${req.body.update_id}` });
      return;
    }
    res.json({ ok: true, result: await server.deliver(first.bot_token, webhook, first.update) });
  });
}

// Its callback queries lack chat_instance (required) and its messages echo the client's botToken.
const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (raw) => {
  const update = formatUpdate(raw);
  if (update.message) delete update.message.botToken;
  if (update.callback_query) {
    const chat = update.callback_query.message ? update.callback_query.message.chat : update.callback_query.from;
    update.callback_query.chat_instance = `emulator-${chat.id}`;
  }
  return update;
};

class ShimServer extends TelegramServer {
  constructor(config) {
    super(config);
    this.deliveries = [];
  }

  // Sends the secret header it was given in setWebhook, records the answer, never throws (an axios
  // rejection there is unhandled and ends the process). Ids are taken before the bot can answer,
  // because bot messages share the same counters.
  async addUserUpdate(raw) {
    const webhook = this.webhooks[raw.botToken];
    if (!webhook) {
      await super.addUserUpdate(raw);
      return;
    }
    const update = TelegramServer.formatUpdate(raw);
    this.updateId += 1;
    this.messageId += 1;
    await this.deliver(raw.botToken, webhook, update);
  }

  async deliver(botToken, webhook, update) {
    const headers = { 'content-type': 'application/json' };
    if (webhook.secret_token) headers['x-telegram-bot-api-secret-token'] = webhook.secret_token;
    const delivery = { bot_token: botToken, url: webhook.url, update, status: null, error: null };
    this.deliveries.push(delivery);
    try {
      const response = await fetch(webhook.url, { method: 'POST', headers, body: JSON.stringify(update) });
      await response.arrayBuffer();
      delivery.status = response.status;
    } catch (error) {
      delivery.error = String(error);
    }
    return delivery;
  }

  // Telegram's dates are in seconds; the emulator answers with milliseconds. It also echoes form
  // fields as sent, so JSON-encoded objects (link_preview_options, reply_markup) come back as strings.
  addBotMessage(rawMessage, botToken) {
    const message = super.addBotMessage(rawMessage, botToken);
    const decoded = {};
    for (const field of ['link_preview_options', 'reply_markup']) {
      if (typeof message[field] === 'string') {
        try { decoded[field] = JSON.parse(message[field]); } catch (_error) { /* leave it as sent */ }
      }
    }
    return { ...message, ...decoded, date: Math.floor(message.date / 1000), from: BOT };
  }
}

process.on('unhandledRejection', (error) => { console.error('unhandled rejection:', error); });

async function main() {
  routes.unshift(shimRoutes);
  const server = new ShimServer({ host: '127.0.0.1', port: Number(process.argv[2]), storage: 'RAM', storeTimeout: 3600 });
  await server.start();
  process.stdout.write(`${JSON.stringify({ url: server.config.apiURL })}\n`);
  const stop = () => { server.stop().finally(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(error && error.code === 'EADDRINUSE' ? 'EADDRINUSE' : error);
  process.exit(1);
});
