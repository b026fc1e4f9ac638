//! A fake Telegram Bot API on 127.0.0.1:0 that answers as strictly as the
//! real one for the methods linli uses, records every call, queues Updates
//! for `getUpdates`, and can be told to fail the next call of a method with
//! one of Telegram's real errors, to limit the rate as Telegram does, or to
//! answer slowly.
//!
//! For the benchmark it also measures: when each Update was first offered
//! by `getUpdates`, and when the bot's first call answering it arrived (a
//! message replying to it, or the answer to a button press), and it calls
//! a hook on every call so that a driver can react as users would.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Notify;

pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_USERNAME: &str = "linli_test_bot";
pub const TOKEN: &str = "7000000001:TEST-token";

/// One Bot API call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub body: Value,
    /// What the fake answered: the whole JSON reply.
    pub answer: Value,
}

impl Call {
    pub fn chat_id(&self) -> Option<i64> {
        self.body["chat_id"].as_i64()
    }

    /// The message id the fake gave a sent message.
    pub fn sent_message_id(&self) -> Option<i64> {
        self.answer["result"]["message_id"].as_i64()
    }

    pub fn succeeded(&self) -> bool {
        self.answer["ok"] == json!(true)
    }

    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }

    /// The callback data of every inline button, row by row.
    pub fn buttons(&self) -> Vec<String> {
        buttons_of(&self.body["reply_markup"])
    }

    /// The URL of every inline URL button, row by row.
    pub fn url_buttons(&self) -> Vec<String> {
        self.body["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().into_iter().flatten())
            .filter_map(|button| button["url"].as_str().map(str::to_string))
            .collect()
    }

    /// What the call shows: a message's text, or a photo's or voice
    /// message's caption.
    pub fn shown(&self) -> &str {
        self.body["text"]
            .as_str()
            .or(self.body["caption"].as_str())
            .unwrap_or_default()
    }
}

fn buttons_of(markup: &Value) -> Vec<String> {
    markup["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .filter_map(|button| button["callback_data"].as_str().map(str::to_string))
        .collect()
}

/// A message as the fake chat holds it.
#[derive(Debug, Clone)]
struct StoredMessage {
    text: String,
    markup: Value,
}

#[derive(Default)]
struct Inner {
    updates: VecDeque<Value>,
    next_update_id: i64,
    calls: Vec<Call>,
    messages: HashMap<(i64, i64), StoredMessage>,
    next_message_id: HashMap<i64, i64>,
    /// (chat, user) → status for getChatMember; "member" otherwise.
    statuses: HashMap<(i64, i64), String>,
    faults: HashMap<String, VecDeque<(StatusCode, Value)>>,
    callbacks_answered: Vec<String>,
    allowed_updates: Option<Value>,
    /// At most this many sendMessage per chat within this window, as Telegram.
    rate_limit: Option<(usize, Duration)>,
    sent_at: HashMap<i64, VecDeque<Instant>>,
    /// How long each speaking call takes to answer.
    delay: Duration,
    /// update_id → when getUpdates first offered it.
    offered_at: HashMap<i64, Instant>,
    /// What answers each Update → its update_id.
    awaiting: HashMap<AnswerKey, i64>,
    /// update_id → how long from offer to the first call answering it.
    latencies: HashMap<i64, Duration>,
    hook: Option<Hook>,
    /// When the first getUpdates arrived.
    first_poll_at: Option<Instant>,
    /// Users who started a private chat with the bot (wrote to it); the
    /// bot may not write first to anyone else, as in Telegram.
    started: std::collections::HashSet<i64>,
    /// Users who blocked the bot.
    blocked: std::collections::HashSet<i64>,
    /// chat → the message pinned there.
    pinned: HashMap<i64, i64>,
    /// Answers setMessageReaction with 400 REACTION_INVALID, as a chat
    /// that allows no reactions does.
    reactions_off: bool,
}

/// Called with every recorded call, outside the fake's lock.
pub type Hook = Arc<dyn Fn(&FakeTelegram, &Call) + Send + Sync>;

/// What identifies the answer to an Update.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AnswerKey {
    /// A message, answered by a message replying to it.
    Message(i64, i64),
    /// A button press, answered by answerCallbackQuery (or, from a bot
    /// that only sends messages, a message whose text is the query id).
    Button(String),
}

