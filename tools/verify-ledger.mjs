#!/usr/bin/env node
// An independent verifier of one PLPBK SQLite ledger, written from docs/ledger-format.md
// alone (not from the platform's Python), so that the document is shown to be enough.
// Node 20, standard library only; reads the file through the sqlite3 CLI, read-only.
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';

const USAGE = `Usage: node tools/verify-ledger.mjs [OPTIONS] LEDGER.db

  Check one PLPBK SQLite ledger file against docs/ledger-format.md: every record's
  canonical encoding, hash and chain link (rules 1-7 of section 3) and the copies
  of body members kept in the table's columns. Names the first bad record.

Options:
  --ledger NAME        The ledger's name (default: the file name without .db).
  --checkpoint FILE    A signed checkpoint (section 5) the ledger must be consistent with.
  --public-key FILE    Trusted Ed25519 public key (PEM) the checkpoint must be signed with.
  --json               Print the report as JSON.
  --sqlite3 PATH       The sqlite3 program (default: sqlite3 on PATH).
  -h, --help           Show this message and exit.

Exit codes: 0 the ledger verifies (and the checkpoint), 1 it is broken or damaged,
2 bad usage or input, 3 the sqlite3 program cannot be run or the file is busy.`;

const GENESIS = '0'.repeat(64);
const MAX_INTEGER = 2 ** 53 - 1;
const MEMBERS = ['actor', 'causation_id', 'correlation_id', 'event_id', 'ledger', 'occurred_at',
  'payload', 'position', 'prev_hash', 'recorded_at', 'schema_version', 'stream_id',
  'stream_version', 'type'];
const LEDGER_NAME = /^[a-z][a-z0-9_]{0,39}$/;
const CHECKPOINT_FORMAT = 'plpbk-checkpoint/1';
const VALUE_OPTIONS = ['--ledger', '--checkpoint', '--public-key', '--sqlite3'];

class UsageError extends Error {}
class StoreError extends Error {}
// A record that breaks a rule of section 3; `rule` is its number, or 'columns'.
class Broken extends Error {
  constructor(rule, message) { super(message); this.rule = rule; }
}
class NotCanonical extends Error {}

// ---- section 1: the canonical form (RFC 8785 restricted to the admitted values) ----

function canonical(value) {
  if (value === null || value === true || value === false) return String(value);
  if (typeof value === 'number') {
    // JSON.parse rounds big integers silently; only exact ones within +-(2^53-1) are admitted
    if (Object.is(value, -0)) throw new NotCanonical('-0 is not admitted');
    if (!Number.isInteger(value) || Math.abs(value) > MAX_INTEGER) {
      throw new NotCanonical(`${value} is not an integer within +-(2^53 - 1)`);
    }
    return String(value);
  }
  if (typeof value === 'string') {
    // JSON.stringify would write a lone surrogate as \udxxx and so hide it
    if (!value.isWellFormed()) throw new NotCanonical('a string holds a lone surrogate');
    return JSON.stringify(value); // escapes exactly as JCS: \" \\ \b \f \n \r \t, \u00xx
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value);
  for (const key of keys) {
    if (/[\uD800-\uDFFF]/.test(key)) {
      throw new NotCanonical(`key ${JSON.stringify(key)} is outside the Basic Multilingual Plane`);
    }
  }
  keys.sort(); // UTF-16 code unit order, as JCS requires
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseBody(bytes) {
  let text;
  try { text = utf8.decode(bytes); } catch { throw new Broken(7, 'body is not UTF-8'); }
  let record;
  try { record = JSON.parse(text); } catch { throw new Broken(7, 'body is not JSON'); }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new Broken(7, 'body is not a JSON object');
  }
  return { record, text };
}

function checkCanonical(record, text) {
  let again;
  try { again = canonical(record); } catch (error) {
    if (error instanceof NotCanonical) {
      throw new Broken(7, `body is not canonical: ${error.message}`);
    }
    if (error instanceof RangeError) throw new Broken(7, 'body is nested too deeply');
    throw error;
  }
  if (again !== text) throw new Broken(7, 'body is not in canonical form (re-encoding differs)');
}

// ---- section 1: the members (their names: section 3 checks no other types) ----

const isString = (value) => typeof value === 'string';
const isInteger = (value) => typeof value === 'number' && Number.isInteger(value);

function checkMembers(record) {
  const keys = Object.keys(record).sort();
  if (keys.join() !== MEMBERS.join()) {
    const missing = MEMBERS.filter((key) => !keys.includes(key));
    const extra = keys.filter((key) => !MEMBERS.includes(key));
    throw new Broken(7, `body members differ from section 1 (missing: ${missing.join(', ') || '-'};`
      + ` extra: ${extra.join(', ') || '-'})`);
  }
}

// ---- section 3: the chain ----

