#!/usr/bin/env node
// The Node `smpp` package's own PDU codec, for smppgw's differential codec tests
// (tests/interop/test_codec_diff.py): one JSON request per line on stdin, one JSON answer per
// line on stdout.
//
//   {"op":"encode","command":"submit_sm","fields":{...}}  ->  {"hex":"..."}
//     Field values are given as the package takes them; {"hex":"..."} becomes a Buffer (raw
//     octets, e.g. short_message), anything else is passed as it is.
//   {"op":"decode","hex":"..."}  ->  {"command":"submit_sm","fields":{...}}
//     Every property the package decoded: Buffers as {"hex":"..."}, short_message and
//     message_payload as the package's filters give them ({"message": text or {"hex"}, "udh"}),
//     times (schedule_delivery_time, validity_period, final_date) as {"date": ISO 8601}.
//   Any failure -> {"error":"..."}
'use strict';

const readline = require('readline');
const { PDU } = require('smpp/lib/pdu');

function fromJson(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    if (typeof v.hex === 'string' && Object.keys(v).length === 1) {
      return Buffer.from(v.hex, 'hex');
    }
    const out = {};
    for (const k of Object.keys(v)) out[k] = fromJson(v[k]);
    return out;
  }
  if (Array.isArray(v)) return v.map(fromJson);
  return v;
}

function toJson(v) {
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (v instanceof Date) return { date: v.toISOString() };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) out[k] = toJson(v[k]);
    return out;
  }
  return v;
}

function handle(req) {
  if (req.op === 'encode') {
    const pdu = new PDU(req.command, fromJson(req.fields || {}));
    return { hex: pdu.toBuffer().toString('hex') };
  }
  if (req.op === 'decode') {
    const pdu = PDU.fromBuffer(Buffer.from(req.hex, 'hex'));
    if (!pdu) return { error: 'incomplete PDU' };
    const fields = {};
    for (const k of Object.keys(pdu)) {
      if (k !== 'command') fields[k] = toJson(pdu[k]);
    }
    return { command: pdu.command, fields };
  }
  return { error: `unknown op ${req.op}` };
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let answer;
  try {
    answer = handle(JSON.parse(line));
  } catch (e) {
    answer = { error: String(e && e.stack ? e.stack : e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