impl AnswerKey {
    fn of_update(update: &Value) -> Option<AnswerKey> {
        if let Some(query) = update["callback_query"].as_object() {
            return query["id"]
                .as_str()
                .map(|id| AnswerKey::Button(id.to_string()));
        }
        let message = &update["message"];
        Some(AnswerKey::Message(
            message["chat"]["id"].as_i64()?,
            message["message_id"].as_i64()?,
        ))
    }

    fn of_call(call: &Call) -> Vec<AnswerKey> {
        match call.method.as_str() {
            "answerCallbackQuery" => call.body["callback_query_id"]
                .as_str()
                .map(|id| AnswerKey::Button(id.to_string()))
                .into_iter()
                .collect(),
            "sendMessage" => {
                let mut keys = vec![AnswerKey::Button(call.text().to_string())];
                if let (Some(chat), Some(reply_to)) = (
                    call.chat_id(),
                    call.body["reply_parameters"]["message_id"].as_i64(),
                ) {
                    keys.push(AnswerKey::Message(chat, reply_to));
                }
                keys
            }
            // A reaction on the request acknowledges it too.
            "setMessageReaction" => match (call.chat_id(), call.body["message_id"].as_i64()) {
                (Some(chat), Some(message_id)) => vec![AnswerKey::Message(chat, message_id)],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Mutex<Inner>>,
    updates_ready: Arc<Notify>,
    pub url: String,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Bot API");
        let address = listener.local_addr().expect("fake address");
        let fake = FakeTelegram {
            inner: Arc::new(Mutex::new(Inner {
                next_update_id: 1,
                ..Inner::default()
            })),
            updates_ready: Arc::new(Notify::new()),
            url: format!("http://{address}"),
        };
        let app = Router::new()
            .route("/{token}/{method}", post(handle))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an Update; its `update_id` is filled in.
    pub fn push_update(&self, update: Value) {
        self.push_updates(vec![update]);
    }

    /// Queues several Updates at once, in order.
    pub fn push_updates(&self, updates: Vec<Value>) {
        {
            let mut inner = self.lock();
            for mut update in updates {
                let id = inner.next_update_id;
                update["update_id"] = json!(id);
                inner.next_update_id += 1;
                if let Some(key) = AnswerKey::of_update(&update) {
                    inner.awaiting.insert(key, id);
                }
                // Writing to the bot privately starts the chat (and unblocks it).
                if let Some(user) = update["message"]["chat"]["id"].as_i64().filter(|c| *c > 0) {
                    inner.started.insert(user);
                    inner.blocked.remove(&user);
                }
                inner.updates.push_back(update);
            }
        }
        self.updates_ready.notify_waiters();
    }

    /// Calls `hook` with every call from now on.
    pub fn set_hook(&self, hook: Hook) {
        self.lock().hook = Some(hook);
    }

    /// For each answered Update, the time from its offer to its first answer.
    pub fn latencies(&self) -> Vec<Duration> {
        self.lock().latencies.values().copied().collect()
    }

    /// When the bot first asked for Updates, if it has.
    pub fn first_poll_at(&self) -> Option<Instant> {
        self.lock().first_poll_at
    }

    /// Queues an Update keeping its own `update_id` (a redelivery).
    pub fn push_update_as_is(&self, update: Value) {
        self.lock().updates.push_back(update);
        self.updates_ready.notify_waiters();
    }

    /// A fresh message id in `chat`, shared by users and the bot as in Telegram.
    pub fn next_message_id(&self, chat: i64) -> i64 {
        let mut inner = self.lock();
        let id = inner.next_message_id.entry(chat).or_insert(1);
        let this = *id;
        *id += 1;
        this
    }

    /// `user` blocks the bot: its messages to them fail with 403.
    pub fn block(&self, user: i64) {
        self.lock().blocked.insert(user);
    }

    pub fn set_status(&self, chat: i64, user: i64, status: &str) {
        self.lock()
            .statuses
            .insert((chat, user), status.to_string());
    }

    /// Someone deletes a message of the bot's by hand.
    pub fn delete_by_hand(&self, chat: i64, message_id: i64) {
        self.lock().messages.remove(&(chat, message_id));
    }

    /// The message pinned in `chat`, if any.
    pub fn pinned(&self, chat: i64) -> Option<i64> {
        self.lock().pinned.get(&chat).copied()
    }

    /// Whether a message of the bot's in the chat still exists.
    pub fn message_exists(&self, chat: i64, message_id: i64) -> bool {
        self.lock().messages.contains_key(&(chat, message_id))
    }

    /// The text (HTML as sent) of a message of the bot's, as it shows now.
    pub fn message_text(&self, chat: i64, message_id: i64) -> Option<String> {
        self.lock()
            .messages
            .get(&(chat, message_id))
            .map(|m| m.text.clone())
    }

    /// Chats refuse reactions from now on (400 REACTION_INVALID).
    pub fn refuse_reactions(&self) {
        self.lock().reactions_off = true;
    }

    /// Answers sendMessage with 429 past `max` messages per chat in `window`.
    pub fn limit_rate(&self, max: usize, window: Duration) {
        self.lock().rate_limit = Some((max, window));
    }

    /// Makes every speaking call take `delay` to answer.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The next call of `method` fails with Telegram's answer `body`.
    pub fn fail_next(&self, method: &str, status: u16, body: Value) {
        self.lock()
            .faults
            .entry(method.to_string())
            .or_default()
            .push_back((StatusCode::from_u16(status).unwrap(), body));
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// The buttons a message in the chat shows now, if the message exists.
    pub fn message_buttons(&self, chat: i64, message_id: i64) -> Option<Vec<String>> {
        self.lock()
            .messages
            .get(&(chat, message_id))
            .map(|m| buttons_of(&m.markup))
    }

    /// The `allowed_updates` of the last getUpdates that named them.
    pub fn allowed_updates(&self) -> Vec<String> {
        self.lock()
            .allowed_updates
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// Whether every queued Update has been fetched and confirmed.
    pub fn updates_drained(&self) -> bool {
        self.lock().updates.is_empty()
    }

    /// Waits until `ready` holds for the calls made so far. Gives up after
    /// 30 s: only a failing test waits that long, and a
    /// loaded machine (both test passes at once on two cores) may need it.
    pub async fn wait_for(&self, what: &str, ready: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let calls = self.calls();
            if ready(&calls) {
                return calls;
            }
            if Instant::now() > deadline {
                let summary: Vec<String> = calls
                    .iter()
                    .map(|c| format!("{} {}", c.method, c.body))
                    .collect();
                panic!(
                    "timed out waiting for {what}; calls so far:\n{}",
                    summary.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `count` calls of `method` have been made in all.
    pub async fn wait_for_calls(&self, method: &str, count: usize) -> Vec<Call> {
        let calls = self
            .wait_for(&format!("{count} × {method}"), |calls| {
                calls.iter().filter(|c| c.method == method).count() >= count
            })
            .await;
        calls.into_iter().filter(|c| c.method == method).collect()
    }

    /// Lets the bot fetch everything queued, then waits a moment longer so
    /// that any answer it was going to make has been made.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.updates_drained() {
            assert!(
                Instant::now() < deadline,
                "the bot stopped fetching updates"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut count = self.calls().len();
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = self.calls().len();
            if now == count {
                return;
            }
            count = now;
        }
    }
}

/// A status and a JSON body, as Telegram answers.
type Reply = (StatusCode, Value);

fn ok(result: Value) -> Reply {
    (StatusCode::OK, json!({"ok": true, "result": result}))
}

fn bad_request(description: &str) -> Reply {
    let body = json!({"ok": false, "error_code": 400, "description": format!("Bad Request: {description}")});
    (StatusCode::BAD_REQUEST, body)
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Linli", "username": BOT_USERNAME})
}

/// The bot_command entity Telegram marks at the start of a command.
pub fn command_entities(text: &str) -> Value {
    if !text.starts_with('/') {
        return json!([]);
    }
    let command = text.split(char::is_whitespace).next().unwrap_or_default();
    json!([{"type": "bot_command", "offset": 0, "length": command.encode_utf16().count()}])
}

/// A message Update's `message` object, with its command entity.
pub fn message(chat: i64, id: i64, from: Value, text: &str) -> Value {
    json!({
        "message_id": id,
        "date": chrono::Utc::now().timestamp(),
        "chat": chat_json(chat),
        "from": from,
        "text": text,
        "entities": command_entities(text),
    })
}

/// A callback query Update's `callback_query` object: `from` pressed the
/// button with `data` under the bot's message `message_id`.
pub fn callback_query(
    chat: i64,
    from: Value,
    message_id: i64,
    query_id: &str,
    data: &str,
) -> Value {
    json!({
        "id": query_id,
        "from": from,
        "chat_instance": "ci-1",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": chrono::Utc::now().timestamp(),
            "chat": chat_json(chat),
            "from": bot_user(),
            "text": "announcement"
        }
    })
}

pub fn chat_json(chat: i64) -> Value {
    if chat > 0 {
        json!({"id": chat, "type": "private", "first_name": "Neighbour"})
    } else if chat > -1_000_000_000_000 {
        json!({"id": chat, "type": "group", "title": "Residents"})
    } else {
        json!({"id": chat, "type": "supergroup", "title": "Residents"})
    }
}

/// A multipart/form-data body (what teloxide sends for `sendPhoto` and
/// `sendVoice`) as the JSON object the same call would have had: numbers,
/// booleans and objects are read as JSON, captions and file ids as text.
fn form_as_json(content_type: &str, body: &[u8]) -> Option<Value> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let body = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let text_field = matches!(name, "caption" | "text" | "photo" | "voice");
        let parsed = match serde_json::from_str::<Value>(value) {
            Ok(json) if !text_field && !json.is_string() => json,
            _ => json!(value),
        };
        fields.insert(name.to_string(), parsed);
    }
    Some(Value::Object(fields))
}

async fn handle(
    State(fake): State<FakeTelegram>,
    Path((token, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if token != format!("bot{TOKEN}") {
        let body = json!({"ok": false, "error_code": 401, "description": "Unauthorized"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    // Telegram's method names are case-insensitive (teloxide sends `SendMessage`).
    let mut chars = method.chars();
    let method: String = chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let form = content_type
        .starts_with("multipart/form-data")
        .then(|| form_as_json(content_type, &body))
        .flatten();
    let body: Value = if let Some(form) = form {
        form
    } else if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(_) => {
                let (status, answer) = bad_request("request body is not JSON");
                return (status, Json(answer)).into_response();
            }
        }
    };
    if method == "getUpdates" {
        fake.lock().first_poll_at.get_or_insert_with(Instant::now);
        if body["allowed_updates"].is_array() {
            fake.lock().allowed_updates = Some(body["allowed_updates"].clone());
        }
        let (status, answer) = get_updates(&fake, &body).await;
        return (status, Json(answer)).into_response();
    }
    let delay = fake.lock().delay;
    if !delay.is_zero() && method != "getMe" {
        tokio::time::sleep(delay).await;
    }
    let fault = fake
        .lock()
        .faults
        .get_mut(&method)
        .and_then(VecDeque::pop_front);
    let (status, answer) = match fault {
        Some(fault) => fault,
        None => match method.as_str() {
            "getMe" => {
                let mut me = bot_user();
                for (field, value) in [
                    ("can_join_groups", true),
                    ("can_read_all_group_messages", false),
                    ("supports_inline_queries", false),
                    ("can_connect_to_business", false),
                    ("has_main_web_app", false),
                ] {
                    me[field] = json!(value);
                }
                ok(me)
            }
            "deleteWebhook" | "setMyCommands" | "setMyDescription" | "setMyShortDescription" => {
                ok(json!(true))
            }
            "deleteMessage" => delete_message(&fake, &body),
            "sendMessage" => send_message(&fake, &body),
            "sendPhoto" => send_media(&fake, &body, "photo"),
            "sendVoice" => send_media(&fake, &body, "voice"),
            "editMessageText" => edit_message_text(&fake, &body),
            "answerCallbackQuery" => answer_callback_query(&fake, &body),
            "getChatMember" => get_chat_member(&fake, &body),
            "setMessageReaction" => set_message_reaction(&fake, &body),
            "pinChatMessage" => pin_chat_message(&fake, &body),
            "unpinChatMessage" => unpin_chat_message(&fake, &body),
            _ => (
                StatusCode::NOT_FOUND,
                json!({"ok": false, "error_code": 404, "description": "Not Found"}),
            ),
        },
    };
    let call = Call {
        method,
        body,
        answer: answer.clone(),
    };
    let hook = {
        let mut inner = fake.lock();
        if call.succeeded() {
            let now = Instant::now();
            for key in AnswerKey::of_call(&call) {
                if let Some(update_id) = inner.awaiting.remove(&key) {
                    if let Some(offered) = inner.offered_at.get(&update_id).copied() {
                        inner
                            .latencies
                            .insert(update_id, now.duration_since(offered));
                    }
                }
            }
        }
        inner.calls.push(call.clone());
        inner.hook.clone()
    };
    if let Some(hook) = hook {
        hook(&fake, &call);
    }
    (status, Json(answer)).into_response()
}

async fn get_updates(fake: &FakeTelegram, body: &Value) -> Reply {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100) as usize;
    // Long polling, kept short so tests stop quickly.
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(1));
    let deadline = Instant::now() + wait;
    loop {
        let notified = fake.updates_ready.notified();
        {
            let mut inner = fake.lock();
            // Confirming an offset forgets every update before it, as Telegram does.
            while inner
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
            {
                inner.updates.pop_front();
            }
            if !inner.updates.is_empty() || Instant::now() >= deadline {
                let batch: Vec<Value> = inner.updates.iter().take(limit).cloned().collect();
                let now = Instant::now();
                for update in &batch {
                    if let Some(id) = update["update_id"].as_i64() {
                        inner.offered_at.entry(id).or_insert(now);
                    }
                }
                return ok(Value::Array(batch));
            }
        }
        let _ = tokio::time::timeout(deadline - Instant::now(), notified).await;
    }
}

/// Checks HTML as Telegram's parser does: known tags, balanced, and every
/// `<`, `&` part of a tag or entity. Returns the plain text.
pub fn parse_html(html: &str) -> Result<String, String> {
    const TAGS: [&str; 15] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
    ];
    let mut plain = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("Unclosed start tag")?;
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    if open.pop().as_deref() != Some(name) {
                        return Err(format!("Unmatched end tag \"{name}\""));
                    }
                } else {
                    let name = tag.split_whitespace().next().unwrap_or("");
                    if !TAGS.contains(&name) {
                        return Err(format!("Unsupported start tag \"{name}\""));
                    }
                    open.push(name.to_string());
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest
                    .find(';')
                    .filter(|e| *e <= 10)
                    .ok_or("Character entity expected")?;
                let entity = &rest[1..end];
                let decoded = match entity {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    e if e.starts_with('#') => e[1..]
                        .parse::<u32>()
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or("Invalid character entity")?
                        .to_string(),
                    _ => return Err(format!("Unsupported HTML entity \"&{entity};\"")),
                };
                plain.push_str(&decoded);
                rest = &rest[end + 1..];
            }
            c => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if let Some(name) = open.pop() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{name}\""
        ));
    }
    Ok(plain)
}

