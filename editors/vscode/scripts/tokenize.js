#!/usr/bin/env node
// Tokenizes documents with the extension's TextMate grammar, in the engine VS Code uses
// (vscode-textmate with the oniguruma regular expressions), for tests/test_editor_grammar.py.
//
// Reads a JSON list of documents (strings) on standard input; writes, for each document, its
// lines, each a list of tokens {"text", "scopes"}, as JSON on standard output.
'use strict';

const fs = require('fs');
const path = require('path');
const oniguruma = require('vscode-oniguruma');
const textmate = require('vscode-textmate');

const GRAMMAR = path.join(__dirname, '..', 'syntaxes', 'shot.tmLanguage.json');

async function loadGrammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => textmate.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR),
  });
  return registry.loadGrammar('source.shot');
}

function tokenize(grammar, text) {
  let state = textmate.INITIAL;
  return text.split(/\r\n|\n/).map((line) => {
    const { tokens, ruleStack } = grammar.tokenizeLine(line, state);
    state = ruleStack;
    return tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

async function main() {
  const documents = JSON.parse(fs.readFileSync(0, 'utf8'));
  const grammar = await loadGrammar();
  process.stdout.write(JSON.stringify(documents.map((text) => tokenize(grammar, text))));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
