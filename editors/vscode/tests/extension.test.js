// extension.js outside VS Code: `vscode` and the language client are replaced by recorders, so
// these tests see which command the extension starts, for which documents, and what it says
// when the command cannot be started. Run with `node --test tests/`.
'use strict';

const assert = require('node:assert/strict');
const Module = require('node:module');
const path = require('node:path');
const test = require('node:test');

// What the fakes saw, reset by load().
let seen;

function load({ settings = {}, folders = [], startFails = null } = {}) {
  seen = { clients: [], errors: [], configListeners: [] };
  const vscode = {
    workspace: {
      getConfiguration: (section) => ({ get: (key) => settings[`${section}.${key}`] }),
      workspaceFolders: folders.map((fsPath) => ({ uri: { fsPath } })),
      onDidChangeConfiguration: (listener) => {
        seen.configListeners.push(listener);
        return { dispose() {} };
      },
    },
    window: { showErrorMessage: (message) => seen.errors.push(message) },
  };
  class LanguageClient {
    constructor(id, name, server, options) {
      Object.assign(this, { id, name, server, options, running: false });
      seen.clients.push(this);
    }
    async start() {
      if (startFails) throw new Error(startFails);
      this.running = true;
    }
    async stop() {
      this.running = false;
    }
  }
  const fakes = {
    vscode,
    'vscode-languageclient/node': { LanguageClient, TransportKind: { stdio: 0 } },
  };
  const realLoad = Module._load;
  Module._load = function (request, ...rest) {
    return request in fakes ? fakes[request] : realLoad.call(this, request, ...rest);
  };
  const file = path.join(__dirname, '..', 'extension.js');
  delete require.cache[require.resolve(file)];
  try {
    return require(file);
  } finally {
    Module._load = realLoad;
  }
}

const context = () => ({ subscriptions: [] });

test('starts `shotlang lsp` over stdio for shotlang documents', async () => {
  const extension = load();
  await extension.activate(context());
  assert.equal(seen.clients.length, 1);
  const [client] = seen.clients;
  assert.deepEqual(client.server, { command: 'shotlang', args: ['lsp'], transport: 0 });
  assert.deepEqual(client.options.documentSelector, [{ language: 'shotlang' }]);
  assert.ok(client.running);
  await extension.deactivate();
  assert.ok(!client.running);
});

test('shotlang.path names the command: on PATH, absolute, or from the workspace folder', async () => {
  const cases = [
    ['shotlang-dev', 'shotlang-dev'],
    ['/opt/shotlang/bin/shotlang', '/opt/shotlang/bin/shotlang'],
    ['.venv/bin/shotlang', path.join('/work/film', '.venv/bin/shotlang')],
  ];
  for (const [setting, command] of cases) {
    const extension = load({ settings: { 'shotlang.path': setting }, folders: ['/work/film'] });
    await extension.activate(context());
    assert.equal(seen.clients[0].server.command, command, setting);
    assert.deepEqual(seen.clients[0].server.args, ['lsp']);
  }
});

test('changing shotlang.path restarts the server with the new command', async () => {
  const settings = { 'shotlang.path': 'shotlang' };
  const extension = load({ settings });
  await extension.activate(context());
  settings['shotlang.path'] = '/usr/local/bin/shotlang';
  await seen.configListeners[0]({ affectsConfiguration: (key) => key === 'shotlang.path' });
  assert.equal(seen.clients.length, 2);
  assert.ok(!seen.clients[0].running);
  assert.ok(seen.clients[1].running);
  assert.equal(seen.clients[1].server.command, '/usr/local/bin/shotlang');
  await seen.configListeners[0]({ affectsConfiguration: () => false });
  assert.equal(seen.clients.length, 2, 'another setting changed: no restart');
});

test('a command that cannot start gives a message that says how to install shotlang', async () => {
  const extension = load({ startFails: 'spawn shotlang ENOENT' });
  await extension.activate(context());
  assert.equal(seen.errors.length, 1);
  assert.match(seen.errors[0], /spawn shotlang ENOENT/);
  assert.match(seen.errors[0], /pip install 'shotlang\[lsp\]'/);
  await extension.deactivate(); // nothing running: no error
});

test('the word pattern keeps hyphens, apostrophes, durations and ratios in one word', () => {
  const { wordPattern } = require('../language-configuration.json');
  const text = 'SHOT castle-at-dawn: roll counter-clockwise 2.5 over "A tiger\'s eyes" 5s 16:9 model kling-v2-1-master';
  assert.deepEqual(text.match(new RegExp(wordPattern, 'g')), [
    'SHOT', 'castle-at-dawn', 'roll', 'counter-clockwise', '2.5', 'over', 'A', "tiger's", 'eyes',
    '5s', '16:9', 'model', 'kling-v2-1-master',
  ]);
});