/// The text as it will show, checking it as Telegram would.
fn checked_text(body: &Value) -> Result<String, Reply> {
    let Some(text) = body["text"].as_str() else {
        return Err(bad_request("message text is empty"));
    };
    let plain = if body["parse_mode"].as_str() == Some("HTML") {
        parse_html(text).map_err(|e| bad_request(&format!("can't parse entities: {e}")))?
    } else {
        text.to_string()
    };
    if plain.trim().is_empty() {
        return Err(bad_request("message text is empty"));
    }
    if plain.encode_utf16().count() > 4096 {
        return Err(bad_request("message is too long"));
    }
    for data in buttons_of(&body["reply_markup"]) {
        if data.is_empty() || data.len() > 64 {
            return Err(bad_request("BUTTON_DATA_INVALID"));
        }
    }
    Ok(plain)
}

fn message_json(chat: i64, message_id: i64, plain: &str, body: &Value) -> Value {
    let mut message = json!({
        "message_id": message_id,
        "date": chrono::Utc::now().timestamp(),
        "chat": chat_json(chat),
        "from": bot_user(),
        "text": plain,
    });
    if body["reply_markup"].is_object() {
        message["reply_markup"] = body["reply_markup"].clone();
    }
    if let Some(thread) = body["message_thread_id"].as_i64() {
        message["message_thread_id"] = json!(thread);
        message["is_topic_message"] = json!(true);
    }
    message
}

