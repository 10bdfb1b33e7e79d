//! Request handling of the Scalelite double, in the order Scalelite processes a request:
//! routing, content-type check, checksum, server lookup, action.

use super::model::{as_param_string, present, to_decimal, DoubleServer};
use super::State;
use crate::common::{apply_fault, lock, xml_escape, xml_response, Shared};
use axum::body::Bytes;
use axum::extract;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bbb_core::checksum::{self, Flavor};
use bbb_core::scalelite::ServerState;
use bbb_core::Secret;
use serde_json::{json, Map, Value};

const CALLS: [(&str, Method); 6] = [
    ("getServers", Method::GET),
    ("getServerInfo", Method::GET),
    ("addServer", Method::POST),
    ("updateServer", Method::POST),
    ("deleteServer", Method::POST),
    ("panicServer", Method::POST),
];

/// Scalelite's XML error document (`build_error`), served with HTTP 200.
fn failed(key: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\"?>\n<response>\n  <returncode>FAILED</returncode>\n  \
         <messageKey>{}</messageKey>\n  <message>{}</message>\n</response>\n",
        xml_escape(key),
        xml_escape(message)
    );
    xml_response("application/xml; charset=utf-8", body)
}

fn unsupported_request() -> Response {
    failed("unsupportedRequest", "This request is not supported.")
}

fn json_status(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_status(status, json!({ "error": message.into() }))
}

fn is_json_mime(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        mime.as_str(),
        "application/json" | "text/x-json" | "application/jsonrequest"
    )
}

pub(super) async fn handle(
    extract::State(state): extract::State<Shared<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_end_matches('/');
    let Some(call) = path.strip_prefix("/scalelite/api/") else {
        return unsupported_request();
    };
    let fault = lock(&state).instrumentation.record(call);
    if let Some(resp) = apply_fault(&fault).await {
        return resp;
    }
    let answer_lost = {
        let mut st = lock(&state);
        if !st.available {
            return proxy_error(StatusCode::BAD_GATEWAY);
        }
        st.instrumentation.take_lost_answer(call)
    };
    let Some(lost) = answer_lost else {
        return carry_out(&state, call, &method, &uri, &headers, &body);
    };
    if lost.after.is_zero() {
        carry_out(&state, call, &method, &uri, &headers, &body);
    } else {
        // Still in the works behind the proxy that gave up on it.
        let call = call.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(lost.after).await;
            carry_out(&state, &call, &method, &uri, &headers, &body);
        });
    }
    proxy_error(lost.status)
}

/// A request that reached Scalelite: checked and carried out, its answer.
fn carry_out(
    state: &Shared<State>,
    call: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    // Rails routes: `get` routes also answer HEAD; anything else falls through to
    // `errors#unsupported_request`.
    let route_ok = CALLS.iter().any(|(name, m)| {
        *name == call && (m == method || (*m == Method::GET && *method == Method::HEAD))
    });
    if !route_ok {
        return unsupported_request();
    }
    // ScaleliteApiController#verify_content_type runs before the checksum check.
    if *method == Method::POST && !body.is_empty() && !is_json_mime(headers) {
        return failed("unsupportedContentType", "Unsupported content type");
    }
    let raw_query = uri.query().unwrap_or_default();
    if !checksum_ok(state, call, raw_query) {
        return failed(
            "checksumError",
            "You did not pass the checksum security check",
        );
    }
    let mut params: Map<String, Value> = checksum::parse_query(raw_query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if *method == Method::POST && !body.is_empty() {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(obj)) => params.extend(obj),
            Ok(other) => {
                params.insert("_json".to_owned(), other);
            }
            Err(_) => return error_page(StatusCode::BAD_REQUEST),
        }
    }
    match call {
        "getServers" => get_servers(state),
        "addServer" => add_server(state, &params),
        _ => {
            let id = params.get("id").map(as_param_string).unwrap_or_default();
            let mut st = lock(state);
            let Some(idx) = st.servers.iter().position(|s| s.id == id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("Couldn't find server with id={id}"),
                );
            };
            match call {
                "getServerInfo" => json_status(StatusCode::OK, st.servers[idx].to_json()),
                "updateServer" => update_server(&mut st.servers[idx], &params),
                "deleteServer" => {
                    st.servers.remove(idx);
                    json_status(
                        StatusCode::OK,
                        json!({ "success": format!("Server id={id} was destroyed") }),
                    )
                }
                _ => panic_server(&mut st.servers[idx], &params),
            }
        }
    }
}

/// What Rails' exception pages answer for a request it cannot parse.
fn error_page(status: StatusCode) -> Response {
    json_status(
        status,
        json!({ "status": status.as_u16(), "error": status.canonical_reason().unwrap_or("error") }),
    )
}

