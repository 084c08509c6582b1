//! PDUs as JSON, for `smppgw pdu decode <hex>` and `smppgw pdu encode` (issue 3 §10): the tool an
//! operator points at a capture.
//!
//! One JSON object per PDU. The header comes first — `command_length` (informative),
//! `command_id` (the spec name, e.g. `"submit_sm"`), `command_status` (`"ESME_ROK"`, or a number
//! for codes without a name), `sequence_number` — then the body's fields, flat, **named and
//! ordered as in the spec** (SMPP 3.4 §4, v5.0 §4). Values:
//!
//! - integers (`esm_class`, `data_coding`, …) are JSON numbers;
//! - C-Octet Strings are JSON strings; a value that is not UTF-8 is `{"hex": "…"}`;
//! - `short_message` is `{"hex": "…", "text": "…"}`: the octets, and the text decoded by
//!   `data_coding` (UDH stripped, national shift tables applied) when it is text; a UDH is
//!   described in `"udh"`; a receipt's fields in `"receipt"`;
//! - `tlvs` is a list of `{"tag": "receipted_message_id", "value": …, "hex": "…"}` — `tag` the
//!   spec name, or `"0x1400"` for vendor and unknown tags; `value` typed by the tag's format
//!   (number, string, object for composite values), `hex` the value octets. `message_payload`
//!   also gets a `"text"`.
//!
//! Reading it back ([`frame_from_json`]) needs only what identifies the bytes: `command_id`,
//! `sequence_number`, optionally `command_status`, and the body fields (missing ones take
//! their default: 0, empty string). Where both are given, `hex` wins over `text` and `value`, so
//! `encode(decode(x)) == x` for every PDU; `text` alone is encoded with `data_coding` (the
//! bind's alphabet for 0, see [`JsonOptions`]).

use bytes::Bytes;
use serde_json::{Map, Value};
use smpp_codec::command::{command_id_by_name, command_name};
use smpp_codec::pdu::{
    AlertNotification, Bind, BindResp, BroadcastSm, BroadcastSmResp, CancelBroadcastSm, CancelSm,
    DataSm, DeliverSmResp, DestAddress, Frame, Outbind, Pdu, QueryBroadcastSm, QuerySm,
    QuerySmResp, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp, UnsuccessSme,
};
use smpp_codec::receipt::DeliveryReceipt;
use smpp_codec::status::CommandStatus;
use smpp_codec::text::{self, national::NationalShift, DefaultAlphabet};
use smpp_codec::tlv::{self, tags, TlvValue, Tlvs};
use smpp_codec::types::COctetString;
use smpp_codec::udh;

/// JSON whose objects keep their fields in the order they were built (spec order), unlike
/// `serde_json::Map`; serialize it with `serde_json::to_string_pretty`.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// A leaf value (number, string, bool, null).
    Leaf(Value),
    /// An object, fields in order.
    Object(Vec<(String, Json)>),
    /// A list.
    List(Vec<Json>),
}

impl Json {
    /// The same document as a `serde_json::Value` (objects sorted by key).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Leaf(v) => v.clone(),
            Json::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
            Json::List(items) => Value::Array(items.iter().map(Json::to_value).collect()),
        }
    }

    /// The field `k` of an object.
    pub fn get(&self, k: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<T: Into<Value>> From<T> for Json {
    fn from(v: T) -> Self {
        Json::Leaf(v.into())
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Leaf(v) => v.serialize(ser),
            Json::Object(fields) => {
                let mut m = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Json::List(items) => {
                let mut l = ser.serialize_seq(Some(items.len()))?;
                for v in items {
                    l.serialize_element(v)?;
                }
                l.end()
            }
        }
    }
}

/// An ordered object literal: `obj!["a" => 1, "b" => "x"]`.
macro_rules! obj {
    ($($k:expr => $v:expr),* $(,)?) => {
        Json::Object(vec![$(($k.to_string(), Json::from($v))),*])
    };
}

/// How texts are read and written (the bind's settings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// What `data_coding` 0 means.
    pub default_alphabet: DefaultAlphabet,
}

/// A JSON document that does not describe a PDU: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct PduJsonError {
    /// The field (dotted path, e.g. `tlvs[2].value`).
    pub field: String,
    /// What is wrong with it.
    pub why: String,
}

fn err(field: impl Into<String>, why: impl Into<String>) -> PduJsonError {
    PduJsonError {
        field: field.into(),
        why: why.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// hex

/// Lower-case hex of `b`.
pub fn to_hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 0x0F)]));
    }
    s
}

/// Octets from hex as captures print it: case-insensitive, with or without `0x`, spaces,
/// colons, dashes or newlines between the digits.
///
/// # Errors
/// A message naming the first character that is not a hex digit, or an odd digit count.
pub fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let mut digits = Vec::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            ' ' | '\t' | '\n' | '\r' | ':' | '-' => {}
            _ => match c.to_digit(16) {
                Some(d) => digits.push(d as u8),
                None => return Err(format!("{c:?} at offset {i} is not a hex digit")),
            },
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

// ---------------------------------------------------------------------------------------------
// PDU → JSON

fn cstr_json(c: &COctetString) -> Json {
    match std::str::from_utf8(c.as_bytes()) {
        Ok(s) => Json::from(s),
        Err(_) => obj!["hex" => to_hex(c.as_bytes())],
    }
}

/// The text of user data (UDH stripped when `esm_class` has UDHI), if it is text.
fn user_text(
    data_coding: u8,
    esm_class: u8,
    data: &[u8],
    opts: &JsonOptions,
) -> (Option<String>, Option<Json>) {
    let mut body = data;
    let mut shift = NationalShift::NONE;
    let mut udh_json = None;
    if esm_class & 0x40 != 0 {
        if let Some(n) = udh::udh_len(data) {
            body = &data[n..];
            shift = NationalShift::from_udh(data);
            let mut u = vec![("hex".to_string(), Json::from(to_hex(&data[..n])))];
            if let Some(c) = udh::concat_info(data) {
                u.push(("reference".into(), c.reference.into()));
                u.push(("total".into(), c.total.into()));
                u.push(("seqnum".into(), c.seqnum.into()));
            }
            if let Some(l) = shift.single {
                u.push(("national_single_shift".into(), l.into()));
            }
            if let Some(l) = shift.locking {
                u.push(("national_locking_shift".into(), l.into()));
            }
            udh_json = Some(Json::Object(u));
        }
    }
    let text = if shift.is_none() {
        text::decode_with_default(opts.default_alphabet, data_coding, body).ok()
    } else {
        text::decode_with_shift(data_coding, body, shift.single, shift.locking).ok()
    };
    (text, udh_json)
}

/// `hex`, then `text`, `udh` and `receipt` when they apply.
fn user_data_fields(
    data_coding: u8,
    esm_class: u8,
    data: &[u8],
    opts: &JsonOptions,
) -> Vec<(String, Json)> {
    let mut m = vec![("hex".to_string(), Json::from(to_hex(data)))];
    let (text, udh) = user_text(data_coding, esm_class, data, opts);
    let receipt = text
        .as_deref()
        .filter(|_| esm_class & 0x3C == 0x04)
        .and_then(DeliveryReceipt::parse);
    if let Some(t) = text {
        m.push(("text".into(), t.into()));
    }
    if let Some(u) = udh {
        m.push(("udh".into(), u));
    }
    if let Some(r) = receipt {
        m.push(("receipt".into(), receipt_json(&r)));
    }
    m
}

fn user_data_json(data_coding: u8, esm_class: u8, data: &[u8], opts: &JsonOptions) -> Json {
    Json::Object(user_data_fields(data_coding, esm_class, data, opts))
}

fn receipt_json(r: &DeliveryReceipt) -> Json {
    obj![
        "id" => r.id.as_str(), "sub" => r.sub.as_str(), "dlvrd" => r.dlvrd.as_str(),
        "submit date" => r.submit_date.as_str(), "done date" => r.done_date.as_str(),
        "stat" => r.stat.as_str(), "err" => r.err.as_str(), "text" => r.text.as_str(),
        "message_state" => r.message_state(),
    ]
}