fn forbidden(description: &str) -> Reply {
    let body =
        json!({"ok": false, "error_code": 403, "description": format!("Forbidden: {description}")});
    (StatusCode::FORBIDDEN, body)
}

/// Telegram's 403 for a private chat the bot may not write to.
fn refused_privately(fake: &FakeTelegram, chat: i64) -> Option<Reply> {
    let inner = fake.lock();
    if chat <= 0 {
        None
    } else if inner.blocked.contains(&chat) {
        Some(forbidden("bot was blocked by the user"))
    } else if !inner.started.contains(&chat) {
        Some(forbidden("bot can't initiate conversation with a user"))
    } else {
        None
    }
}

/// sendPhoto or sendVoice by `file_id`, with an optional caption.
fn send_media(fake: &FakeTelegram, body: &Value, field: &str) -> Reply {
    let Some(chat) = body["chat_id"].as_i64() else {
        return bad_request("chat not found");
    };
    if !body[field].is_string() {
        return bad_request(&format!("there is no {field} in the request"));
    }
    let caption = body["caption"].as_str().unwrap_or_default();
    let plain = if body["parse_mode"].as_str() == Some("HTML") {
        match parse_html(caption) {
            Ok(plain) => plain,
            Err(e) => return bad_request(&format!("can't parse entities: {e}")),
        }
    } else {
        caption.to_string()
    };
    if plain.encode_utf16().count() > 1024 {
        return bad_request("message caption is too long");
    }
    if let Some(refused) = refused_privately(fake, chat) {
        return refused;
    }
    let message_id = fake.next_message_id(chat);
    let mut message = message_json(chat, message_id, "", body);
    let fields = message.as_object_mut().expect("an object");
    fields.remove("text");
    fields.insert("caption".into(), json!(plain));
    fields.insert(
        field.into(),
        json!({"file_id": body[field], "file_unique_id": "u"}),
    );
    ok(message)
}

