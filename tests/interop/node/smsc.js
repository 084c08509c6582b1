#!/usr/bin/env node
// A carrier SMSC for smppgw's interoperability tests, built on the Node `smpp` package
// (an SMPP implementation we did not write).
//
// Usage: node smsc.js --port N --system-id X --password Y [--receipt-delay-ms N]
//                     [--receipt-stat DELIVRD] [--host 127.0.0.1]
//                     [--reject-prefix PREFIX [--reject-status N]]
//   (a submit_sm whose destination_addr starts with PREFIX is answered with command_status N,
//    default 0x0B ESME_RINVDSTADR, and emitted as {"event":"submit_rejected",...})
//
// It writes one JSON object per line on stdout, one per event:
//   {"event":"listening","port":N}
//   {"event":"bind","command":"bind_transceiver","system_id":"gw","ok":true,"command_status":0}
//   {"event":"submit_sm", source/destination with TON/NPI, esm_class, registered_delivery,
//    data_coding, short_message_hex, text, message_id}
//   {"event":"receipt_sent","message_id":...,"sequence_number":N}
//   {"event":"mo_sent","ref":...,"sequence_number":N}
//   {"event":"deliver_sm_resp","sequence_number":N,"command_status":S,"kind":"receipt"|"mo","ref":...}
//   {"event":"enquire_link"}, {"event":"unbind"}, {"event":"close"}, {"event":"error",...}
// and reads one JSON command per line on stdin:
//   {"cmd":"mo","source_addr":"33611111111","destination_addr":"1234","text":"hi","data_coding":0,
//    "source_addr_ton":1,"source_addr_npi":1,"dest_addr_ton":0,"dest_addr_npi":0,"ref":"x"}
//     (or "short_message_hex" instead of "text": the octets are sent as they are)
//   {"cmd":"quit"}
'use strict';

const readline = require('readline');
const smpp = require('smpp');

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const opts = {
    host: '127.0.0.1',
    port: 0,
    systemId: '',
    password: '',
    receiptDelayMs: 500,
    receiptStat: 'DELIVRD',
    rejectPrefix: null,
    rejectStatus: 0x0b,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    switch (key) {
      case '--host': opts.host = value; i++; break;
      case '--port': opts.port = Number(value); i++; break;
      case '--system-id': opts.systemId = value; i++; break;
      case '--password': opts.password = value; i++; break;
      case '--receipt-delay-ms': opts.receiptDelayMs = Number(value); i++; break;
      case '--receipt-stat': opts.receiptStat = value; i++; break;
      case '--reject-prefix': opts.rejectPrefix = value; i++; break;
      case '--reject-status': opts.rejectStatus = Number(value); i++; break;
      default:
        process.stderr.write(`smsc.js: unknown argument ${key}\n`);
        process.exit(2);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Text: our own GSM 03.38 table (unpacked, one septet per octet), Latin-1 and UCS-2.
// The library's own decoding is kept aside: the tests compare octets.

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXT = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };

function gsmEncode(text, lossy) {
  const out = [];
  for (const ch of text) {
    const basic = GSM_BASIC.indexOf(ch);
    if (basic >= 0 && ch !== '\u001b') {
      out.push(basic);
    } else if (ch in GSM_EXT) {
      out.push(0x1b, GSM_EXT[ch]);
    } else if (lossy) {
      out.push(GSM_BASIC.indexOf('?'));
    } else {
      throw new Error(`character ${JSON.stringify(ch)} is not in GSM 03.38`);
    }
  }
  return Buffer.from(out);
}

function gsmDecode(buf) {
  const extByCode = {};
  for (const [ch, code] of Object.entries(GSM_EXT)) extByCode[code] = ch;
  let s = '';
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] & 0x7f;
    if (b === 0x1b && i + 1 < buf.length) {
      const next = buf[++i] & 0x7f;
      s += extByCode[next] !== undefined ? extByCode[next] : GSM_BASIC[next];
    } else {
      s += b === 0x1b ? ' ' : GSM_BASIC[b];
    }
  }
  return s;
}