fn tlv_value_json(v: &TlvValue) -> Json {
    match v {
        TlvValue::Empty => Json::Leaf(Value::Null),
        TlvValue::U8(x) => (*x).into(),
        TlvValue::U16(x) => (*x).into(),
        TlvValue::U32(x) => (*x).into(),
        TlvValue::Text(t) => cstr_json(t),
        TlvValue::Octets(b) => to_hex(b).into(),
        TlvValue::NetworkErrorCode {
            network_type,
            error_code,
        } => obj!["network_type" => *network_type, "error_code" => *error_code],
        TlvValue::BroadcastContentType {
            network_type,
            content_type,
        } => obj!["network_type" => *network_type, "content_type" => *content_type],
        TlvValue::BroadcastFrequencyInterval { time_unit, number } => {
            obj!["time_unit" => *time_unit, "number" => *number]
        }
        TlvValue::Prefixed { prefix, data } => obj!["prefix" => *prefix, "data" => to_hex(data)],
        TlvValue::CallbackNum {
            digit_mode,
            ton,
            npi,
            number,
        } => {
            obj!["digit_mode" => *digit_mode, "ton" => *ton, "npi" => *npi, "number" => String::from_utf8_lossy(number).into_owned()]
        }
        TlvValue::MsValidity { behaviour, period } => match period {
            None => obj!["behaviour" => *behaviour],
            Some((unit, n)) => {
                obj!["behaviour" => *behaviour, "time_unit" => *unit, "number" => *n]
            }
        },
        TlvValue::ItsSessionInfo {
            session_number,
            sequence_number,
            end_of_session,
        } => {
            obj!["session_number" => *session_number, "sequence_number" => *sequence_number, "end_of_session" => *end_of_session]
        }
    }
}

fn tag_json(tag: u16) -> Json {
    match tlv::tag_name(tag) {
        Some(n) => n.into(),
        None => format!("0x{tag:04X}").into(),
    }
}

fn tlvs_json(tlvs: &Tlvs, data_coding: u8, esm_class: u8, opts: &JsonOptions) -> Json {
    Json::List(
        tlvs.typed()
            .map(|(t, v)| {
                let mut m = vec![("tag".to_string(), tag_json(t.tag))];
                match v {
                    Ok(v) => m.push(("value".into(), tlv_value_json(&v))),
                    Err(e) => m.push(("error".into(), e.to_string().into())),
                }
                m.push(("hex".into(), to_hex(&t.value).into()));
                if t.tag == tags::MESSAGE_PAYLOAD {
                    m.extend(
                        user_data_fields(data_coding, esm_class, &t.value, opts)
                            .into_iter()
                            .filter(|(k, _)| k != "hex"),
                    );
                }
                Json::Object(m)
            })
            .collect(),
    )
}

/// Builds an object in field order.
struct Obj(Vec<(String, Json)>);

impl Obj {
    fn put(&mut self, k: &str, v: impl Into<Json>) -> &mut Self {
        self.0.push((k.to_string(), v.into()));
        self
    }
    fn s(&mut self, k: &str, c: &COctetString) -> &mut Self {
        self.0.push((k.to_string(), cstr_json(c)));
        self
    }
    /// An address triple under its spec names (see [`Addr`]).
    fn addr(&mut self, which: Addr, ton: u8, npi: u8, addr: &COctetString) -> &mut Self {
        let [t, n, a] = which.names();
        self.put(t, ton).put(n, npi).s(a, addr)
    }
}

/// The three address triples of SMPP bodies (TON, NPI, address), by their spec field names.
#[derive(Clone, Copy)]
enum Addr {
    Source,
    Dest,
    Esme,
}

impl Addr {
    fn names(self) -> [&'static str; 3] {
        match self {
            Addr::Source => ["source_addr_ton", "source_addr_npi", "source_addr"],
            Addr::Dest => ["dest_addr_ton", "dest_addr_npi", "destination_addr"],
            Addr::Esme => ["esme_addr_ton", "esme_addr_npi", "esme_addr"],
        }
    }
}

fn sm_json(o: &mut Obj, sm: &SubmitSm, opts: &JsonOptions) {
    o.s("service_type", &sm.service_type)
        .addr(
            Addr::Source,
            sm.source_addr_ton,
            sm.source_addr_npi,
            &sm.source_addr,
        )
        .addr(
            Addr::Dest,
            sm.dest_addr_ton,
            sm.dest_addr_npi,
            &sm.destination_addr,
        );
    message_tail_json(
        o,
        sm.esm_class,
        sm.protocol_id,
        sm.priority_flag,
        &sm.schedule_delivery_time,
        &sm.validity_period,
        [
            sm.registered_delivery,
            sm.replace_if_present_flag,
            sm.data_coding,
            sm.sm_default_msg_id,
        ],
        &sm.short_message,
    );
    o.put(
        "short_message",
        user_data_json(sm.data_coding, sm.esm_class, &sm.short_message, opts),
    );
    o.put(
        "tlvs",
        tlvs_json(&sm.tlvs, sm.data_coding, sm.esm_class, opts),
    );
}

#[allow(clippy::too_many_arguments)]
fn message_tail_json(
    o: &mut Obj,
    esm_class: u8,
    protocol_id: u8,
    priority_flag: u8,
    schedule: &COctetString,
    validity: &COctetString,
    [registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id]: [u8; 4],
    short_message: &[u8],
) {
    o.put("esm_class", esm_class)
        .put("protocol_id", protocol_id)
        .put("priority_flag", priority_flag)
        .s("schedule_delivery_time", schedule)
        .s("validity_period", validity)
        .put("registered_delivery", registered_delivery)
        .put("replace_if_present_flag", replace_if_present_flag)
        .put("data_coding", data_coding)
        .put("sm_default_msg_id", sm_default_msg_id)
        .put("sm_length", short_message.len().min(255));
}