fn send_message(fake: &FakeTelegram, body: &Value) -> Reply {
    let Some(chat) = body["chat_id"].as_i64() else {
        return bad_request("chat not found");
    };
    if let Some(refused) = refused_privately(fake, chat) {
        return refused;
    }
    let plain = match checked_text(body) {
        Ok(plain) => plain,
        Err(response) => return response,
    };
    if let Some(reply_to) = body["reply_parameters"]["message_id"].as_i64() {
        let exists = reply_to < fake.lock().next_message_id.get(&chat).copied().unwrap_or(1);
        if !exists && body["reply_parameters"]["allow_sending_without_reply"] != json!(true) {
            return bad_request("message to be replied not found");
        }
    }
    if let Some(wait) = over_rate_limit(fake, chat) {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"ok": false, "error_code": 429,
                   "description": format!("Too Many Requests: retry after {seconds}"),
                   "parameters": {"retry_after": seconds}}),
        );
    }
    let message_id = fake.next_message_id(chat);
    fake.lock().messages.insert(
        (chat, message_id),
        StoredMessage {
            text: body["text"].as_str().unwrap_or_default().to_string(),
            markup: body["reply_markup"].clone(),
        },
    );
    ok(message_json(chat, message_id, &plain, body))
}

/// How long until `chat` may receive another message, if it may not now.
fn over_rate_limit(fake: &FakeTelegram, chat: i64) -> Option<Duration> {
    let mut inner = fake.lock();
    let (max, window) = inner.rate_limit?;
    let now = Instant::now();
    let sent = inner.sent_at.entry(chat).or_default();
    while sent
        .front()
        .is_some_and(|at| now.duration_since(*at) >= window)
    {
        sent.pop_front();
    }
    if sent.len() >= max {
        return sent
            .front()
            .map(|oldest| window - now.duration_since(*oldest));
    }
    sent.push_back(now);
    None
}