function ucs2Encode(text) {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i + 1 < le.length; i += 2) {
    be[i] = le[i + 1];
    be[i + 1] = le[i];
  }
  return be;
}

function ucs2Decode(buf) {
  const le = Buffer.alloc(buf.length - (buf.length % 2));
  for (let i = 0; i + 1 < buf.length; i += 2) {
    le[i] = buf[i + 1];
    le[i + 1] = buf[i];
  }
  return le.toString('utf16le');
}

function encodeText(text, dataCoding) {
  switch (dataCoding & 0xff) {
    case 0: return gsmEncode(text);
    case 1: return Buffer.from(text, 'ascii');
    case 3: return Buffer.from(text, 'latin1');
    case 8: return ucs2Encode(text);
    default: throw new Error(`no text encoding for data_coding ${dataCoding}`);
  }
}

function decodeText(buf, dataCoding) {
  switch (dataCoding & 0xff) {
    case 0: return gsmDecode(buf);
    case 1: return buf.toString('ascii');
    case 3: return buf.toString('latin1');
    case 8: return ucs2Decode(buf);
    default: return null;
  }
}

// Keep the raw octets of short_message / message_payload beside the library's decoded text.
const libraryDecode = smpp.filters.message.decode;
smpp.filters.message.decode = function decodeKeepingRaw(value, skipUdh) {
  let out;
  try {
    out = libraryDecode.call(this, value, skipUdh);
  } catch (e) {
    out = {};
  }
  if (Buffer.isBuffer(value)) {
    if (out === null || typeof out !== 'object' || Buffer.isBuffer(out)) out = {};
    out.raw = value;
  }
  return out;
};

function rawOf(field) {
  if (!field) return Buffer.alloc(0);
  if (Buffer.isBuffer(field)) return field;
  if (Buffer.isBuffer(field.raw)) return field.raw;
  return Buffer.alloc(0);
}

// ---------------------------------------------------------------------------------------------
// Receipts

function two(n) {
  return String(n).padStart(2, '0');
}

function receiptDate(d) {
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) +
    two(d.getUTCHours()) + two(d.getUTCMinutes());
}

const MESSAGE_STATE = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

function receiptText(messageId, submitDate, doneDate, stat, text) {
  const delivered = stat === 'DELIVRD' ? '001' : '000';
  return `id:${messageId} sub:001 dlvrd:${delivered} submit date:${receiptDate(submitDate)} ` +
    `done date:${receiptDate(doneDate)} stat:${stat} err:000 text:${(text || '').slice(0, 20)}`;
}

// ---------------------------------------------------------------------------------------------
// Sessions

const BIND_COMMANDS = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

const sessions = new Set(); // bound sessions: { session, mode }
const pendingReceipts = []; // receipts waiting for a receiver session
const inFlight = new Map(); // "sessionId:seq" -> { kind, ref }
let nextMessageId = 7000000000 + Math.floor(Math.random() * 1000000);
let nextSessionId = 1;

function canReceive(entry) {
  return entry.mode === 'receiver' || entry.mode === 'transceiver';
}

function pickReceiver(preferred) {
  if (preferred && sessions.has(preferred) && canReceive(preferred)) return preferred;
  for (const entry of sessions) if (canReceive(entry)) return entry;
  return null;
}

function sendDeliver(entry, fields, kind, ref) {
  const pdu = new smpp.PDU('deliver_sm', fields);
  const ok = entry.session.send(pdu, (resp) => {
    inFlight.delete(`${entry.id}:${pdu.sequence_number}`);
    emit({
      event: 'deliver_sm_resp',
      kind,
      ref,
      sequence_number: resp.sequence_number,
      command_status: resp.command_status,
    });
  });
  if (ok) inFlight.set(`${entry.id}:${pdu.sequence_number}`, { kind, ref });
  return ok ? pdu.sequence_number : null;
}