/// A PDU as JSON (see the module documentation).
pub fn frame_to_json(frame: &Frame, opts: &JsonOptions) -> Json {
    let mut o = Obj(Vec::new());
    o.put("command_length", frame.encoded_len())
        .put("command_id", frame.pdu.name())
        .put(
            "command_status",
            match frame.command_status.name() {
                Some(n) => Json::from(n),
                None => Json::from(frame.command_status.0),
            },
        )
        .put("sequence_number", frame.sequence_number);
    match &frame.pdu {
        Pdu::BindTransmitter(b) | Pdu::BindReceiver(b) | Pdu::BindTransceiver(b) => {
            o.s("system_id", &b.system_id)
                .s("password", &b.password)
                .s("system_type", &b.system_type)
                .put("interface_version", b.interface_version)
                .put("addr_ton", b.addr_ton)
                .put("addr_npi", b.addr_npi)
                .s("address_range", &b.address_range);
        }
        Pdu::BindTransmitterResp(b) | Pdu::BindReceiverResp(b) | Pdu::BindTransceiverResp(b) => {
            o.s("system_id", &b.system_id)
                .put("tlvs", tlvs_json(&b.tlvs, 0, 0, opts));
        }
        Pdu::Outbind(b) => {
            o.s("system_id", &b.system_id).s("password", &b.password);
        }
        Pdu::Unbind
        | Pdu::UnbindResp
        | Pdu::EnquireLink
        | Pdu::EnquireLinkResp
        | Pdu::GenericNack
        | Pdu::CancelSmResp
        | Pdu::ReplaceSmResp
        | Pdu::CancelBroadcastSmResp => {}
        Pdu::SubmitSm(sm) | Pdu::DeliverSm(sm) => sm_json(&mut o, sm, opts),
        Pdu::SubmitSmResp(r) | Pdu::DataSmResp(r) => {
            o.s("message_id", &r.message_id)
                .put("tlvs", tlvs_json(&r.tlvs, 0, 0, opts));
        }
        Pdu::DeliverSmResp(r) => {
            o.s("message_id", &r.message_id);
        }
        Pdu::DataSm(d) => {
            o.s("service_type", &d.service_type)
                .addr(
                    Addr::Source,
                    d.source_addr_ton,
                    d.source_addr_npi,
                    &d.source_addr,
                )
                .addr(
                    Addr::Dest,
                    d.dest_addr_ton,
                    d.dest_addr_npi,
                    &d.destination_addr,
                )
                .put("esm_class", d.esm_class)
                .put("registered_delivery", d.registered_delivery)
                .put("data_coding", d.data_coding)
                .put("tlvs", tlvs_json(&d.tlvs, d.data_coding, d.esm_class, opts));
        }
        Pdu::SubmitMulti(m) => {
            o.s("service_type", &m.service_type)
                .addr(Addr::Source, m.source_addr_ton, m.source_addr_npi, &m.source_addr)
                .put("number_of_dests", m.dest_addresses.len())
                .put(
                    "dest_address",
                    Json::List(
                        m.dest_addresses
                            .iter()
                            .map(|d| match d {
                                DestAddress::Sme { dest_addr_ton, dest_addr_npi, destination_addr } => obj![
                                    "dest_flag" => 1, "dest_addr_ton" => *dest_addr_ton, "dest_addr_npi" => *dest_addr_npi,
                                    "destination_addr" => cstr_json(destination_addr),
                                ],
                                DestAddress::DistributionList(name) => obj!["dest_flag" => 2, "dl_name" => cstr_json(name)],
                            })
                            .collect(),
                    ),
                );
            message_tail_json(
                &mut o,
                m.esm_class,
                m.protocol_id,
                m.priority_flag,
                &m.schedule_delivery_time,
                &m.validity_period,
                [
                    m.registered_delivery,
                    m.replace_if_present_flag,
                    m.data_coding,
                    m.sm_default_msg_id,
                ],
                &m.short_message,
            );
            o.put(
                "short_message",
                user_data_json(m.data_coding, m.esm_class, &m.short_message, opts),
            );
            o.put("tlvs", tlvs_json(&m.tlvs, m.data_coding, m.esm_class, opts));
        }
        Pdu::SubmitMultiResp(r) => {
            o.s("message_id", &r.message_id)
                .put("no_unsuccess", r.unsuccess_smes.len())
                .put(
                    "unsuccess_sme",
                    Json::List(
                        r.unsuccess_smes
                            .iter()
                            .map(|u| {
                                obj![
                                    "dest_addr_ton" => u.dest_addr_ton, "dest_addr_npi" => u.dest_addr_npi,
                                    "destination_addr" => cstr_json(&u.destination_addr),
                                    "error_status_code" => u.error_status_code.name().map(Json::from).unwrap_or_else(|| Json::from(u.error_status_code.0)),
                                ]
                            })
                            .collect(),
                    ),
                )
                .put("tlvs", tlvs_json(&r.tlvs, 0, 0, opts));
        }
        Pdu::QuerySm(q) => {
            o.s("message_id", &q.message_id).addr(
                Addr::Source,
                q.source_addr_ton,
                q.source_addr_npi,
                &q.source_addr,
            );
        }
        Pdu::QuerySmResp(q) => {
            o.s("message_id", &q.message_id)
                .s("final_date", &q.final_date)
                .put("message_state", q.message_state)
                .put("error_code", q.error_code);
        }
        Pdu::CancelSm(c) => {
            o.s("service_type", &c.service_type)
                .s("message_id", &c.message_id)
                .addr(
                    Addr::Source,
                    c.source_addr_ton,
                    c.source_addr_npi,
                    &c.source_addr,
                )
                .addr(
                    Addr::Dest,
                    c.dest_addr_ton,
                    c.dest_addr_npi,
                    &c.destination_addr,
                );
        }
        Pdu::ReplaceSm(r) => {
            o.s("message_id", &r.message_id)
                .addr(
                    Addr::Source,
                    r.source_addr_ton,
                    r.source_addr_npi,
                    &r.source_addr,
                )
                .s("schedule_delivery_time", &r.schedule_delivery_time)
                .s("validity_period", &r.validity_period)
                .put("registered_delivery", r.registered_delivery)
                .put("sm_default_msg_id", r.sm_default_msg_id)
                .put("sm_length", r.short_message.len().min(255))
                .put(
                    "short_message",
                    user_data_json(0, 0, &r.short_message, opts),
                )
                .put("tlvs", tlvs_json(&r.tlvs, 0, 0, opts));
        }
        Pdu::AlertNotification(a) => {
            o.addr(
                Addr::Source,
                a.source_addr_ton,
                a.source_addr_npi,
                &a.source_addr,
            )
            .addr(Addr::Esme, a.esme_addr_ton, a.esme_addr_npi, &a.esme_addr)
            .put("tlvs", tlvs_json(&a.tlvs, 0, 0, opts));
        }
        Pdu::BroadcastSm(b) => {
            o.s("service_type", &b.service_type)
                .addr(
                    Addr::Source,
                    b.source_addr_ton,
                    b.source_addr_npi,
                    &b.source_addr,
                )
                .s("message_id", &b.message_id)
                .put("priority_flag", b.priority_flag)
                .s("schedule_delivery_time", &b.schedule_delivery_time)
                .s("validity_period", &b.validity_period)
                .put("replace_if_present_flag", b.replace_if_present_flag)
                .put("data_coding", b.data_coding)
                .put("sm_default_msg_id", b.sm_default_msg_id)
                .put("tlvs", tlvs_json(&b.tlvs, b.data_coding, 0, opts));
        }
        Pdu::BroadcastSmResp(r) | Pdu::QueryBroadcastSmResp(r) => {
            o.s("message_id", &r.message_id)
                .put("tlvs", tlvs_json(&r.tlvs, 0, 0, opts));
        }
        Pdu::QueryBroadcastSm(q) => {
            o.s("message_id", &q.message_id)
                .addr(
                    Addr::Source,
                    q.source_addr_ton,
                    q.source_addr_npi,
                    &q.source_addr,
                )
                .put("tlvs", tlvs_json(&q.tlvs, 0, 0, opts));
        }
        Pdu::CancelBroadcastSm(c) => {
            o.s("service_type", &c.service_type)
                .s("message_id", &c.message_id)
                .addr(
                    Addr::Source,
                    c.source_addr_ton,
                    c.source_addr_npi,
                    &c.source_addr,
                )
                .put("tlvs", tlvs_json(&c.tlvs, 0, 0, opts));
        }
    }
    Json::Object(o.0)
}

// ---------------------------------------------------------------------------------------------
// JSON → PDU

/// Reads fields of one object, naming them in errors.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    fn new(v: &'a Value, path: &str) -> Result<Self, PduJsonError> {
        match v {
            Value::Object(map) => Ok(Fields {
                map,
                path: path.to_string(),
            }),
            _ => Err(err(
                if path.is_empty() { "(document)" } else { path },
                "must be a JSON object",
            )),
        }
    }

    fn name(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    fn get(&self, k: &str) -> Option<&'a Value> {
        self.map.get(k).filter(|v| !v.is_null())
    }

    fn uint(&self, k: &str, max: u64) -> Result<u64, PduJsonError> {
        match self.get(k) {
            None => Ok(0),
            Some(v) => uint_value(v, max).map_err(|why| err(self.name(k), why)),
        }
    }

    fn u8(&self, k: &str) -> Result<u8, PduJsonError> {
        Ok(self.uint(k, 0xFF)? as u8)
    }

    fn cstr(&self, k: &str) -> Result<COctetString, PduJsonError> {
        match self.get(k) {
            None => Ok(COctetString::default()),
            Some(Value::String(s)) => {
                if s.contains('\0') {
                    return Err(err(self.name(k), "a C-Octet String cannot contain NUL"));
                }
                Ok(COctetString::from(s.as_str()))
            }
            Some(v @ Value::Object(_)) => {
                let b = hex_field(v, &self.name(k))?;
                if b.contains(&0) {
                    return Err(err(self.name(k), "a C-Octet String cannot contain NUL"));
                }
                Ok(COctetString::from(b))
            }
            Some(_) => Err(err(self.name(k), "must be a string or {\"hex\": …}")),
        }
    }

    fn status(&self, k: &str) -> Result<CommandStatus, PduJsonError> {
        match self.get(k) {
            None => Ok(CommandStatus::ESME_ROK),
            Some(Value::String(s)) if !s.starts_with("0x") => CommandStatus::from_name(s)
                .ok_or_else(|| err(self.name(k), format!("unknown status name {s:?}"))),
            Some(v) => Ok(CommandStatus(
                uint_value(v, u64::from(u32::MAX)).map_err(|why| err(self.name(k), why))? as u32,
            )),
        }
    }

    fn array(&self, k: &str) -> Result<&'a [Value], PduJsonError> {
        match self.get(k) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(err(self.name(k), "must be a list")),
        }
    }
}

