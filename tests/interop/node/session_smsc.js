#!/usr/bin/env node
// A misbehaving carrier SMSC for smppgw's session tests, built on the Node `smpp` package
// (an SMPP implementation we did not write). Each behaviour is switched on by an argument:
//
//   --port N --system-id X --password Y       listen and check credentials
//   --refuse-binds N                          answer the first N binds ESME_RINVPASWD
//   --throttle N                              answer the first N submit_sm ESME_RTHROTTLED
//   --no-answer N                             leave the first N submit_sm unanswered
//   --ignore-enquire                          never answer enquire_link (a half-open link)
//   --tls-key F --tls-cert F                  SMPP over TLS with this certificate
//   --tls-ca F                                require a client certificate issued by this CA
//
// Events, one JSON object per line on stdout, each with "t" (ms since the epoch):
//   listening, bind {command, system_id, ok, command_status, tls, authorized},
//   submit_sm {sequence_number, text, answered: "ok"|"throttled"|"none", message_id},
//   enquire_link {answered}, unbind (received from the gateway), unbind_sent {sequence_number},
//   unbind_resp {sequence_number} (the gateway's answer to ours), close, error.
// Commands, one JSON object per line on stdin:
//   {"cmd":"unbind"}   send unbind on every bound session
//   {"cmd":"quit"}
'use strict';

const fs = require('fs');
const readline = require('readline');
const smpp = require('smpp');

const opts = {
  host: '127.0.0.1', port: 0, systemId: '', password: '',
  refuseBinds: 0, throttle: 0, noAnswer: 0, ignoreEnquire: false,
  tlsKey: null, tlsCert: null, tlsCa: null,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const v = argv[i + 1];
  switch (argv[i]) {
    case '--port': opts.port = Number(v); i++; break;
    case '--system-id': opts.systemId = v; i++; break;
    case '--password': opts.password = v; i++; break;
    case '--refuse-binds': opts.refuseBinds = Number(v); i++; break;
    case '--throttle': opts.throttle = Number(v); i++; break;
    case '--no-answer': opts.noAnswer = Number(v); i++; break;
    case '--ignore-enquire': opts.ignoreEnquire = true; break;
    case '--tls-key': opts.tlsKey = v; i++; break;
    case '--tls-cert': opts.tlsCert = v; i++; break;
    case '--tls-ca': opts.tlsCa = v; i++; break;
    default:
      process.stderr.write(`session_smsc.js: unknown argument ${argv[i]}\n`);
      process.exit(2);
  }
}

function emit(obj) {
  process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, obj)) + '\n');
}

function text(pdu) {
  const sm = pdu.short_message;
  if (!sm) return '';
  if (Buffer.isBuffer(sm)) return sm.toString('latin1');
  if (typeof sm === 'object' && sm.message !== undefined) return String(sm.message);
  return String(sm);
}

const sessions = new Set();
let binds = 0;
let submits = 0;
let nextId = 5000000;

function onSession(session) {
  const entry = { session, bound: false };
  const socket = session.socket;
  const tls = typeof socket.getPeerCertificate === 'function';
  session.on('error', (e) => emit({ event: 'error', message: String(e && e.message) }));
  session.on('close', () => { sessions.delete(entry); emit({ event: 'close' }); });

  for (const command of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
    session.on(command, (pdu) => {
      binds += 1;
      let status = smpp.ESME_ROK;
      if (binds <= opts.refuseBinds) status = smpp.ESME_RINVPASWD;
      else if (opts.systemId && pdu.system_id !== opts.systemId) status = smpp.ESME_RINVSYSID;
      else if (opts.password && pdu.password !== opts.password) status = smpp.ESME_RINVPASWD;
      emit({
        event: 'bind', command, system_id: pdu.system_id, ok: status === smpp.ESME_ROK, command_status: status,
        tls, authorized: tls ? Boolean(socket.authorized) : false,
      });
      if (status !== smpp.ESME_ROK) {
        session.send(pdu.response({ command_status: status }), () => session.close());
        return;
      }
      entry.bound = true;
      sessions.add(entry);
      session.send(pdu.response({ system_id: 'misbehave' }));
    });
  }

  session.on('enquire_link', (pdu) => {
    emit({ event: 'enquire_link', answered: !opts.ignoreEnquire });
    if (!opts.ignoreEnquire) session.send(pdu.response());
  });

  session.on('unbind', (pdu) => {
    emit({ event: 'unbind' });
    sessions.delete(entry);
    session.send(pdu.response(), () => session.close());
  });

  session.on('submit_sm', (pdu) => {
    submits += 1;
    const ev = { event: 'submit_sm', sequence_number: pdu.sequence_number, text: text(pdu), destination_addr: pdu.destination_addr };
    if (submits <= opts.noAnswer) {
      emit(Object.assign(ev, { answered: 'none' }));
      return;
    }
    if (submits <= opts.noAnswer + opts.throttle) {
      emit(Object.assign(ev, { answered: 'throttled' }));
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    const messageId = String(nextId++);
    emit(Object.assign(ev, { answered: 'ok', message_id: messageId }));
    session.send(pdu.response({ message_id: messageId }));
  });
}

function sendUnbind() {
  for (const entry of sessions) {
    const pdu = new smpp.PDU('unbind', {});
    entry.session.send(pdu, (resp) => emit({ event: 'unbind_resp', sequence_number: resp.sequence_number, command_status: resp.command_status }));
    emit({ event: 'unbind_sent', sequence_number: pdu.sequence_number });
  }
}

let serverOptions = {};
if (opts.tlsKey && opts.tlsCert) {
  serverOptions = { key: fs.readFileSync(opts.tlsKey), cert: fs.readFileSync(opts.tlsCert) };
  if (opts.tlsCa) {
    serverOptions.ca = fs.readFileSync(opts.tlsCa);
    serverOptions.requestCert = true;
    serverOptions.rejectUnauthorized = true;
  }
}
const server = smpp.createServer(serverOptions, onSession);

function shutdown() {
  for (const entry of sessions) {
    try { entry.session.destroy(); } catch (e) { /* closing anyway */ }
  }
  server.close();
  process.exit(0);
}

const commands = readline.createInterface({ input: process.stdin });
commands.on('close', shutdown);
commands.on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try { cmd = JSON.parse(line); } catch (e) { emit({ event: 'error', message: `bad command: ${line}` }); return; }
  if (cmd.cmd === 'unbind') sendUnbind();
  else if (cmd.cmd === 'quit') shutdown();
  else emit({ event: 'error', message: `unknown command: ${cmd.cmd}` });
});
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
server.on('tlsClientError', (e) => emit({ event: 'tls_error', message: String(e && e.message) }));
server.on('error', (e) => { emit({ event: 'error', message: String(e.message) }); process.exit(1); });
server.listen(opts.port, opts.host, () => emit({ event: 'listening', port: server.address().port }));