function sendReceipt(receipt, entry) {
  const seq = sendDeliver(entry, receipt.fields, 'receipt', receipt.messageId);
  if (seq === null) return false;
  emit({ event: 'receipt_sent', message_id: receipt.messageId, sequence_number: seq });
  return true;
}

function flushReceipts() {
  while (pendingReceipts.length > 0) {
    const entry = pickReceiver(null);
    if (!entry || !sendReceipt(pendingReceipts[0], entry)) return;
    pendingReceipts.shift();
  }
}

function scheduleReceipt(entry, submit, messageId, text) {
  const submitted = new Date();
  setTimeout(() => {
    const stat = opts.receiptStat;
    const body = receiptText(messageId, submitted, new Date(), stat, text);
    const receipt = {
      messageId,
      fields: {
        service_type: '',
        source_addr_ton: submit.dest_addr_ton,
        source_addr_npi: submit.dest_addr_npi,
        source_addr: submit.destination_addr,
        dest_addr_ton: submit.source_addr_ton,
        dest_addr_npi: submit.source_addr_npi,
        destination_addr: submit.source_addr,
        esm_class: 0x04,
        data_coding: 0,
        short_message: gsmEncode(body, true),
        receipted_message_id: messageId,
        message_state: MESSAGE_STATE[stat] || 7,
      },
    };
    const target = pickReceiver(entry);
    if (!target || !sendReceipt(receipt, target)) {
      pendingReceipts.push(receipt);
      emit({ event: 'receipt_queued', message_id: messageId });
    }
  }, opts.receiptDelayMs);
}