fn edit_message_text(fake: &FakeTelegram, body: &Value) -> Reply {
    let (Some(chat), Some(message_id)) = (body["chat_id"].as_i64(), body["message_id"].as_i64())
    else {
        return bad_request("message to edit not found");
    };
    let plain = match checked_text(body) {
        Ok(plain) => plain,
        Err(response) => return response,
    };
    let mut inner = fake.lock();
    let Some(stored) = inner.messages.get_mut(&(chat, message_id)) else {
        return bad_request("message to edit not found");
    };
    let text = body["text"].as_str().unwrap_or_default().to_string();
    let markup = body["reply_markup"].clone();
    if stored.text == text && buttons_of(&stored.markup) == buttons_of(&markup) {
        return bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
    }
    *stored = StoredMessage { text, markup };
    drop(inner);
    ok(message_json(chat, message_id, &plain, body))
}

fn answer_callback_query(fake: &FakeTelegram, body: &Value) -> Reply {
    let Some(id) = body["callback_query_id"].as_str() else {
        return bad_request("query is too old and response timeout expired or query ID is invalid");
    };
    if body["text"]
        .as_str()
        .is_some_and(|t| t.chars().count() > 200)
    {
        return bad_request("MESSAGE_TOO_LONG");
    }
    if let Some(url) = body["url"].as_str() {
        // Telegram opens only a game or a link to the bot itself.
        if !url.starts_with(&format!("https://t.me/{BOT_USERNAME}?start=")) {
            return bad_request("URL_INVALID");
        }
    }
    let mut inner = fake.lock();
    if inner.callbacks_answered.iter().any(|done| done == id) {
        return bad_request("query is too old and response timeout expired or query ID is invalid");
    }
    inner.callbacks_answered.push(id.to_string());
    ok(json!(true))
}