/// A number, or a string holding a decimal or `0x…` hex number.
fn uint_value(v: &Value, max: u64) -> Result<u64, String> {
    let n = match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("{n} is not a non-negative integer"))?,
        Value::String(s) => {
            let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            parsed.map_err(|_| format!("{s:?} is not a number"))?
        }
        Value::Bool(b) => u64::from(*b),
        _ => return Err("must be a number".into()),
    };
    if n > max {
        return Err(format!("{n} exceeds {max}"));
    }
    Ok(n)
}

fn hex_field(v: &Value, name: &str) -> Result<Vec<u8>, PduJsonError> {
    match v.get("hex") {
        Some(Value::String(h)) => from_hex(h).map_err(|why| err(format!("{name}.hex"), why)),
        _ => Err(err(name, "expected {\"hex\": \"…\"}")),
    }
}

/// User data from `{"hex"}` or `{"text"}` / a plain string, text encoded with `data_coding`.
fn user_data_from(
    v: Option<&Value>,
    name: &str,
    data_coding: u8,
    opts: &JsonOptions,
) -> Result<Bytes, PduJsonError> {
    let text_of = |t: &str| {
        text::encode_with_default(opts.default_alphabet, data_coding, t)
            .map(Bytes::from)
            .map_err(|e| err(name, e.to_string()))
    };
    match v {
        None | Some(Value::Null) => Ok(Bytes::new()),
        Some(Value::String(t)) => text_of(t),
        Some(o @ Value::Object(m)) => {
            if m.contains_key("hex") {
                Ok(Bytes::from(hex_field(o, name)?))
            } else if let Some(Value::String(t)) = m.get("text") {
                text_of(t)
            } else {
                Err(err(name, "expected \"hex\" or \"text\""))
            }
        }
        Some(_) => Err(err(
            name,
            "must be a string or an object with \"hex\" or \"text\"",
        )),
    }
}

fn tag_from(v: &Value, name: &str) -> Result<u16, PduJsonError> {
    match v {
        Value::String(s)
            if !s.starts_with("0x") && !s.starts_with("0X") && s.parse::<u64>().is_err() =>
        {
            tlv::tag_by_name(s).ok_or_else(|| {
                err(
                    name,
                    format!("unknown TLV name {s:?} (write vendor tags as \"0x1400\")"),
                )
            })
        }
        v => Ok(uint_value(v, 0xFFFF).map_err(|why| err(name, why))? as u16),
    }
}