fn checksum_ok(state: &Shared<State>, call: &str, raw_query: &str) -> bool {
    let Some(provided) = checksum::query_param(raw_query, "checksum") else {
        return false;
    };
    if provided.trim().is_empty() {
        return false;
    }
    let (secrets, allowed) = {
        let st = lock(state);
        let secrets: Vec<Secret> = st.secrets.iter().map(|s| Secret::new(s.clone())).collect();
        (secrets, st.allowed_algorithms.clone())
    };
    if secrets.is_empty() {
        return false;
    }
    let signed = checksum::scalelite_signed_query(raw_query);
    checksum::verify(
        Flavor::Scalelite,
        &allowed,
        call,
        &signed,
        &provided,
        &secrets,
    )
}

fn get_servers(state: &Shared<State>) -> Response {
    let st = lock(state);
    if st.servers.is_empty() {
        return error(StatusCode::NOT_FOUND, "No servers are configured");
    }
    json_status(
        StatusCode::OK,
        Value::Array(st.servers.iter().map(DoubleServer::to_json).collect()),
    )
}

/// `params.require(:server)` outside any rescue: a missing or empty `server` is rendered by
/// ApplicationController's ParameterMissing handler as an XML internalError.
fn required_server(params: &Map<String, Value>) -> Result<&Map<String, Value>, Box<Response>> {
    match params.get("server") {
        Some(Value::Object(o)) if !o.is_empty() => Ok(o),
        // `permit` on a non-hash value raises NoMethodError: a 500.
        Some(v) if present(Some(v)) => Err(Box::new(error_page(StatusCode::INTERNAL_SERVER_ERROR))),
        _ => Err(Box::new(failed(
            "internalError",
            "param is missing or the value is empty: server",
        ))),
    }
}

fn add_server(state: &Shared<State>, params: &Map<String, Value>) -> Response {
    let server = match required_server(params) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    if !present(server.get("url")) || !present(server.get("secret")) {
        return error(StatusCode::BAD_REQUEST, "Server needs a URL and a secret");
    }
    let mut record = DoubleServer::new(
        server.get("url").map(as_param_string).unwrap_or_default(),
        server
            .get("secret")
            .map(as_param_string)
            .unwrap_or_default(),
    );
    let multiplier = if present(server.get("load_multiplier")) {
        server.get("load_multiplier").map(to_decimal).unwrap_or(0.0)
    } else {
        1.0
    };
    record.load_multiplier = if multiplier == 0.0 { 1.0 } else { multiplier };
    if present(server.get("tag")) {
        record.tag = server.get("tag").map(as_param_string);
    }
    let rendered = record.to_json();
    lock(state).servers.push(record);
    json_status(StatusCode::CREATED, rendered)
}

/// ServerUpdateService, applied to a copy and committed only when every change is valid. Its
/// errors (including a missing `server`) are rescued into 400 `{"error": ...}`.
fn update_server(server: &mut DoubleServer, params: &Map<String, Value>) -> Response {
    let changes = match params.get("server") {
        Some(Value::Object(o)) if !o.is_empty() => o,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "param is missing or the value is empty: server",
            )
        }
    };
    let mut updated = server.clone();
    if present(changes.get("state")) {
        let requested = changes
            .get("state")
            .map(as_param_string)
            .unwrap_or_default();
        let next = match requested.as_str() {
            "enable" => ServerState::Enabled,
            "cordon" => ServerState::Cordoned,
            "disable" => ServerState::Disabled,
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid state parameter: {other}"),
                )
            }
        };
        updated.change_state(next);
    }
    if present(changes.get("load_multiplier")) {
        let m = changes
            .get("load_multiplier")
            .map(to_decimal)
            .unwrap_or(0.0);
        if m == 0.0 {
            return error(
                StatusCode::BAD_REQUEST,
                "Load-multiplier must be a non-zero number",
            );
        }
        updated.load_multiplier = m;
    }
    if present(changes.get("secret")) {
        updated.secret = changes
            .get("secret")
            .map(as_param_string)
            .unwrap_or_default();
    }
    if let Some(tag) = changes.get("tag") {
        updated.tag = present(Some(tag)).then(|| as_param_string(tag));
    }
    // `url` (and anything else) is not permitted and silently ignored.
    *server = updated;
    json_status(StatusCode::OK, server.to_json())
}

fn panic_server(server: &mut DoubleServer, params: &Map<String, Value>) -> Response {
    // `params.permit(:keep_state)`: top-level, and any present value (even "false") keeps it.
    let keep_state = present(params.get("keep_state"));
    if !keep_state {
        server.change_state(ServerState::Disabled);
    }
    json_status(
        StatusCode::OK,
        json!({ "success": format!(
            "Server id={} has been disabled and the meetings have been destroyed",
            server.id
        ) }),
    )
}

/// nginx's own error page for `status`, as the proxy in front of Scalelite answers it: 502
/// while the Scalelite API container is down (`proxy_pass` to an upstream that refuses
/// connections) or when the upstream closed the connection before its answer.
fn proxy_error(status: StatusCode) -> Response {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html")],
        format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
             <center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n\
             </body>\r\n</html>\r\n"
        ),
    )
        .into_response()
}