// Strings compare by code point (as their UTF-8 bytes do), not by JS's UTF-16 code units.
function earlier(one, other) {
  return Buffer.compare(Buffer.from(one, 'utf8'), Buffer.from(other, 'utf8')) < 0;
}

function sha256Hex(bytes) { return createHash('sha256').update(bytes).digest('hex'); }

function fromHex(hex) { return hex === null ? null : Buffer.from(hex, 'hex'); }

function textOf(hex) {
  if (hex === null) return null;
  try { return utf8.decode(fromHex(hex)); } catch { return null; }
}

class ChainWalker {
  constructor(ledger, watch) {
    this.ledger = ledger;
    this.watch = watch; // a checkpoint's position, whose hash is kept
    this.watchedHash = undefined;
    this.expected = 1;
    this.previousHash = GENESIS;
    this.previousRecordedAt = null;
    this.streamVersions = new Map();
  }

  // Checks one stored row; throws Broken naming the rule it breaks.
  check(row) {
    const n = this.expected;
    const position = row.position_type === 'integer' ? BigInt(row.position_text) : null;
    if (position === null) throw new Broken(1, `record ${n} has a position that is no integer`);
    if (position > BigInt(n)) {
      throw new Broken(1, `record ${n} is missing (next stored position is ${position})`);
    }
    if (position < BigInt(n)) throw new Broken(1, `an extra record at position ${position}`);
    if (row.body_type !== 'blob') {
      throw new Broken(7, `body of record ${n} is stored as ${row.body_type}, not as bytes (BLOB)`);
    }
    const body = fromHex(row.body_hex);
    const storedHash = row.hash_type === 'text' ? textOf(row.hash_hex) : null;
    if (sha256Hex(body) !== storedHash) {
      throw new Broken(2, `SHA-256 of the body of record ${n} differs from its stored hash`);
    }
    const { record, text } = parseBody(body);
    if (record.prev_hash !== this.previousHash) {
      throw new Broken(3, `prev_hash of record ${n} is not the hash of record ${n - 1}`);
    }
    if (record.position !== n) {
      throw new Broken(4, `body of record ${n} says position ${JSON.stringify(record.position)}`);
    }
    if (record.ledger !== this.ledger) {
      throw new Broken(4, `body of record ${n} names ledger ${JSON.stringify(record.ledger)}`);
    }
    checkMembers(record);
    if (!isString(record.recorded_at)) {
      throw new Broken(5, `recorded_at of record ${n} is no string`);
    }
    if (this.previousRecordedAt !== null && earlier(record.recorded_at, this.previousRecordedAt)) {
      throw new Broken(5, `recorded_at of record ${n} is earlier than that of record ${n - 1}`);
    }
    if (!isString(record.stream_id) || !isInteger(record.stream_version)) {
      throw new Broken(6, `stream_id or stream_version of record ${n} is no string or no integer`);
    }
    const last = this.streamVersions.get(record.stream_id) ?? 0;
    if (record.stream_version !== last + 1) {
      throw new Broken(6, `stream ${record.stream_id} jumps from version ${last} to`
        + ` ${record.stream_version} at record ${n}`);
    }
    checkCanonical(record, text);
    checkColumns(row, record, n);
    this.streamVersions.set(record.stream_id, record.stream_version);
    this.previousHash = storedHash;
    if (n === this.watch) this.watchedHash = storedHash;
    this.previousRecordedAt = record.recorded_at;
    this.expected = n + 1;
  }
}

// Section 3's last paragraph: the queryable copies must equal the body.
function checkColumns(row, record, n) {
  const same = textOf(row.stream_id_hex) === record.stream_id && row.stream_id_type === 'text'
    && row.type_type === 'text' && textOf(row.type_hex) === record.type
    && row.recorded_at_type === 'text' && textOf(row.recorded_at_hex) === record.recorded_at
    && row.stream_version_type === 'integer'
    && row.stream_version_text === String(record.stream_version);
  if (!same) throw new Broken('columns', `the columns of record ${n} differ from its body`);
}

// ---- section 4: reading the SQLite file ----

const QUERY = `SELECT typeof(position) AS position_type, CAST(position AS TEXT) AS position_text,
  typeof(body) AS body_type, hex(body) AS body_hex,
  typeof(hash) AS hash_type, hex(hash) AS hash_hex,
  typeof(stream_id) AS stream_id_type, hex(stream_id) AS stream_id_hex,
  typeof(stream_version) AS stream_version_type,
  CAST(stream_version AS TEXT) AS stream_version_text,
  typeof(type) AS type_type, hex(type) AS type_hex,
  typeof(recorded_at) AS recorded_at_type, hex(recorded_at) AS recorded_at_hex
  FROM records ORDER BY position`;