/// A typed TLV value from its JSON (see [`tlv_value_json`]).
fn tlv_value_from(tag: u16, v: &Value, name: &str) -> Result<TlvValue, PduJsonError> {
    use smpp_codec::tlv::TlvFormat as F;
    let f = Fields::new(v, name).ok();
    let num = |max| uint_value(v, max).map_err(|why| err(name, why));
    let field = |k: &str| -> Result<u64, PduJsonError> {
        f.as_ref()
            .ok_or_else(|| err(name, "must be an object"))?
            .uint(k, 0xFFFF)
    };
    let hex_str = |s: &Value| match s {
        Value::String(h) => from_hex(h).map(Bytes::from).map_err(|why| err(name, why)),
        _ => Err(err(name, "must be a hex string")),
    };
    let Some(def) = tlv::definition(tag) else {
        return Ok(TlvValue::Octets(hex_str(v)?));
    };
    Ok(match def.format {
        F::U8 => TlvValue::U8(num(0xFF)? as u8),
        F::U16 => TlvValue::U16(num(0xFFFF)? as u16),
        F::U32 => TlvValue::U32(num(u64::from(u32::MAX))? as u32),
        F::Text => match v {
            Value::String(s) => TlvValue::Text(COctetString::from(s.as_str())),
            _ => TlvValue::Text(COctetString::from(hex_field(v, name)?)),
        },
        F::Octets => TlvValue::Octets(hex_str(v)?),
        F::NetworkErrorCode => TlvValue::NetworkErrorCode {
            network_type: field("network_type")? as u8,
            error_code: field("error_code")? as u16,
        },
        F::BroadcastContentType => TlvValue::BroadcastContentType {
            network_type: field("network_type")? as u8,
            content_type: field("content_type")? as u16,
        },
        F::BroadcastFrequencyInterval => TlvValue::BroadcastFrequencyInterval {
            time_unit: field("time_unit")? as u8,
            number: field("number")? as u16,
        },
        F::Prefixed => TlvValue::Prefixed {
            prefix: field("prefix")? as u8,
            data: hex_str(v.get("data").unwrap_or(&Value::String(String::new())))?,
        },
        F::CallbackNum => TlvValue::CallbackNum {
            digit_mode: field("digit_mode")? as u8,
            ton: field("ton")? as u8,
            npi: field("npi")? as u8,
            number: Bytes::from(
                v.get("number")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec(),
            ),
        },
        F::MsValidity => TlvValue::MsValidity {
            behaviour: field("behaviour")? as u8,
            period: match v.get("time_unit") {
                Some(_) => Some((field("time_unit")? as u8, field("number")? as u16)),
                None => None,
            },
        },
        F::OptionalU8 => match v {
            Value::Null => TlvValue::Empty,
            _ => TlvValue::U8(num(0xFF)? as u8),
        },
        F::ItsSessionInfo => TlvValue::ItsSessionInfo {
            session_number: field("session_number")? as u8,
            sequence_number: field("sequence_number")? as u8,
            end_of_session: v
                .get("end_of_session")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
    })
}

fn tlvs_from(f: &Fields<'_>, data_coding: u8, opts: &JsonOptions) -> Result<Tlvs, PduJsonError> {
    let mut tlvs = Tlvs::new();
    for (i, item) in f.array("tlvs")?.iter().enumerate() {
        let name = f.name(&format!("tlvs[{i}]"));
        let t = Fields::new(item, &name)?;
        let tag = tag_from(
            t.get("tag").ok_or_else(|| err(t.name("tag"), "missing"))?,
            &t.name("tag"),
        )?;
        let value: Vec<u8> = if let Some(h) = t.get("hex") {
            match h {
                Value::String(h) => from_hex(h).map_err(|why| err(t.name("hex"), why))?,
                _ => return Err(err(t.name("hex"), "must be a hex string")),
            }
        } else if let (true, Some(Value::String(text))) =
            (tag == tags::MESSAGE_PAYLOAD, t.get("text"))
        {
            text::encode_with_default(opts.default_alphabet, data_coding, text)
                .map_err(|e| err(t.name("text"), e.to_string()))?
        } else {
            match t.map.get("value") {
                Some(v) => tlv_value_from(tag, v, &t.name("value"))?.to_bytes(),
                None => return Err(err(&name, "needs \"hex\" or \"value\"")),
            }
        };
        tlvs.try_push(tag, &value)
            .map_err(|e| err(&name, e.to_string()))?;
    }
    Ok(tlvs)
}

fn sm_from(f: &Fields<'_>, opts: &JsonOptions) -> Result<SubmitSm, PduJsonError> {
    let data_coding = f.u8("data_coding")?;
    Ok(SubmitSm {
        service_type: f.cstr("service_type")?,
        source_addr_ton: f.u8("source_addr_ton")?,
        source_addr_npi: f.u8("source_addr_npi")?,
        source_addr: f.cstr("source_addr")?,
        dest_addr_ton: f.u8("dest_addr_ton")?,
        dest_addr_npi: f.u8("dest_addr_npi")?,
        destination_addr: f.cstr("destination_addr")?,
        esm_class: f.u8("esm_class")?,
        protocol_id: f.u8("protocol_id")?,
        priority_flag: f.u8("priority_flag")?,
        schedule_delivery_time: f.cstr("schedule_delivery_time")?,
        validity_period: f.cstr("validity_period")?,
        registered_delivery: f.u8("registered_delivery")?,
        replace_if_present_flag: f.u8("replace_if_present_flag")?,
        data_coding,
        sm_default_msg_id: f.u8("sm_default_msg_id")?,
        short_message: short_message_from(f, data_coding, opts)?,
        tlvs: tlvs_from(f, data_coding, opts)?,
    })
}

fn short_message_from(
    f: &Fields<'_>,
    data_coding: u8,
    opts: &JsonOptions,
) -> Result<Bytes, PduJsonError> {
    let sm = user_data_from(
        f.get("short_message"),
        &f.name("short_message"),
        data_coding,
        opts,
    )?;
    if sm.len() > 255 {
        return Err(err(
            f.name("short_message"),
            format!(
                "{} octets: at most 255 fit (use the message_payload TLV)",
                sm.len()
            ),
        ));
    }
    Ok(sm)
}

/// A PDU from its JSON (see the module documentation).
///
/// # Errors
/// [`PduJsonError`] naming the field that is missing, of the wrong type or out of range.
pub fn frame_from_json(v: &Value, opts: &JsonOptions) -> Result<Frame, PduJsonError> {
    let f = Fields::new(v, "")?;
    let id = match f.get("command_id") {
        Some(Value::String(s)) if command_id_by_name(s).is_some() => {
            command_id_by_name(s).unwrap_or_default()
        }
        Some(v) => {
            let id = uint_value(v, u64::from(u32::MAX)).map_err(|why| {
                err(
                    "command_id",
                    format!("{why} (use a spec name such as \"submit_sm\")"),
                )
            })? as u32;
            if command_name(id).is_none() {
                return Err(err(
                    "command_id",
                    format!("0x{id:08X} is not a PDU of SMPP 3.4 or 5.0"),
                ));
            }
            id
        }
        None => return Err(err("command_id", "missing")),
    };
    let command_status = f.status("command_status")?;
    let sequence_number = f.uint("sequence_number", u64::from(u32::MAX))? as u32;
    use smpp_codec::command::command_id as c;
    let bind = |f: &Fields<'_>| -> Result<Bind, PduJsonError> {
        Ok(Bind {
            system_id: f.cstr("system_id")?,
            password: f.cstr("password")?,
            system_type: f.cstr("system_type")?,
            interface_version: match f.get("interface_version") {
                None => 0x34,
                Some(_) => f.u8("interface_version")?,
            },
            addr_ton: f.u8("addr_ton")?,
            addr_npi: f.u8("addr_npi")?,
            address_range: f.cstr("address_range")?,
        })
    };
    let bind_resp = |f: &Fields<'_>| -> Result<BindResp, PduJsonError> {
        Ok(BindResp {
            system_id: f.cstr("system_id")?,
            tlvs: tlvs_from(f, 0, opts)?,
        })
    };
    let sm_resp = |f: &Fields<'_>| -> Result<SubmitSmResp, PduJsonError> {
        Ok(SubmitSmResp {
            message_id: f.cstr("message_id")?,
            tlvs: tlvs_from(f, 0, opts)?,
        })
    };
    let bc_resp = |f: &Fields<'_>| -> Result<BroadcastSmResp, PduJsonError> {
        Ok(BroadcastSmResp {
            message_id: f.cstr("message_id")?,
            tlvs: tlvs_from(f, 0, opts)?,
        })
    };
    let pdu = match id {
        c::BIND_TRANSMITTER => Pdu::BindTransmitter(bind(&f)?),
        c::BIND_RECEIVER => Pdu::BindReceiver(bind(&f)?),
        c::BIND_TRANSCEIVER => Pdu::BindTransceiver(bind(&f)?),
        c::BIND_TRANSMITTER_RESP => Pdu::BindTransmitterResp(bind_resp(&f)?),
        c::BIND_RECEIVER_RESP => Pdu::BindReceiverResp(bind_resp(&f)?),
        c::BIND_TRANSCEIVER_RESP => Pdu::BindTransceiverResp(bind_resp(&f)?),
        c::OUTBIND => Pdu::Outbind(Outbind {
            system_id: f.cstr("system_id")?,
            password: f.cstr("password")?,
        }),
        c::UNBIND => Pdu::Unbind,
        c::UNBIND_RESP => Pdu::UnbindResp,
        c::ENQUIRE_LINK => Pdu::EnquireLink,
        c::ENQUIRE_LINK_RESP => Pdu::EnquireLinkResp,
        c::GENERIC_NACK => Pdu::GenericNack,
        c::CANCEL_SM_RESP => Pdu::CancelSmResp,
        c::REPLACE_SM_RESP => Pdu::ReplaceSmResp,
        c::CANCEL_BROADCAST_SM_RESP => Pdu::CancelBroadcastSmResp,
        c::SUBMIT_SM => Pdu::SubmitSm(sm_from(&f, opts)?),
        c::DELIVER_SM => Pdu::DeliverSm(sm_from(&f, opts)?),
        c::SUBMIT_SM_RESP => Pdu::SubmitSmResp(sm_resp(&f)?),
        c::DATA_SM_RESP => Pdu::DataSmResp(sm_resp(&f)?),
        c::DELIVER_SM_RESP => Pdu::DeliverSmResp(DeliverSmResp {
            message_id: f.cstr("message_id")?,
        }),
        c::DATA_SM => {
            let data_coding = f.u8("data_coding")?;
            Pdu::DataSm(DataSm {
                service_type: f.cstr("service_type")?,
                source_addr_ton: f.u8("source_addr_ton")?,
                source_addr_npi: f.u8("source_addr_npi")?,
                source_addr: f.cstr("source_addr")?,
                dest_addr_ton: f.u8("dest_addr_ton")?,
                dest_addr_npi: f.u8("dest_addr_npi")?,
                destination_addr: f.cstr("destination_addr")?,
                esm_class: f.u8("esm_class")?,
                registered_delivery: f.u8("registered_delivery")?,
                data_coding,
                tlvs: tlvs_from(&f, data_coding, opts)?,
            })
        }
        c::SUBMIT_MULTI => {
            let mut dests = Vec::new();
            for (i, d) in f.array("dest_address")?.iter().enumerate() {
                let d = Fields::new(d, &format!("dest_address[{i}]"))?;
                dests.push(match d.u8("dest_flag")? {
                    1 => DestAddress::Sme {
                        dest_addr_ton: d.u8("dest_addr_ton")?,
                        dest_addr_npi: d.u8("dest_addr_npi")?,
                        destination_addr: d.cstr("destination_addr")?,
                    },
                    2 => DestAddress::DistributionList(d.cstr("dl_name")?),
                    other => {
                        return Err(err(
                            d.name("dest_flag"),
                            format!("{other}: 1 (SME address) or 2 (distribution list)"),
                        ))
                    }
                });
            }
            let sm = sm_from(&f, opts)?;
            Pdu::SubmitMulti(SubmitMulti {
                service_type: sm.service_type,
                source_addr_ton: sm.source_addr_ton,
                source_addr_npi: sm.source_addr_npi,
                source_addr: sm.source_addr,
                dest_addresses: dests,
                esm_class: sm.esm_class,
                protocol_id: sm.protocol_id,
                priority_flag: sm.priority_flag,
                schedule_delivery_time: sm.schedule_delivery_time,
                validity_period: sm.validity_period,
                registered_delivery: sm.registered_delivery,
                replace_if_present_flag: sm.replace_if_present_flag,
                data_coding: sm.data_coding,
                sm_default_msg_id: sm.sm_default_msg_id,
                short_message: sm.short_message,
                tlvs: sm.tlvs,
            })
        }
        c::SUBMIT_MULTI_RESP => {
            let mut list = Vec::new();
            for (i, u) in f.array("unsuccess_sme")?.iter().enumerate() {
                let u = Fields::new(u, &format!("unsuccess_sme[{i}]"))?;
                list.push(UnsuccessSme {
                    dest_addr_ton: u.u8("dest_addr_ton")?,
                    dest_addr_npi: u.u8("dest_addr_npi")?,
                    destination_addr: u.cstr("destination_addr")?,
                    error_status_code: u.status("error_status_code")?,
                });
            }
            Pdu::SubmitMultiResp(SubmitMultiResp {
                message_id: f.cstr("message_id")?,
                unsuccess_smes: list,
                tlvs: tlvs_from(&f, 0, opts)?,
            })
        }
        c::QUERY_SM => Pdu::QuerySm(QuerySm {
            message_id: f.cstr("message_id")?,
            source_addr_ton: f.u8("source_addr_ton")?,
            source_addr_npi: f.u8("source_addr_npi")?,
            source_addr: f.cstr("source_addr")?,
        }),
        c::QUERY_SM_RESP => Pdu::QuerySmResp(QuerySmResp {
            message_id: f.cstr("message_id")?,
            final_date: f.cstr("final_date")?,
            message_state: f.u8("message_state")?,
            error_code: f.u8("error_code")?,
        }),
        c::CANCEL_SM => Pdu::CancelSm(CancelSm {
            service_type: f.cstr("service_type")?,
            message_id: f.cstr("message_id")?,
            source_addr_ton: f.u8("source_addr_ton")?,
            source_addr_npi: f.u8("source_addr_npi")?,
            source_addr: f.cstr("source_addr")?,
            dest_addr_ton: f.u8("dest_addr_ton")?,
            dest_addr_npi: f.u8("dest_addr_npi")?,
            destination_addr: f.cstr("destination_addr")?,
        }),
        c::REPLACE_SM => Pdu::ReplaceSm(ReplaceSm {
            message_id: f.cstr("message_id")?,
            source_addr_ton: f.u8("source_addr_ton")?,
            source_addr_npi: f.u8("source_addr_npi")?,
            source_addr: f.cstr("source_addr")?,
            schedule_delivery_time: f.cstr("schedule_delivery_time")?,
            validity_period: f.cstr("validity_period")?,
            registered_delivery: f.u8("registered_delivery")?,
            sm_default_msg_id: f.u8("sm_default_msg_id")?,
            short_message: short_message_from(&f, 0, opts)?,
            tlvs: tlvs_from(&f, 0, opts)?,
        }),
        c::ALERT_NOTIFICATION => Pdu::AlertNotification(AlertNotification {
            source_addr_ton: f.u8("source_addr_ton")?,
            source_addr_npi: f.u8("source_addr_npi")?,
            source_addr: f.cstr("source_addr")?,
            esme_addr_ton: f.u8("esme_addr_ton")?,
            esme_addr_npi: f.u8("esme_addr_npi")?,
            esme_addr: f.cstr("esme_addr")?,
            tlvs: tlvs_from(&f, 0, opts)?,
        }),
        c::BROADCAST_SM => {
            let data_coding = f.u8("data_coding")?;
            Pdu::BroadcastSm(BroadcastSm {
                service_type: f.cstr("service_type")?,
                source_addr_ton: f.u8("source_addr_ton")?,
                source_addr_npi: f.u8("source_addr_npi")?,
                source_addr: f.cstr("source_addr")?,
                message_id: f.cstr("message_id")?,
                priority_flag: f.u8("priority_flag")?,
                schedule_delivery_time: f.cstr("schedule_delivery_time")?,
                validity_period: f.cstr("validity_period")?,
                replace_if_present_flag: f.u8("replace_if_present_flag")?,
                data_coding,
                sm_default_msg_id: f.u8("sm_default_msg_id")?,
                tlvs: tlvs_from(&f, data_coding, opts)?,
            })
        }
        c::BROADCAST_SM_RESP => Pdu::BroadcastSmResp(bc_resp(&f)?),
        c::QUERY_BROADCAST_SM_RESP => Pdu::QueryBroadcastSmResp(bc_resp(&f)?),
        c::QUERY_BROADCAST_SM => Pdu::QueryBroadcastSm(QueryBroadcastSm {
            message_id: f.cstr("message_id")?,
            source_addr_ton: f.u8("source_addr_ton")?,
            source_addr_npi: f.u8("source_addr_npi")?,
            source_addr: f.cstr("source_addr")?,
            tlvs: tlvs_from(&f, 0, opts)?,
        }),
        c::CANCEL_BROADCAST_SM => Pdu::CancelBroadcastSm(CancelBroadcastSm {
            service_type: f.cstr("service_type")?,
            message_id: f.cstr("message_id")?,
            source_addr_ton: f.u8("source_addr_ton")?,
            source_addr_npi: f.u8("source_addr_npi")?,
            source_addr: f.cstr("source_addr")?,
            tlvs: tlvs_from(&f, 0, opts)?,
        }),
        other => {
            return Err(err(
                "command_id",
                format!("0x{other:08X} is not a PDU of SMPP 3.4 or 5.0"),
            ))
        }
    };
    Ok(Frame::with_status(sequence_number, command_status, pdu))
}

