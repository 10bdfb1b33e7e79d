//! `bbb_scalelite_server_drain`: cordon one Scalelite server, wait until its BBB API lists no
//! meetings, and optionally remove it from Scalelite then. Never ends a meeting. The drain is
//! `bbb_scalelite_server`'s drain on destroy (`resources::server_drain`).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bbb_core::scalelite::Server;

use super::{find_server, plan_server, server_attribute};
use crate::provider::ProviderData;
use crate::resources::server_drain::{self, Reading, Waited};
use crate::scalelite_pool::scalelite_error;
use tfplugin_framework::timeouts::show;
use tfplugin_framework::validators::duration;
use tfplugin_framework::{Action, Attribute, Block, Diagnostics, Progress, Schema, Value};

const DEFAULT_TIMEOUT: &str = "1h";
/// A reading that does not change is repeated at most this often.
const REPEAT: Duration = Duration::from_secs(60);

pub struct ServerDrain;

/// What the drain was asked.
struct Ask {
    timeout: Duration,
    remove: bool,
}

impl Ask {
    fn of(config: &Value) -> Self {
        let timeout = config
            .get("timeout")
            .as_str()
            .unwrap_or(DEFAULT_TIMEOUT)
            .to_string();
        Self {
            timeout: humantime::parse_duration(&timeout).unwrap_or(Duration::from_secs(3600)),
            remove: config.get("remove_when_empty").as_bool().unwrap_or(false),
        }
    }
}

/// "server ID (URL)".
fn named(server: &Server) -> String {
    format!("server {} ({})", server.id, server.url)
}

/// The state the server is left in, as a person reads it.
fn left_as(server: &Server, cordoned_now: bool) -> &'static str {
    if cordoned_now {
        "cordoned"
    } else {
        server.state.as_str()
    }
}

fn stopped(server: &Server, state: &str, last: Option<Reading>) -> Diagnostics {
    let seen = last.map_or(String::new(), |r| format!(" (last seen: {})", r.describe()));
    Diagnostics::from_error(
        format!("Cancelled: the drain stopped, {} stays {state}", server.id),
        format!(
            "Terraform asked the provider to stop (Ctrl-C) while it waited for the meetings on {}{seen}. \
             The server stays {state} in Scalelite: it takes no new meetings, its running meetings go on, and it \
             was not removed. Invoke the action again to keep waiting, or invoke bbb_scalelite_server_state with \
             state = \"enabled\" to put it back in service.",
            named(server)
        ),
    )
}

fn timed_out(server: &Server, state: &str, reading: &Reading, timeout: Duration) -> Diagnostics {
    Diagnostics::from_error(
        format!("Server {} did not drain in time", server.id),
        format!(
            "{} still has {} after {} (timeout). It stays {state} in Scalelite and was not removed; no meeting \
             was ended. Invoke the action again (perhaps with a longer timeout) to keep waiting, or invoke \
             bbb_scalelite_server_state with state = \"enabled\" to put it back in service.",
            named(server),
            reading.describe(),
            show(timeout)
        ),
    )
}

impl ServerDrain {
    /// Reports a reading when it differs from the last one reported, or `REPEAT` passed.
    fn reporter<'a>(server: &'a Server, progress: &'a Progress) -> impl FnMut(&Reading) + 'a {
        let mut last: Option<(Reading, Instant)> = None;
        move |reading: &Reading| {
            let due = last
                .as_ref()
                .is_none_or(|(r, at)| r != reading || at.elapsed() >= REPEAT);
            if due && !reading.is_empty() {
                let line = match reading {
                    Reading::Meetings { .. } => {
                        format!("{} left on {}", reading.describe(), named(server))
                    }
                    Reading::Unanswered(_) => {
                        format!("{}: {}; counted as busy", named(server), reading.describe())
                    }
                };
                progress.send(line);
                last = Some((reading.clone(), Instant::now()));
            }
        }
    }
}

#[async_trait]
impl Action<ProviderData> for ServerDrain {
    fn type_name(&self) -> &'static str {
        "bbb_scalelite_server_drain"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("Drains one Scalelite server: cordons it (no new meetings), waits until its own BBB API (`getMeetings`) lists no meetings, breakout rooms included, and optionally removes it from Scalelite then. Never ends a meeting. When the wait ends early (timeout, Ctrl-C) the server stays cordoned and the error says so. A server that a `bbb_scalelite_server` manages with `state = \"enabled\"` is enabled again by that configuration's next apply: set `state = \"cordoned\"` there too to keep it out of service.")
                .attribute(server_attribute())
                .attribute(Attribute::string("timeout").optional().validate(duration()).description("Longest wait for the meetings to end, as a duration such as `30m` or `2h`. Default `1h`."))
                .attribute(Attribute::bool("remove_when_empty").optional().description("Remove the server from Scalelite once it is empty. Default `false`: it stays registered and cordoned.")),
        )
    }

    async fn plan(&self, data: &ProviderData, config: &Value, diags: &mut Diagnostics) {
        plan_server(data, config, diags).await;
    }

    async fn invoke(&self, data: &ProviderData, config: Value, progress: &Progress) -> Diagnostics {
        match self.drain(data, &config, progress).await {
            Ok(d) | Err(d) => d,
        }
    }
}