/// A bot deletes its own messages anywhere, and others' messages in a
/// group only as an administrator.
fn delete_message(fake: &FakeTelegram, body: &Value) -> Reply {
    let (Some(chat), Some(message_id)) = (body["chat_id"].as_i64(), body["message_id"].as_i64())
    else {
        return bad_request("message to delete not found");
    };
    let mut inner = fake.lock();
    if inner.messages.remove(&(chat, message_id)).is_some() {
        return ok(json!(true));
    }
    if !bot_may_manage(&inner, chat) {
        return bad_request("message can't be deleted");
    }
    ok(json!(true))
}

/// Whether the bot may delete others' messages and pin in `chat`: in a
/// group, only as an administrator.
fn bot_may_manage(inner: &Inner, chat: i64) -> bool {
    let status = inner.statuses.get(&(chat, BOT_ID));
    chat > 0
        || matches!(
            status.map(String::as_str),
            Some("administrator" | "creator")
        )
}

/// Telegram's standard reactions that a bot may set (a few of them).
const REACTIONS: [&str; 8] = ["👍", "👎", "❤", "🔥", "👏", "🙏", "👌", "✍"];

fn set_message_reaction(fake: &FakeTelegram, body: &Value) -> Reply {
    let (Some(_), Some(_)) = (body["chat_id"].as_i64(), body["message_id"].as_i64()) else {
        return bad_request("message to react not found");
    };
    let reactions = body["reaction"].as_array().cloned().unwrap_or_default();
    let valid = reactions.iter().all(|r| {
        r["type"] == "emoji" && r["emoji"].as_str().is_some_and(|e| REACTIONS.contains(&e))
    });
    if !valid || reactions.len() > 1 || fake.lock().reactions_off {
        return bad_request("REACTION_INVALID");
    }
    ok(json!(true))
}