// ---------------------------------------------------------------------------------------------
// The command line

/// What `smppgw pdu …` was asked (see `main.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CliArgs {
    /// `smppgw pdu decode [HEX] [--strict] [--default-alphabet A]`.
    Decode {
        /// The PDU in hex; `None` or `-`: stdin.
        hex: Option<String>,
        /// Strict decoding.
        strict: bool,
        /// `gsm7`, `latin1` or `ia5`.
        default_alphabet: String,
    },
    /// `smppgw pdu encode [FILE] [--default-alphabet A]`.
    Encode {
        /// The JSON file; `None` or `-`: stdin.
        file: Option<std::path::PathBuf>,
        /// `gsm7`, `latin1` or `ia5`.
        default_alphabet: String,
    },
}

/// `gsm7`, `latin1` or `ia5` (the `default_alphabet` key of a bind).
pub fn parse_default_alphabet(s: &str) -> Option<DefaultAlphabet> {
    Some(match s {
        "gsm7" | "gsm" => DefaultAlphabet::Gsm7,
        "latin1" | "iso-8859-1" => DefaultAlphabet::Latin1,
        "ia5" | "ascii" => DefaultAlphabet::Ia5,
        _ => return None,
    })
}

fn read_input(arg: Option<&str>) -> std::io::Result<String> {
    match arg {
        Some(a) if a != "-" => Ok(a.to_string()),
        _ => std::io::read_to_string(std::io::stdin()),
    }
}

/// Writes `text` and a newline to stdout. A closed pipe (`smppgw pdu decode … | head`) is not
/// an error worth a panic: the reader has what it wanted.
fn print_out(text: &str) {
    crate::cli_out::write(format_args!("{text}\n"));
}