// Yields the rows one by one: the CLI's JSON mode writes one row per line.
async function* readRows(sqlite3, file) {
  const path = file.startsWith('-') ? `./${file}` : file;
  const child = spawn(sqlite3, ['-readonly', '-json', '-cmd', '.timeout 5000', path, QUERY],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // settles on exit, or on a program that cannot be started (never rejects, never unhandled)
  const exited = new Promise((resolve) => {
    child.on('error', (error) => resolve({ error }));
    child.on('close', (code) => resolve({ code }));
  });
  let finished = false;
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      const json = line.replace(/^\[/, '').replace(/[,\]]$/, '');
      if (json !== '') yield JSON.parse(json);
    }
    finished = true;
  } finally {
    if (!finished) child.kill();
  }
  const { error, code } = await exited;
  if (error) throw new StoreError(`cannot run ${sqlite3}: ${error.message}`);
  if (code !== 0) {
    const message = stderr.trim().replace(/\s+/g, ' ').replace(/^Error: (in prepare, )?/, '');
    if (/locked|busy/i.test(message)) throw new StoreError(`${file}: ${message}`);
    throw new Broken('file', `${file} cannot be read as a ledger: ${message}`);
  }
}

async function verifyChain(sqlite3, file, ledger, watch) {
  const walker = new ChainWalker(ledger, watch);
  const report = { ledger, ok: true, count: 0, head_position: 0, head_hash: GENESIS,
    first_bad_position: null, rule: null, problem: null, checkpoint: null };
  try {
    for await (const row of readRows(sqlite3, file)) {
      walker.check(row);
      report.count = walker.expected - 1;
      report.head_position = report.count;
      report.head_hash = walker.previousHash;
    }
  } catch (error) {
    if (!(error instanceof Broken)) throw error;
    Object.assign(report, { ok: false, first_bad_position: walker.expected, rule: error.rule,
      problem: error.message });
  }
  return [report, walker];
}

// ---- section 5: signed checkpoints ----

function strictBase64(text, length, what) {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    return `${what} is not base64`;
  }
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === length ? bytes : `${what} is not ${length} bytes`;
}

// JSON.parse reads 12.0 and 1.2e1 as the integer 12; section 5 wants a whole number, so
// such numbers become a marker object that is neither an integer nor a string.
function markFractions(text) {
  let out = '';
  for (let i = 0; i < text.length;) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      const [token] = text.slice(i).match(/^-?[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]*)?/);
      out += /[.eE]/.test(token) ? `{"not an integer":${JSON.stringify(token)}}` : token;
      i += Math.max(token.length, 1);
    } else { out += char; i += 1; }
  }
  return out;
}

function readError(error) {
  const known = { ENOENT: 'no such file', EISDIR: 'a folder', EACCES: 'not readable' };
  return known[error.code] ?? error.message;
}

function readCheckpoint(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch (error) {
    throw new UsageError(`--checkpoint ${file}: ${readError(error)}`);
  }
  let checkpoint;
  try { checkpoint = JSON.parse(markFractions(text)); } catch {
    throw new UsageError(`--checkpoint ${file}: not JSON`);
  }
  if (checkpoint === null || typeof checkpoint !== 'object' || Array.isArray(checkpoint)) {
    throw new UsageError(`--checkpoint ${file}: not a JSON object`);
  }
  return checkpoint;
}

