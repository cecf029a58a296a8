// The shotlang extension. Highlighting comes from the TextMate grammar in syntaxes/ and needs
// nothing else; diagnostics, completion, hover and formatting come from shotlang's language
// server, `shotlang lsp`, which this starts over standard input and output.
'use strict';

const path = require('path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

const INSTALL_HINT = "Install it with `pip install 'shotlang[lsp]'`, or set `shotlang.path` to the shotlang command.";

let client;

// The shotlang command: `shotlang.path` as the user wrote it when it is a bare name (found on
// PATH) or an absolute path; a relative path such as `.venv/bin/shotlang` is read from the first
// workspace folder, where a project keeps its virtual environment.
function shotlangCommand() {
  const written = vscode.workspace.getConfiguration('shotlang').get('path') || 'shotlang';
  const folders = vscode.workspace.workspaceFolders;
  const isBareName = !written.includes('/') && !written.includes('\\');
  if (isBareName || path.isAbsolute(written) || !folders || folders.length === 0) {
    return written;
  }
  return path.join(folders[0].uri.fsPath, written);
}

function makeClient() {
  const server = { command: shotlangCommand(), args: ['lsp'], transport: TransportKind.stdio };
  return new LanguageClient('shotlang', 'shotlang', server, {
    documentSelector: [{ language: 'shotlang' }],
  });
}

async function start() {
  client = makeClient();
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const reason = error && error.message ? error.message : String(error);
    vscode.window.showErrorMessage(`shotlang: could not start \`${shotlangCommand()} lsp\` (${reason}). ${INSTALL_HINT}`);
  }
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('shotlang.path')) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