/// Runs `smppgw pdu decode|encode`: the JSON or hex on stdout; on a bad input, the reason on
/// stderr and exit code 2 (for `decode`, also the answer a peer would get: generic_nack or the
/// command's response, with its command_status).
pub fn run_cli(args: CliArgs) -> std::process::ExitCode {
    use std::process::ExitCode;
    let fail = |msg: String| {
        eprintln!("smppgw pdu: {msg}");
        ExitCode::from(2)
    };
    let alphabet = |name: &str| {
        parse_default_alphabet(name)
            .ok_or_else(|| format!("--default-alphabet {name:?}: use gsm7, latin1 or ia5"))
    };
    match args {
        CliArgs::Decode {
            hex,
            strict,
            default_alphabet,
        } => {
            let opts = match alphabet(&default_alphabet) {
                Ok(a) => JsonOptions {
                    default_alphabet: a,
                },
                Err(e) => return fail(e),
            };
            let input = match read_input(hex.as_deref()) {
                Ok(s) => s,
                Err(e) => return fail(format!("cannot read stdin: {e}")),
            };
            let bytes = match from_hex(&input) {
                Ok(b) => Bytes::from(b),
                Err(e) => return fail(format!("not hex: {e}")),
            };
            let decode_opts = smpp_codec::pdu::DecodeOptions::for_mode(strict);
            match Frame::decode_with(bytes, &decode_opts) {
                Ok(frame) => {
                    match serde_json::to_string_pretty(&frame_to_json(&frame, &opts)) {
                        Ok(s) => print_out(&s),
                        Err(e) => return fail(e.to_string()),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let answer = match e.response() {
                        Some(r) => format!("answer: {} {}", r.pdu.name(), r.command_status),
                        None => "a response: not answered".to_string(),
                    };
                    fail(format!("cannot decode: {e} ({answer})"))
                }
            }
        }
        CliArgs::Encode {
            file,
            default_alphabet,
        } => {
            let opts = match alphabet(&default_alphabet) {
                Ok(a) => JsonOptions {
                    default_alphabet: a,
                },
                Err(e) => return fail(e),
            };
            let text = match file.as_deref().filter(|p| p.as_os_str() != "-") {
                Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())),
                None => read_input(None).map_err(|e| format!("cannot read stdin: {e}")),
            };
            let text = match text {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let value: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return fail(format!("not JSON: {e}")),
            };
            match frame_from_json(&value, &opts) {
                Ok(frame) => {
                    print_out(&to_hex(&frame.to_bytes()));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_codec::pdu::{BroadcastSmResp, QueryBroadcastSmResp};

    fn opts() -> JsonOptions {
        JsonOptions::default()
    }

    /// JSON text → frame, as `smppgw pdu encode` reads it.
    fn back(j: &Json) -> Frame {
        let text = serde_json::to_string_pretty(j).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        frame_from_json(&v, &opts()).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn every_pdu() -> Vec<Frame> {
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"ab12\0");
        tlvs.push(tags::MESSAGE_STATE, &[2]);
        tlvs.push(tags::NETWORK_ERROR_CODE, &[3, 0, 11]);
        tlvs.push(tags::CALLBACK_NUM, &[1, 1, 1, b'4', b'4']);
        tlvs.push(tags::MS_VALIDITY, &[4, 9, 0, 30]);
        tlvs.push(tags::ITS_SESSION_INFO, &[7, 0x0B]);
        tlvs.push(tags::ALERT_ON_MESSAGE_DELIVERY, &[]);
        tlvs.push(tags::MESSAGE_STATE, &[0, 2]); // a length the definition refuses: kept as hex
        tlvs.push(0x1400, b"vendor\xFF");
        let sm = SubmitSm {
            service_type: "CMT".into(),
            source_addr_ton: 5,
            source_addr: "Info@Home".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            esm_class: 0x40,
            registered_delivery: 1,
            validity_period: "000001000000000R".into(),
            short_message: Bytes::from_static(&[5, 0, 3, 9, 2, 1, 0x48, 0x69, 0x1B, 0x65]),
            tlvs: tlvs.clone(),
            ..SubmitSm::default()
        };
        let mut payload = Tlvs::new();
        payload.push(tags::MESSAGE_PAYLOAD, &text::encode(8, "Grüße").unwrap());
        let receipt = SubmitSm {
            esm_class: 0x04,
            short_message: Bytes::from_static(b"id:1 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 text:x"),
            ..SubmitSm::default()
        };
        let bind = Bind {
            system_id: "sys".into(),
            password: "pw".into(),
            system_type: "VMA".into(),
            ..Bind::default()
        };
        let resp = SubmitSmResp {
            message_id: "m1".into(),
            tlvs: tlvs.clone(),
        };
        let pdus = vec![
            Pdu::BindTransmitter(bind.clone()),
            Pdu::BindReceiver(bind.clone()),
            Pdu::BindTransceiver(bind),
            Pdu::BindTransmitterResp(BindResp {
                system_id: "SMSC".into(),
                tlvs: tlvs.clone(),
            }),
            Pdu::BindReceiverResp(BindResp::default()),
            Pdu::BindTransceiverResp(BindResp::default()),
            Pdu::Outbind(Outbind {
                system_id: "SMSC".into(),
                password: "x".into(),
            }),
            Pdu::Unbind,
            Pdu::UnbindResp,
            Pdu::EnquireLink,
            Pdu::EnquireLinkResp,
            Pdu::GenericNack,
            Pdu::SubmitSm(sm.clone()),
            Pdu::DeliverSm(receipt),
            Pdu::SubmitSmResp(resp.clone()),
            Pdu::DataSmResp(resp),
            Pdu::DeliverSmResp(DeliverSmResp::default()),
            Pdu::DataSm(DataSm {
                source_addr: "1".into(),
                data_coding: 8,
                tlvs: payload,
                ..DataSm::default()
            }),
            Pdu::SubmitMulti(SubmitMulti {
                source_addr: "1".into(),
                dest_addresses: vec![
                    DestAddress::Sme {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "2".into(),
                    },
                    DestAddress::DistributionList("friends".into()),
                ],
                short_message: Bytes::from_static(b"hi"),
                ..SubmitMulti::default()
            }),
            Pdu::SubmitMultiResp(SubmitMultiResp {
                message_id: "m".into(),
                unsuccess_smes: vec![
                    UnsuccessSme {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "3".into(),
                        error_status_code: CommandStatus::ESME_RINVDSTADR,
                    },
                    UnsuccessSme {
                        error_status_code: CommandStatus(0x0000_0401),
                        ..UnsuccessSme::default()
                    },
                ],
                tlvs: Tlvs::new(),
            }),
            Pdu::QuerySm(QuerySm {
                message_id: "m".into(),
                source_addr: "1".into(),
                ..QuerySm::default()
            }),
            Pdu::QuerySmResp(QuerySmResp {
                message_id: "m".into(),
                final_date: "240131120000000+".into(),
                message_state: 2,
                error_code: 0,
            }),
            Pdu::CancelSm(CancelSm {
                message_id: "m".into(),
                ..CancelSm::default()
            }),
            Pdu::CancelSmResp,
            Pdu::ReplaceSm(ReplaceSm {
                message_id: "m".into(),
                short_message: Bytes::from_static(b"new"),
                ..ReplaceSm::default()
            }),
            Pdu::ReplaceSmResp,
            Pdu::AlertNotification(AlertNotification {
                source_addr: "1".into(),
                esme_addr: "2".into(),
                ..AlertNotification::default()
            }),
            Pdu::BroadcastSm(BroadcastSm {
                message_id: "".into(),
                tlvs: tlvs.clone(),
                ..BroadcastSm::default()
            }),
            Pdu::BroadcastSmResp(BroadcastSmResp {
                message_id: "b".into(),
                tlvs: Tlvs::new(),
            }),
            Pdu::QueryBroadcastSm(QueryBroadcastSm {
                message_id: "b".into(),
                ..QueryBroadcastSm::default()
            }),
            Pdu::QueryBroadcastSmResp(QueryBroadcastSmResp {
                message_id: "b".into(),
                tlvs,
            }),
            Pdu::CancelBroadcastSm(CancelBroadcastSm {
                message_id: "b".into(),
                ..CancelBroadcastSm::default()
            }),
            Pdu::CancelBroadcastSmResp,
        ];
        assert_eq!(
            pdus.len(),
            smpp_codec::command::ALL_COMMAND_IDS.len(),
            "one of each PDU"
        );
        pdus.into_iter()
            .enumerate()
            .map(|(i, p)| {
                Frame::with_status(
                    i as u32 + 1,
                    CommandStatus(if i % 7 == 3 { 0x58 } else { 0 }),
                    p,
                )
            })
            .collect()
    }

    #[test]
    fn every_pdu_round_trips_through_json() {
        for frame in every_pdu() {
            let bytes = frame.to_bytes();
            let j = frame_to_json(&frame, &opts());
            assert_eq!(j.get("command_id"), Some(&Json::from(frame.pdu.name())));
            let again = back(&j);
            assert_eq!(again, frame, "{}", frame.pdu.name());
            assert_eq!(again.to_bytes(), bytes);
        }
    }

    #[test]
    fn fields_named_and_ordered_as_in_the_spec() {
        // The v5.0 sample bind_transmitter (facts §1.1).
        let hex = "0000002F 00000002 00000000 00000001 534D5050335445535400736563726574303800535542 4D49543100 50010100";
        let f = Frame::decode(Bytes::from(from_hex(hex).unwrap())).unwrap();
        let j = frame_to_json(&f, &opts());
        let text = serde_json::to_string(&j).unwrap();
        assert_eq!(
            text,
            r#"{"command_length":47,"command_id":"bind_transmitter","command_status":"ESME_ROK","sequence_number":1,"system_id":"SMPP3TEST","password":"secret08","system_type":"SUBMIT1","interface_version":80,"addr_ton":1,"addr_npi":1,"address_range":""}"#
        );
        let f = &every_pdu()[12];
        let j = frame_to_json(f, &opts());
        let Json::Object(fields) = &j else {
            panic!("object")
        };
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "command_length",
                "command_id",
                "command_status",
                "sequence_number",
                "service_type",
                "source_addr_ton",
                "source_addr_npi",
                "source_addr",
                "dest_addr_ton",
                "dest_addr_npi",
                "destination_addr",
                "esm_class",
                "protocol_id",
                "priority_flag",
                "schedule_delivery_time",
                "validity_period",
                "registered_delivery",
                "replace_if_present_flag",
                "data_coding",
                "sm_default_msg_id",
                "sm_length",
                "short_message",
                "tlvs"
            ]
        );
        // The alphanumeric sender keeps its '@' (no GSM encoding of a C-Octet String).
        assert_eq!(j.get("source_addr"), Some(&Json::from("Info@Home")));
        // Text decoded, UDH described.
        let sm = j.get("short_message").unwrap().to_value();
        assert_eq!(sm["text"], "Hi€");
        assert_eq!(sm["udh"]["reference"], 9);
        assert_eq!(sm["udh"]["total"], 2);
        let tlvs = j.get("tlvs").unwrap().to_value();
        assert_eq!(
            tlvs[0],
            serde_json::json!({"tag": "receipted_message_id", "value": "ab12", "hex": "6162313200"})
        );
        assert_eq!(
            tlvs[2]["value"],
            serde_json::json!({"network_type": 3, "error_code": 11})
        );
        assert_eq!(
            tlvs[4]["value"],
            serde_json::json!({"behaviour": 4, "time_unit": 9, "number": 30})
        );
        assert!(tlvs[7]["error"]
            .as_str()
            .unwrap()
            .contains("invalid length"));
        assert_eq!(tlvs[8]["tag"], "0x1400");
    }

    #[test]
    fn receipts_and_payload_text_are_shown() {
        let frames = every_pdu();
        let j = frame_to_json(&frames[13], &opts()).to_value();
        assert_eq!(j["short_message"]["receipt"]["stat"], "DELIVRD");
        assert_eq!(j["short_message"]["receipt"]["message_state"], 2);
        let j = frame_to_json(&frames[17], &opts()).to_value();
        assert_eq!(j["tlvs"][0]["tag"], "message_payload");
        assert_eq!(j["tlvs"][0]["text"], "Grüße");
    }

    #[test]
    fn text_only_input_is_encoded() {
        let v: Value = serde_json::from_str(
            r#"{"command_id":"submit_sm","sequence_number":7,"source_addr":"ACME","destination_addr":"336","data_coding":0,
                "short_message":{"text":"Hi {€}"},
                "tlvs":[{"tag":"user_message_reference","value":42},{"tag":"0x1401","hex":"0102"},
                        {"tag":"network_error_code","value":{"network_type":3,"error_code":1}}]}"#,
        )
        .unwrap();
        let f = frame_from_json(&v, &opts()).unwrap();
        let Pdu::SubmitSm(sm) = &f.pdu else {
            panic!("submit_sm")
        };
        assert_eq!(f.sequence_number, 7);
        assert_eq!(f.command_status, CommandStatus::ESME_ROK);
        assert_eq!(
            &sm.short_message[..],
            &[0x48, 0x69, 0x20, 0x1B, 0x28, 0x1B, 0x65, 0x1B, 0x29]
        );
        assert_eq!(sm.tlvs.get_u16(tags::USER_MESSAGE_REFERENCE), Some(42));
        assert_eq!(sm.tlvs.get(0x1401).unwrap(), &[1, 2][..]);
        assert_eq!(sm.tlvs.network_error_code(), Some((3, 1)));
        // A Latin-1 bind writes data_coding 0 text in Latin-1.
        let latin = JsonOptions {
            default_alphabet: DefaultAlphabet::Latin1,
        };
        let v: Value =
            serde_json::from_str(r#"{"command_id":"deliver_sm","short_message":"é"}"#).unwrap();
        let Pdu::DeliverSm(sm) = frame_from_json(&v, &latin).unwrap().pdu else {
            panic!("deliver_sm")
        };
        assert_eq!(&sm.short_message[..], &[0xE9]);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"sequence_number":1}"#, "command_id"),
            (r#"{"command_id":"submit_smx"}"#, "command_id"),
            (r#"{"command_id":"submit_sm","esm_class":256}"#, "esm_class"),
            (
                r#"{"command_id":"submit_sm","short_message":{"hex":"zz"}}"#,
                "short_message.hex",
            ),
            (
                r#"{"command_id":"submit_sm","short_message":{"text":"ж"}}"#,
                "short_message",
            ),
            (
                r#"{"command_id":"submit_sm","tlvs":[{"tag":"nope","value":1}]}"#,
                "tlvs[0].tag",
            ),
            (
                r#"{"command_id":"submit_sm","tlvs":[{"tag":"message_state","value":"x"}]}"#,
                "tlvs[0].value",
            ),
            (
                r#"{"command_id":"submit_multi","dest_address":[{"dest_flag":3}]}"#,
                "dest_address[0].dest_flag",
            ),
            (
                r#"{"command_id":"enquire_link","command_status":"ESME_NOPE"}"#,
                "command_status",
            ),
            (
                r#"{"command_id":"bind_transmitter","system_id":"a\u0000b"}"#,
                "system_id",
            ),
            (r#"[1,2]"#, "(document)"),
        ];
        for (doc, field) in cases {
            let v: Value = serde_json::from_str(doc).unwrap();
            let e = frame_from_json(&v, &opts()).unwrap_err();
            assert_eq!(e.field, field, "{doc}: {e}");
        }
        let v: Value = serde_json::from_str(
            r#"{"command_id":"0x00000015","command_status":"0x58","sequence_number":"9"}"#,
        )
        .unwrap();
        let f = frame_from_json(&v, &opts()).unwrap();
        assert_eq!(
            (f.pdu, f.command_status, f.sequence_number),
            (Pdu::EnquireLink, CommandStatus::ESME_RTHROTTLED, 9)
        );
    }

    #[test]
    fn hex_as_captures_print_it() {
        assert_eq!(from_hex("0x00 01:0A-ff\nFF").unwrap(), [0, 1, 10, 255, 255]);
        assert!(from_hex("0g").unwrap_err().contains("'g'"));
        assert!(from_hex("abc").unwrap_err().contains("odd"));
        assert_eq!(to_hex(&[0, 0xAB, 0x10]), "00ab10");
    }
}