function onSession(session) {
  const entry = { id: nextSessionId++, session, mode: null };
  session.on('error', (e) => emit({ event: 'error', session: entry.id, message: String(e && e.message) }));
  session.on('close', () => {
    sessions.delete(entry);
    emit({ event: 'close', session: entry.id });
  });

  for (const command of Object.keys(BIND_COMMANDS)) {
    session.on(command, (pdu) => {
      let status = smpp.ESME_ROK;
      if (entry.mode !== null) status = smpp.ESME_RALYBND;
      else if (opts.systemId && pdu.system_id !== opts.systemId) status = smpp.ESME_RINVSYSID;
      else if (opts.password && pdu.password !== opts.password) status = smpp.ESME_RINVPASWD;
      emit({
        event: 'bind',
        session: entry.id,
        command,
        system_id: pdu.system_id,
        system_type: pdu.system_type,
        interface_version: pdu.interface_version,
        addr_ton: pdu.addr_ton,
        addr_npi: pdu.addr_npi,
        address_range: pdu.address_range,
        ok: status === smpp.ESME_ROK,
        command_status: status,
      });
      if (status !== smpp.ESME_ROK) {
        session.send(pdu.response({ command_status: status }), () => session.close());
        return;
      }
      entry.mode = BIND_COMMANDS[command];
      sessions.add(entry);
      session.send(pdu.response({ system_id: 'nodesmsc' }));
      flushReceipts();
    });
  }

  session.on('enquire_link', (pdu) => {
    emit({ event: 'enquire_link', session: entry.id });
    session.send(pdu.response());
  });

  session.on('unbind', (pdu) => {
    emit({ event: 'unbind', session: entry.id });
    sessions.delete(entry);
    session.send(pdu.response(), () => session.close());
  });

  session.on('submit_sm', (pdu) => {
    if (entry.mode !== 'transmitter' && entry.mode !== 'transceiver') {
      session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      return;
    }
    if (opts.rejectPrefix !== null && String(pdu.destination_addr).startsWith(opts.rejectPrefix)) {
      session.send(pdu.response({ command_status: opts.rejectStatus }), () => {
        emit({ event: 'submit_rejected', session: entry.id, destination_addr: pdu.destination_addr, command_status: opts.rejectStatus });
      });
      return;
    }
    const messageId = String(nextMessageId++);
    let raw = rawOf(pdu.short_message);
    if (raw.length === 0 && pdu.message_payload) raw = rawOf(pdu.message_payload);
    const dataCoding = pdu.data_coding || 0;
    const udhi = (pdu.esm_class & 0x40) !== 0;
    const userData = udhi && raw.length > 0 ? raw.slice(raw[0] + 1) : raw;
    let text = null;
    try {
      text = decodeText(userData, dataCoding);
    } catch (e) {
      text = null;
    }
    const submit = {
      event: 'submit_sm',
      session: entry.id,
      sequence_number: pdu.sequence_number,
      message_id: messageId,
      service_type: pdu.service_type,
      source_addr: pdu.source_addr,
      source_addr_ton: pdu.source_addr_ton,
      source_addr_npi: pdu.source_addr_npi,
      destination_addr: pdu.destination_addr,
      dest_addr_ton: pdu.dest_addr_ton,
      dest_addr_npi: pdu.dest_addr_npi,
      esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      data_coding: dataCoding,
      short_message_hex: raw.toString('hex'),
      text,
    };
    session.send(pdu.response({ message_id: messageId }), () => {
      emit(submit);
      const wanted = pdu.registered_delivery & 0x03;
      const failed = opts.receiptStat !== 'DELIVRD';
      if (wanted === 1 || (wanted === 2 && failed)) scheduleReceipt(entry, pdu, messageId, text);
    });
  });

  session.on('deliver_sm_resp', () => {}); // answered through the send callback

  session.on('pdu', (pdu) => {
    if (pdu.command === 'unknown') {
      emit({ event: 'unknown_pdu', session: entry.id, command_id: pdu.command_id });
      session.send(pdu.response());
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Commands on stdin

function injectMo(cmd) {
  const entry = pickReceiver(null);
  const ref = cmd.ref === undefined ? null : cmd.ref;
  if (!entry) {
    emit({ event: 'mo_failed', ref, reason: 'no bound receiver or transceiver session' });
    return;
  }
  const dataCoding = cmd.data_coding === undefined ? 0 : cmd.data_coding;
  let shortMessage;
  try {
    shortMessage = cmd.short_message_hex !== undefined
      ? Buffer.from(cmd.short_message_hex, 'hex')
      : encodeText(cmd.text || '', dataCoding);
  } catch (e) {
    emit({ event: 'mo_failed', ref, reason: String(e.message) });
    return;
  }
  const seq = sendDeliver(entry, {
    service_type: '',
    source_addr_ton: cmd.source_addr_ton || 0,
    source_addr_npi: cmd.source_addr_npi || 0,
    source_addr: cmd.source_addr || '',
    dest_addr_ton: cmd.dest_addr_ton || 0,
    dest_addr_npi: cmd.dest_addr_npi || 0,
    destination_addr: cmd.destination_addr || '',
    esm_class: cmd.esm_class || 0,
    data_coding: dataCoding,
    short_message: shortMessage,
  }, 'mo', ref);
  if (seq === null) emit({ event: 'mo_failed', ref, reason: 'socket not writable' });
  else emit({ event: 'mo_sent', ref, session: entry.id, sequence_number: seq, short_message_hex: shortMessage.toString('hex') });
}

const server = smpp.createServer(onSession);

function shutdown() {
  for (const entry of sessions) {
    try { entry.session.destroy(); } catch (e) { /* closing anyway */ }
  }
  server.close();
  process.exit(0);
}

const commands = readline.createInterface({ input: process.stdin });
// The tests drive the process through stdin: when they go away, so does the SMSC.
commands.on('close', shutdown);
commands.on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    emit({ event: 'error', message: `bad command: ${line}` });
    return;
  }
  if (cmd.cmd === 'mo') injectMo(cmd);
  else if (cmd.cmd === 'quit') shutdown();
  else emit({ event: 'error', message: `unknown command: ${cmd.cmd}` });
});

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.on('error', (e) => {
  emit({ event: 'error', message: String(e.message) });
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  emit({ event: 'listening', host: opts.host, port: server.address().port });
});
