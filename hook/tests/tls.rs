//! The shared certificate (BBB_TLS_MODE=shared) and the Let's Encrypt budget, with the real
//! `bbb-hook` binary: the document comes from a Secrets Manager secret read through SSM's
//! `/aws/reference/secretsmanager/<name>` path (moto serves that path from its Secrets Manager
//! backend: moto/ssm/models.py `_get_secretsmanager_parameter`), or from a SecureString.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use bbb_core::scalelite::ServerState;
use bbb_core::testing::{put_parameter, unique, REGION};
use bbb_doubles::DoubleMeeting;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber,
};
use serde_json::{json, Value};
use support::{Instance, Run};

const EX_CONFIG: i32 = 78;

struct Ca {
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Issued {
    cert: String,
    key: String,
}

impl Issued {
    fn document(&self) -> String {
        json!({ "fullchain": self.cert, "private_key": self.key }).to_string()
    }
    /// A line of the key's base64 body: must never show in output.
    fn key_marker(&self) -> String {
        self.key.lines().nth(1).expect("key body").to_owned()
    }
}

impl Ca {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "bbb-hook test CA");
        let key = KeyPair::generate().unwrap();
        Self {
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `names` valid from `from` to `until` (years), with `serial`.
    fn issue(&self, names: &[String], from: i32, until: (i32, u8), serial: u64) -> Issued {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.to_vec()).unwrap();
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(until.0, until.1, 1);
        params.serial_number = Some(SerialNumber::from(serial));
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// moto's Secrets Manager, through its JSON API (the hook itself only reads through SSM).
async fn secretsmanager(i: &Instance, action: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(&i.moto_url)
        .header("X-Amz-Target", format!("secretsmanager.{action}"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(
        status.is_success(),
        "secretsmanager {action}: {status} {text}"
    );
    serde_json::from_str(&text).unwrap()
}

struct Fleet {
    i: Instance,
    ca: Ca,
    secret: String,
    parameter: String,
    markers: Vec<String>,
}

impl Fleet {
    async fn new(first: &Issued) -> Self {
        let i = Instance::new(60).await;
        let secret = unique("bbb-tls");
        secretsmanager(
            &i,
            "CreateSecret",
            json!({ "Name": secret, "SecretString": first.document() }),
        )
        .await;
        Self {
            parameter: format!("/aws/reference/secretsmanager/{secret}"),
            secret,
            ca: Ca::new(),
            markers: vec![first.key_marker()],
            i,
        }
    }

    fn wildcard(&self) -> Vec<String> {
        vec![format!("*.{}", self.i.domain)]
    }

    async fn put(&mut self, doc: &str, marker: Option<String>) {
        secretsmanager(
            &self.i,
            "PutSecretValue",
            json!({ "SecretId": self.secret, "SecretString": doc }),
        )
        .await;
        self.markers.extend(marker);
    }

    async fn hook(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut cmd = self.i.command(args);
        cmd.env("BBB_TLS_CERTIFICATE_PARAMETER", &self.parameter)
            .env("BBB_TLS_DIR", self.i.path("tls"))
            .env("BBB_TLS_CHECK_INTERVAL", "0")
            .envs(extra.iter().copied());
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("bbb-hook did not finish within 60 s")
            .expect("run bbb-hook");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for m in &self.markers {
            assert!(
                !run.stdout.contains(m.as_str()) && !run.stderr.contains(m.as_str()),
                "key material in the output of bbb-hook {args:?}"
            );
        }
        assert!(!run.stderr.contains("PRIVATE KEY-----"), "{}", run.stderr);
        run
    }

    fn installed(&self) -> String {
        std::fs::read_to_string(self.i.path("tls/bbb.pem")).unwrap_or_default()
    }
}

fn body(pem: &str) -> String {
    // The certificate's base64 lines, to compare what the hook re-encoded.
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn installed_holds(installed: &str, issued: &Issued) -> bool {
    let flat: String = installed
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    flat.contains(&body(&issued.cert)) && flat.contains(&body(&issued.key))
}

async fn fleet_with_wildcard() -> (Fleet, Issued) {
    let ca = Ca::new();
    // The domain is only known once the instance exists: issue a placeholder first.
    let placeholder = ca.issue(&["placeholder.invalid".into()], 2020, (2099, 1), 1);
    let mut f = Fleet::new(&placeholder).await;
    f.ca = ca;
    let good = f.ca.issue(&f.wildcard(), 2020, (2099, 1), 10);
    f.put(&good.document(), Some(good.key_marker())).await;
    std::fs::create_dir_all(f.i.path("tls")).unwrap();
    (f, good)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_installs_the_shared_certificate_before_enabling_the_server() {
    let (f, good) = fleet_with_wildcard().await;
    let run = f.hook(&["launch"], &[]).await;
    run.ok();
    assert!(installed_holds(&f.installed(), &good), "{}", f.installed());
    let mode = std::fs::metadata(f.i.path("tls/bbb.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key file is private");
    assert_eq!(
        f.i.server().expect("registered").state,
        ServerState::Enabled
    );
    assert!(
        run.stderr.contains("certificate installed"),
        "{}",
        run.stderr
    );

    let status = f.hook(&["status", "--json"], &[]).await;
    status.ok();
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["tls"]["mode"], "shared");
    assert_eq!(
        v["tls"]["installed"]["names"][0],
        format!("*.{}", f.i.domain)
    );
    assert_eq!(v["tls"]["installed"]["not_after"], "2099-01-01T00:00:00Z");
    assert_eq!(v["tls"]["installed"]["problem"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launch_refuses_a_certificate_for_another_name_and_enables_nothing() {
    let ca = Ca::new();
    let other = ca.issue(&["*.other.example.net".into()], 2020, (2099, 1), 2);
    let f = Fleet::new(&other).await;
    let run = f.hook(&["launch"], &[]).await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(run.stderr.contains(&f.parameter), "{}", run.stderr);
    assert!(run.stderr.contains("does not cover"), "{}", run.stderr);
    assert!(!f.i.path("tls/bbb.pem").exists());
    assert!(
        f.i.server().is_none_or(|s| s.state != ServerState::Enabled),
        "never enabled without a certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protect_installs_a_renewal_and_leaves_bad_documents_alone() {
    let (mut f, good) = fleet_with_wildcard().await;
    f.hook(&["launch"], &[]).await.ok();
    assert!(installed_holds(&f.installed(), &good));

    let renewal = f.ca.issue(&f.wildcard(), 2021, (2099, 6), 11);
    f.put(&renewal.document(), Some(renewal.key_marker())).await;
    let run = f.hook(&["protect"], &[]).await;
    run.ok();
    assert!(
        installed_holds(&f.installed(), &renewal),
        "renewal installed"
    );
    assert!(
        run.stderr.contains("certificate installed"),
        "{}",
        run.stderr
    );
    // Nothing new: nothing written.
    let run = f.hook(&["protect"], &[]).await;
    run.ok();
    assert!(
        !run.stderr.contains("certificate installed"),
        "{}",
        run.stderr
    );

    let expired = f.ca.issue(&f.wildcard(), 2019, (2020, 1), 12);
    let other =
        f.ca.issue(&["*.other.example.net".into()], 2020, (2099, 9), 13);
    let stranger = f.ca.issue(&f.wildcard(), 2020, (2099, 9), 14);
    let mismatched = json!({ "fullchain": f.ca.issue(&f.wildcard(), 2020, (2099, 9), 15).cert,
                             "private_key": stranger.key })
    .to_string();
    let older = f.ca.issue(&f.wildcard(), 2020, (2098, 1), 16);
    let cases = [
        (
            expired.document(),
            "expired on 2020-01-01",
            Some(expired.key_marker()),
        ),
        (other.document(), "does not cover", Some(other.key_marker())),
        (
            mismatched,
            "does not belong to the certificate",
            Some(stranger.key_marker()),
        ),
        (
            older.document(),
            "older than the installed one",
            Some(older.key_marker()),
        ),
        ("{\"fullchain\": \"x\"}".to_owned(), "private_key", None),
        ("not a certificate".to_owned(), "no certificate", None),
    ];
    // A live meeting: protect's own work must still happen when the certificate check fails.
    f.i.bbb.add_meeting(DoubleMeeting::new("m1", "Lecture"));
    let before = f.installed();
    for (doc, reason, marker) in cases {
        f.put(&doc, marker).await;
        let run = f.hook(&["protect"], &[]).await;
        assert_eq!(run.code, EX_CONFIG, "{reason}: {}", run.stderr);
        assert!(
            run.stderr.contains(&f.parameter),
            "{reason}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(reason), "{reason}: {}", run.stderr);
        assert_eq!(
            f.installed(),
            before,
            "{reason}: the installed certificate changed"
        );
    }
    assert!(
        f.i.protected().await,
        "protection followed the meeting despite the failed check"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_install_reads_a_securestring_pem_bundle() {
    let ca = Ca::new();
    let i = Instance::new(60).await;
    let good = ca.issue(&[format!("*.{}", i.domain)], 2020, (2099, 1), 20);
    let parameter = format!("/bbb/{}/tls", unique("cert"));
    put_parameter(
        &i.aws,
        &parameter,
        &format!("{}{}", good.cert, good.key),
        true,
    )
    .await;
    let mut cmd = i.command(&["tls", "install"]);
    cmd.env("BBB_TLS_CERTIFICATE_PARAMETER", &parameter)
        .env("BBB_TLS_DIR", i.path("tls"));
    std::fs::create_dir_all(i.path("tls")).unwrap();
    let out = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(&good.key_marker()));
    let installed = std::fs::read_to_string(i.path("tls/bbb.pem")).unwrap();
    assert!(installed_holds(&installed, &good));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn budget_records_requests_and_refuses_past_the_weekly_budget() {
    let i = Instance::new(60).await;
    let path = format!("/bbb/fleets/{}/letsencrypt-issuances", unique("le"));
    let run = |budget: &'static str| {
        let mut cmd = i.command(&["tls", "budget"]);
        cmd.env("BBB_TLS_MODE", "letsencrypt")
            .env("BBB_LETSENCRYPT_WEEKLY_BUDGET", budget)
            .env("BBB_LETSENCRYPT_ISSUANCE_PATH", &path);
        async move {
            let out = cmd.output().await.unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let count = || async { i.aws.list_parameters(&path).await.unwrap().len() };
    for n in 0..2 {
        put_parameter(
            &i.aws,
            &format!("{path}/bbb-i-other{n}.example.org"),
            "x",
            false,
        )
        .await;
    }
    let (code, stderr) = run("2").await;
    assert_eq!(code, Some(EX_CONFIG), "{stderr}");
    assert!(stderr.contains("budget used up"), "{stderr}");
    assert!(
        stderr.contains("BBB_LETSENCRYPT_WEEKLY_BUDGET=2"),
        "{stderr}"
    );
    assert_eq!(count().await, 2, "a refused request records nothing");

    let (code, stderr) = run("3").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(count().await, 3);
    let mine = format!("{path}/{}", i.record_name());
    assert!(i
        .aws
        .list_parameters(&path)
        .await
        .unwrap()
        .iter()
        .any(|p| p.name == mine));
    // The same server asking again (first boot re-run) neither counts twice nor is refused.
    let (code, stderr) = run("3").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("already recorded"), "{stderr}");
    assert_eq!(count().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_tls_setting_stops_launch_but_never_a_drain() {
    let (f, _good) = fleet_with_wildcard().await;
    f.hook(&["launch"], &[]).await.ok();
    let bad = [("BBB_TLS_MODE", "acme")];
    let run = f.hook(&["launch"], &bad).await;
    assert_eq!(run.code, EX_CONFIG, "{}", run.stderr);
    assert!(run.stderr.contains("BBB_TLS_MODE"), "{}", run.stderr);
    let run = f.hook(&["drain"], &bad).await;
    run.ok();
    assert!(f.i.server().is_none(), "drained and deregistered");
}
