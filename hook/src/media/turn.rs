//! bbb-web's STUN/TURN configuration, `/etc/bigbluebutton/turn-stun-servers.xml`: a Spring
//! beans file with one `org.bigbluebutton.web.services.turn.TurnServer` bean per TURN URI
//! (constructor arguments: the coturn static-auth-secret, the URI, the credential TTL in
//! seconds), one `StunServer` bean per STUN URI (its URI), and the `StunTurnService` bean that
//! lists them (the layout bbb-install's `configure_coturn` writes and bbb-web's packaged
//! `spring/turn-stun-servers.xml` has). bbb-web reads the file at start.

use bbb_core::Secret;

/// The first line of a file this hook wrote: a file without it is the administrator's and is
/// left alone when the fleet has no TURN.
pub const MARKER: &str = "<!-- Written by bbb-hook configure from BBB_TURN_URIS, BBB_STUN_URIS and BBB_TURN_SECRET_PARAMETER; rewritten at every boot. -->";
/// Lifetime of the TURN credentials bbb-web hands out (bbb-install's value).
pub const TTL_SECONDS: u32 = 86400;

/// The fleet's STUN/TURN settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnSettings {
    pub turn_uris: Vec<String>,
    pub stun_uris: Vec<String>,
    pub secret_parameter: Option<String>,
}

impl TurnSettings {
    /// From `BBB_TURN_URIS`, `BBB_STUN_URIS` (space-separated) and `BBB_TURN_SECRET_PARAMETER`.
    pub fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let list = |name: &str| -> Vec<String> {
            var(name)
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        let s = Self {
            turn_uris: list("BBB_TURN_URIS"),
            stun_uris: list("BBB_STUN_URIS"),
            secret_parameter: var("BBB_TURN_SECRET_PARAMETER").filter(|v| !v.trim().is_empty()),
        };
        for uri in &s.turn_uris {
            if !(uri.starts_with("turn:") || uri.starts_with("turns:")) || uri.contains(['<', '"'])
            {
                return Err(format!(
                    "BBB_TURN_URIS: {uri:?} is not a turn: or turns: URI"
                ));
            }
        }
        for uri in &s.stun_uris {
            if !(uri.starts_with("stun:") || uri.starts_with("stuns:")) || uri.contains(['<', '"'])
            {
                return Err(format!(
                    "BBB_STUN_URIS: {uri:?} is not a stun: or stuns: URI"
                ));
            }
        }
        match (s.turn_uris.is_empty(), s.secret_parameter.is_some()) {
            (false, false) => Err("BBB_TURN_URIS is set but BBB_TURN_SECRET_PARAMETER is not: TURN needs coturn's secret".into()),
            (true, true) => Err("BBB_TURN_SECRET_PARAMETER is set but BBB_TURN_URIS is empty".into()),
            _ => Ok(s),
        }
    }

    /// Whether the fleet configures any STUN or TURN server.
    pub fn any(&self) -> bool {
        !self.turn_uris.is_empty() || !self.stun_uris.is_empty()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The file's text. Holds the secret: write it 0640 root:bigbluebutton and never log it.
pub fn render(settings: &TurnSettings, secret: Option<&Secret>) -> String {
    let mut beans = String::new();
    let mut stun_refs = String::new();
    let mut turn_refs = String::new();
    for (i, uri) in settings.stun_uris.iter().enumerate() {
        beans.push_str(&format!(
            "    <bean id=\"stun{i}\" class=\"org.bigbluebutton.web.services.turn.StunServer\">\n        <constructor-arg index=\"0\" value=\"{}\"/>\n    </bean>\n",
            escape(uri)
        ));
        stun_refs.push_str(&format!("                <ref bean=\"stun{i}\"/>\n"));
    }
    let secret = escape(secret.map(Secret::expose).unwrap_or_default());
    for (i, uri) in settings.turn_uris.iter().enumerate() {
        beans.push_str(&format!(
            "    <bean id=\"turn{i}\" class=\"org.bigbluebutton.web.services.turn.TurnServer\">\n        <constructor-arg index=\"0\" value=\"{secret}\"/>\n        <constructor-arg index=\"1\" value=\"{}\"/>\n        <constructor-arg index=\"2\" value=\"{TTL_SECONDS}\"/>\n    </bean>\n",
            escape(uri)
        ));
        turn_refs.push_str(&format!("                <ref bean=\"turn{i}\"/>\n"));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{MARKER}\n<beans xmlns=\"http://www.springframework.org/schema/beans\"\n        xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n        xsi:schemaLocation=\"http://www.springframework.org/schema/beans\n        http://www.springframework.org/schema/beans/spring-beans-2.5.xsd\">\n\n{beans}\n    <bean id=\"stunTurnService\" class=\"org.bigbluebutton.web.services.turn.StunTurnService\">\n        <property name=\"stunServers\">\n            <set>\n{stun_refs}            </set>\n        </property>\n        <property name=\"turnServers\">\n            <set>\n{turn_refs}            </set>\n        </property>\n    </bean>\n</beans>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        move |n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(
            TurnSettings::from_vars(&vars(&[])).unwrap(),
            TurnSettings::default()
        );
        let e = TurnSettings::from_vars(&vars(&[("BBB_TURN_URIS", "turn:t:3478")])).unwrap_err();
        assert!(e.contains("BBB_TURN_SECRET_PARAMETER"), "{e}");
        let e = TurnSettings::from_vars(&vars(&[("BBB_STUN_URIS", "turn:t:3478")])).unwrap_err();
        assert!(e.contains("BBB_STUN_URIS"), "{e}");
        let e = TurnSettings::from_vars(&vars(&[("BBB_TURN_SECRET_PARAMETER", "/p")])).unwrap_err();
        assert!(e.contains("BBB_TURN_URIS is empty"), "{e}");
    }

    #[test]
    fn renders_bbb_webs_beans() {
        let s = TurnSettings::from_vars(&vars(&[
            (
                "BBB_TURN_URIS",
                "turns:t.example.org:443?transport=tcp  turn:t.example.org:3478?transport=udp",
            ),
            ("BBB_STUN_URIS", "stun:t.example.org:3478"),
            ("BBB_TURN_SECRET_PARAMETER", "/bbb/turn"),
        ]))
        .unwrap();
        let xml = render(&s, Some(&Secret::new("s&cret")));
        assert!(xml.contains("<constructor-arg index=\"0\" value=\"s&amp;cret\"/>"));
        assert!(xml.contains("value=\"turns:t.example.org:443?transport=tcp\""));
        assert!(xml.contains(
            "<bean id=\"stun0\" class=\"org.bigbluebutton.web.services.turn.StunServer\">"
        ));
        assert!(xml.contains("<ref bean=\"turn1\"/>"));
        assert_eq!(xml.matches("value=\"86400\"").count(), 2);
        assert!(crate::media::xml::tags(&xml).is_some(), "well-formed");
    }
}