function readPublicKey(file) {
  let key;
  let pem;
  try { pem = readFileSync(file); } catch (error) {
    throw new UsageError(`--public-key ${file}: ${readError(error)}`);
  }
  try { key = createPublicKey(pem); } catch {
    throw new UsageError(`--public-key ${file}: not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(`--public-key ${file}: not an Ed25519 key`);
  }
  return Buffer.from(key.export({ format: 'jwk' }).x, 'base64url');
}

function ed25519Key(raw) {
  return createPublicKey({ format: 'jwk',
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') } });
}

// Why the checkpoint does not hold, or null. `lookupHash(position)` is the ledger's hash at
// that position, undefined when the ledger is shorter, null when the chain broke before it.
function checkpointProblem(checkpoint, pinnedKey, ledger, lookupHash) {
  const { signature, ...statement } = checkpoint;
  const publicKey = strictBase64(statement.public_key, 32, 'checkpoint public_key');
  const signatureBytes = strictBase64(signature, 64, 'checkpoint signature');
  let signed = null;
  try { signed = Buffer.from(canonical(statement), 'utf8'); } catch (error) {
    if (!(error instanceof NotCanonical)) throw error;
  }
  if (typeof publicKey === 'string' || typeof signatureBytes === 'string' || signed === null
      || !verifySignature(null, signed, ed25519Key(publicKey), signatureBytes)) {
    return 'checkpoint signature does not verify with its public_key';
  }
  if (pinnedKey && !pinnedKey.equals(publicKey)) {
    return 'checkpoint is signed with a different key than the trusted public key';
  }
  if (statement.format !== CHECKPOINT_FORMAT) {
    return `checkpoint format is not ${CHECKPOINT_FORMAT}`;
  }
  if (statement.ledger !== ledger) {
    return `checkpoint is for ledger ${JSON.stringify(statement.ledger)}`;
  }
  if (!isInteger(statement.position) || statement.position < 0 || !isString(statement.hash)) {
    return 'checkpoint position is not a whole number of 0 or more, or its hash no string';
  }
  if (statement.position === 0) return null;
  const hash = lookupHash(statement.position);
  if (hash === null) return 'checkpoint not compared: the chain breaks before its position';
  if (hash === undefined) {
    return `ledger truncated: the checkpoint has record ${statement.position}`;
  }
  if (hash !== statement.hash) {
    return `history rewritten: record ${statement.position}'s hash differs from the checkpoint`;
  }
  return null;
}

// The position a failing checkpoint names, as plpbk verify does: its position (0 when that
// is no whole number), or the first missing record when the ledger is shorter than that.
function checkpointPosition(checkpoint, report) {
  const { position } = checkpoint;
  if (!isInteger(position) || position < 0) return 0;
  return Math.min(position, report.head_position + 1);
}

function addCheckpoint(report, walker, checkpoint, pinnedKey) {
  const chainOk = report.ok;
  const problem = checkpointProblem(checkpoint, pinnedKey, report.ledger, (position) => (
    position <= report.head_position ? walker.watchedHash : (chainOk ? undefined : null)));
  report.checkpoint = { position: checkpoint.position, ok: problem === null, problem };
  if (problem && chainOk) {
    Object.assign(report, { ok: false, first_bad_position: checkpointPosition(checkpoint, report),
      rule: 'checkpoint', problem });
  }
}

// ---- the command ----

function parseArguments(argv) {
  const options = { json: false, sqlite3: 'sqlite3' };
  const files = [];
  const seen = new Set();
  for (let i = 0; i < argv.length; i += 1) {
    const argument = argv[i];
    if (argument === '-h' || argument === '--help') return { help: true };
    if (argument === '--json') options.json = true;
    else if (VALUE_OPTIONS.includes(argument)) {
      if (i + 1 >= argv.length) throw new UsageError(`${argument} needs a value`);
      const name = argument.slice(2).replace('-', '_');
      if (seen.has(name)) throw new UsageError(`${argument} given twice`);
      seen.add(name);
      options[name] = argv[++i];
    } else if (argument.startsWith('-')) throw new UsageError(`no such option: ${argument}`);
    else files.push(argument);
  }
  if (files.length !== 1) throw new UsageError('give exactly one ledger file (LEDGER.db)');
  if (options.public_key && !options.checkpoint) {
    throw new UsageError('--public-key needs --checkpoint');
  }
  [options.file] = files;
  if (!existsSync(options.file) || !statSync(options.file).isFile()) {
    throw new UsageError(`LEDGER.db: ${options.file}: no such file`);
  }
  options.ledger ??= basename(options.file).replace(/\.db$/, '');
  if (!LEDGER_NAME.test(options.ledger)) {
    throw new UsageError(`--ledger: ${JSON.stringify(options.ledger)} is no ledger name`
      + ' (^[a-z][a-z0-9_]{0,39}$); name it with --ledger');
  }
  return options;
}

function print(report, json) {
  if (json) { process.stdout.write(`${JSON.stringify(report, null, 2)}\n`); return; }
  const head = `${report.count} records, head #${report.head_position} ${report.head_hash}`;
  const checkpoint = report.checkpoint ? `; checkpoint #${report.checkpoint.position}`
    + ` ${report.checkpoint.ok ? 'ok' : 'FAILS'}` : '';
  if (report.ok) process.stdout.write(`${report.ledger}: ok, ${head}${checkpoint}\n`);
  else {
    process.stdout.write(`${report.ledger}: BROKEN at ${report.first_bad_position}`
      + ` (rule ${report.rule}): ${report.problem}; verified ${head}${checkpoint}\n`);
  }
}

async function main(argv) {
  let options;
  try {
    options = parseArguments(argv);
    if (options.help) { process.stdout.write(`${USAGE}\n`); return 0; }
    const checkpoint = options.checkpoint ? readCheckpoint(options.checkpoint) : null;
    const pinnedKey = options.public_key ? readPublicKey(options.public_key) : null;
    const watch = isInteger(checkpoint?.position) ? checkpoint.position : 0;
    const [report, walker] = await verifyChain(options.sqlite3, options.file, options.ledger,
      watch);
    if (checkpoint) addCheckpoint(report, walker, checkpoint, pinnedKey);
    print(report, options.json);
    return report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n${argv.length ? '' : `${USAGE}\n`}`);
      return 2;
    }
    if (error instanceof StoreError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 3;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