/// In a group only an administrator with the right unpins.
fn unpin_chat_message(fake: &FakeTelegram, body: &Value) -> Reply {
    let Some(chat) = body["chat_id"].as_i64() else {
        return bad_request("chat not found");
    };
    let mut inner = fake.lock();
    if !bot_may_manage(&inner, chat) {
        return bad_request("not enough rights to manage pinned messages in the chat");
    }
    let pinned = inner.pinned.get(&chat).copied();
    let named = body["message_id"].as_i64();
    if named.is_none() || named == pinned {
        inner.pinned.remove(&chat);
    }
    ok(json!(true))
}

/// In a group only an administrator with the right pins.
fn pin_chat_message(fake: &FakeTelegram, body: &Value) -> Reply {
    let (Some(chat), Some(message_id)) = (body["chat_id"].as_i64(), body["message_id"].as_i64())
    else {
        return bad_request("message to pin not found");
    };
    let mut inner = fake.lock();
    if !bot_may_manage(&inner, chat) {
        return bad_request("not enough rights to manage pinned messages in the chat");
    }
    if !inner.messages.contains_key(&(chat, message_id)) {
        return bad_request("message to pin not found");
    }
    inner.pinned.insert(chat, message_id);
    ok(json!(true))
}

fn get_chat_member(fake: &FakeTelegram, body: &Value) -> Reply {
    let (Some(chat), Some(user)) = (body["chat_id"].as_i64(), body["user_id"].as_i64()) else {
        return bad_request("chat not found");
    };
    let status = fake
        .lock()
        .statuses
        .get(&(chat, user))
        .cloned()
        .unwrap_or_else(|| "member".into());
    let user_json = json!({"id": user, "is_bot": false, "first_name": "Someone"});
    let member = match status.as_str() {
        "creator" => json!({"status": "creator", "user": user_json, "is_anonymous": false}),
        "administrator" => json!({
            "status": "administrator", "user": user_json, "can_be_edited": false,
            "is_anonymous": false, "can_manage_chat": true, "can_delete_messages": true,
            "can_manage_video_chats": true, "can_restrict_members": true,
            "can_promote_members": false, "can_change_info": true, "can_invite_users": true,
            "can_post_stories": false, "can_edit_stories": false, "can_delete_stories": false,
            "can_pin_messages": true, "can_manage_topics": false
        }),
        other => json!({"status": other, "user": user_json}),
    };
    ok(member)
}