impl ServerDrain {
    async fn drain(
        &self,
        data: &ProviderData,
        config: &Value,
        progress: &Progress,
    ) -> Result<Diagnostics, Diagnostics> {
        let ask = Ask::of(config);
        let server = find_server(data, config).await?;
        let cordoned_now = server_drain::cordon(data, &server).await?;
        let state = left_as(&server, cordoned_now);
        if cordoned_now {
            progress.send(format!(
                "Cordoned {}: it takes no new meetings",
                named(&server)
            ));
        } else {
            progress.send(format!(
                "{} is already {}: it takes no new meetings",
                named(&server),
                server.state.as_str()
            ));
        }
        let waited = server_drain::wait_until_empty(
            data,
            &server,
            ask.timeout,
            Self::reporter(&server, progress),
        )
        .await?;
        match waited {
            Waited::Empty => {}
            Waited::Stopped(last) => return Err(stopped(&server, state, last)),
            Waited::TimedOut(reading) => {
                return Err(timed_out(&server, state, &reading, ask.timeout))
            }
        }
        if !ask.remove {
            progress.send(format!(
                "{} has no meetings; it stays {state} in Scalelite",
                named(&server)
            ));
            return Ok(Diagnostics::new());
        }
        let pool = data.scalelite().await?;
        match pool.client().delete_server(&server.id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                let mut d = scalelite_error("remove the server", &e);
                d.error(
                    format!("Server {} is empty but still registered", server.id),
                    format!("{} has no meetings and stays {state} in Scalelite; invoke the action again to remove it.", named(&server)),
                );
                return Err(d);
            }
        }
        pool.invalidate().await;
        progress.send(format!(
            "{} had no meetings and was removed from Scalelite",
            named(&server)
        ));
        Ok(Diagnostics::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bbb_core::scalelite::ServerState;
    use bbb_core::Secret;

    fn server(state: ServerState) -> Server {
        Server {
            id: "s-1".into(),
            url: "https://bbb1.example.com/bigbluebutton/api".into(),
            secret: Secret::new("bbb-secret-never-shown"),
            tag: None,
            bbb_version: None,
            state,
            load: None,
            load_multiplier: 1.0,
            online: true,
        }
    }

    #[test]
    fn progress_repeats_only_changes() {
        let s = server(ServerState::Enabled);
        let (progress, mut rx) = Progress::channel();
        let mut report = ServerDrain::reporter(&s, &progress);
        let busy = Reading::Meetings {
            meetings: 3,
            participants: 41,
        };
        report(&busy);
        report(&busy);
        report(&Reading::Meetings {
            meetings: 2,
            participants: 40,
        });
        report(&Reading::Meetings {
            meetings: 0,
            participants: 0,
        });
        drop(report);
        drop(progress);
        let mut lines = Vec::new();
        while let Ok(l) = rx.try_recv() {
            lines.push(l);
        }
        assert_eq!(
            lines,
            vec![
                "3 meetings, 41 participants left on server s-1 (https://bbb1.example.com/bigbluebutton/api)",
                "2 meetings, 40 participants left on server s-1 (https://bbb1.example.com/bigbluebutton/api)",
            ]
        );
    }

    #[test]
    fn an_early_end_says_the_server_stays_cordoned_and_never_shows_the_secret() {
        let s = server(ServerState::Enabled);
        let busy = Reading::Meetings {
            meetings: 1,
            participants: 12,
        };
        for d in [
            stopped(&s, left_as(&s, true), Some(busy.clone())),
            timed_out(&s, left_as(&s, true), &busy, Duration::from_secs(60)),
        ] {
            let text: String = d
                .iter()
                .map(|x| format!("{} {}", x.summary, x.detail))
                .collect();
            assert!(text.contains("stays cordoned"), "{text}");
            assert!(text.contains("1 meeting, 12 participants"), "{text}");
            assert!(!text.contains("never-shown"), "{text}");
        }
    }

    #[test]
    fn defaults_apply_when_left_out() {
        let ask = Ask::of(&Value::Null);
        assert_eq!(ask.timeout, Duration::from_secs(3600));
        assert!(!ask.remove);
    }
}
