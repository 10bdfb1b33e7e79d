//! One simulated fleet instance for the hook's tests: moto (ASG with one instance, hosted zone,
//! SSM parameters), the Auto Scaling lifecycle stub, Scalelite and BBB doubles, an IMDS double,
//! BBB's properties file and recording status directory, and a state directory; and the real
//! `bbb-hook` binary run against them.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use bbb_core::aws::AwsClients;
use bbb_core::testing::iam::{IamMoto, Policy, PolicyInputs};
use bbb_core::testing::{
    create_zone, group_instances, put_parameter, shared, unique, LifecycleStub, TestGroup, REGION,
};
use bbb_doubles::{BbbDouble, FreeswitchDouble, ImdsDouble, InstanceIdentity, ScaleliteDouble};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const BBB_SECRET: &str = "bbb-secret-0123456789abcdef";
pub const SCALELITE_SECRET: &str = "scalelite-secret-fedcba9876543210";
pub const LAUNCHING_HOOK: &str = "bbb-launching";
pub const TERMINATING_HOOK: &str = "bbb-terminating";

pub struct Instance {
    pub aws: AwsClients,
    pub group: String,
    pub instance_id: String,
    pub zone_id: String,
    pub domain: String,
    pub address: Ipv4Addr,
    pub config_parameter: String,
    pub config: Value,
    pub scalelite: ScaleliteDouble,
    pub bbb: BbbDouble,
    /// FreeSWITCH's event socket, which `protect`'s health probe connects to.
    pub freeswitch: FreeswitchDouble,
    pub imds: ImdsDouble,
    pub lifecycle: LifecycleStub,
    pub dir: TempDir,
    pub moto_url: String,
    /// With [`Instance::with_policy`]: the IAM-enforcing moto, the instance policy and the keys
    /// bbb-hook signs with.
    pub iam: Option<IamBinding>,
}

/// An instance whose hook signs as a moto IAM user bound to the fleet's instance policy.
pub struct IamBinding {
    pub moto: IamMoto,
    pub policy: Policy,
    pub group_arn: String,
    pub access_key_id: String,
    secret_access_key: String,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `protect` with protection following the meetings and recordings alone (consolidation off:
/// with it, an idle server Scalelite can route to stays protected, `tests/scale_in.rs`).
pub const MEETINGS_ONLY: [(&str, &str); 1] = [("BBB_FLEET_CONSOLIDATION", "off")];

/// A `create` reaches BBB within half a second of Scalelite routing it, here
/// (`BBB_HOOK_CREATE_IN_FLIGHT`).
#[allow(dead_code)]
pub const IN_FLIGHT: (&str, &str) = ("BBB_HOOK_CREATE_IN_FLIGHT", "0.5");

/// `protect` consolidating at every pass, a cordoned server released as soon as it is idle.
#[allow(dead_code)]
pub const CONSOLIDATING: [(&str, &str); 2] = [
    ("BBB_HOOK_CONSOLIDATION_INTERVAL", "0.01"),
    ("BBB_HOOK_RELEASE_AFTER", "0.01"),
];

impl Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "bbb-hook failed:\n{}", self.stderr);
        self
    }
}

impl Instance {
    /// A fleet with one instance, its record and registration not made yet.
    pub async fn new(max_wait_seconds: u64) -> Self {
        let moto = shared();
        Self::setup(
            max_wait_seconds,
            moto.clients().await,
            moto.url().clone(),
            None,
        )
        .await
    }

    /// The same instance on its own IAM-enforcing moto (bbb_core::testing::iam), bbb-hook signing
    /// as a user whose only policy is the fleet module's instance policy rendered for this
    /// instance and passed through `edit` (the identity to test the module's own document).
    pub async fn with_policy(
        max_wait_seconds: u64,
        edit: impl FnOnce(Policy) -> Policy + 'static,
    ) -> Self {
        let moto = IamMoto::start().await.expect("IAM-enforcing moto");
        let aws = moto.admin_clients().await;
        let url = moto.url().clone();
        Self::setup(max_wait_seconds, aws, url, Some((moto, Box::new(edit)))).await
    }

    #[allow(clippy::type_complexity)]
    async fn setup(
        max_wait_seconds: u64,
        aws: AwsClients,
        moto_url: url::Url,
        iam: Option<(IamMoto, Box<dyn FnOnce(Policy) -> Policy>)>,
    ) -> Self {
        let group = TestGroup::create(&aws, "hook", 1).await;
        let instance_id = group_instances(&aws, &group.name).await[0]
            .instance_id
            .clone();
        let domain = format!("{}.example.org", unique("hook"));
        let zone_id = create_zone(&aws, &domain).await;
        let secret_parameter = format!("/bbb/{}/scalelite-secret", group.name);
        put_parameter(&aws, &secret_parameter, SCALELITE_SECRET, true).await;
        let scalelite = ScaleliteDouble::start(SCALELITE_SECRET)
            .await
            .expect("scalelite double");
        let bbb = BbbDouble::start(BBB_SECRET).await.expect("bbb double");
        let freeswitch = FreeswitchDouble::start().await.expect("freeswitch double");
        let address = Ipv4Addr::new(203, 0, 113, 10);
        let imds = ImdsDouble::start(InstanceIdentity {
            instance_id: instance_id.clone(),
            region: REGION.into(),
            availability_zone: format!("{REGION}a"),
            local_ipv4: Ipv4Addr::new(10, 0, 1, 10),
            public_ipv4: Some(address),
            instance_type: "c5.xlarge".into(),
        })
        .await
        .expect("imds double");
        let config_parameter = format!("/bbb/fleets/{}/hook-config", group.name);
        let (lifecycle, iam) = match iam {
            None => (LifecycleStub::start(&moto_url).await, None),
            Some((moto, edit)) => {
                let inputs = PolicyInputs {
                    hosted_zone_id: zone_id.clone(),
                    record_name_pattern: format!("bbb-i-*.{domain}"),
                    autoscaling_group_arn: String::new(),
                    fleet_name: "test".into(),
                    scalelite_secret_parameter: secret_parameter.clone(),
                    hook_config_parameter: config_parameter.clone(),
                    turn_secret_parameter: None,
                    tls_certificate_parameter: None,
                    tls_certificate_secret_arn: None,
                };
                let binding = bind_policy(moto, &aws, &group.name, inputs, edit).await;
                let stub = LifecycleStub::start_enforcing(
                    &moto_url,
                    &binding.access_key_id,
                    binding.policy.clone(),
                    &binding.group_arn,
                )
                .await;
                (stub, Some(binding))
            }
        };
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("bbb-web.properties"),
            format!("# bbb-web overrides\nsecuritySalt={BBB_SECRET}\nbigbluebutton.web.serverURL=https://example\n"),
        )
        .expect("properties");
        std::fs::create_dir_all(dir.path().join("status/recorded")).expect("status dir");
        // Scalelite's post_publish script is installed (a fleet with a recordings volume).
        std::fs::write(dir.path().join("scalelite_post_publish.rb"), "").expect("post_publish");
        // BBB's record-and-playback scripts: the stock steps (presentation) and its publish script.
        std::fs::create_dir_all(dir.path().join("scripts/publish")).expect("scripts dir");
        std::fs::write(
            dir.path().join("scripts/bigbluebutton.yml"),
            "steps:\n  archive: \"sanity\"\n  sanity: \"captions\"\n  \
             captions: \"process:presentation\"\n  \
             \"process:presentation\": \"publish:presentation\"\n",
        )
        .expect("bigbluebutton.yml");
        std::fs::write(dir.path().join("scripts/publish/presentation.rb"), "").expect("publish");
        let config = json!({
            "version": 1, "fleet_name": "test", "region": REGION,
            "autoscaling_group_name": group.name, "hosted_zone_id": zone_id, "domain": domain,
            "record_name_template": "bbb-{instance_id}", "record_ttl": 60,
            "scalelite_url": scalelite.url(), "scalelite_tag": null, "load_multiplier": 2.0,
            "scalelite_secret_parameter": secret_parameter, "protect_live_meetings": true,
            "launching_hook_name": LAUNCHING_HOOK, "launching_heartbeat_timeout": 900,
            "terminating_hook_name": TERMINATING_HOOK, "heartbeat_timeout": 1,
            "max_wait": format!("{max_wait_seconds}s"), "max_wait_seconds": max_wait_seconds
        });
        put_parameter(&aws, &config_parameter, &config.to_string(), false).await;
        Self {
            aws,
            group: group.name,
            instance_id,
            zone_id,
            domain,
            address,
            config_parameter,
            config,
            scalelite,
            bbb,
            freeswitch,
            imds,
            lifecycle,
            dir,
            moto_url: moto_url.as_str().trim_end_matches('/').to_owned(),
            iam,
        }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn record_name(&self) -> String {
        format!("bbb-{}.{}", self.instance_id, self.domain).to_ascii_lowercase()
    }

    pub fn server_url(&self) -> String {
        format!("https://{}/bigbluebutton/api", self.record_name())
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let dir = self.dir.path();
        let (key, secret) = match &self.iam {
            Some(b) => (b.access_key_id.clone(), b.secret_access_key.clone()),
            None => ("testing".to_owned(), "testing".to_owned()),
        };
        [
            ("AWS_ACCESS_KEY_ID", key),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ENDPOINT_URL", self.moto_url.clone()),
            ("AWS_ENDPOINT_URL_AUTO_SCALING", self.lifecycle.url()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", self.imds.url()),
            ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
            (
                "BBB_FLEET_HOOK_CONFIG_PARAMETER",
                self.config_parameter.clone(),
            ),
            ("BBB_FLEET_REGION", REGION.to_owned()),
            ("STATE_DIRECTORY", dir.join("state").display().to_string()),
            (
                "BBB_WEB_PROPERTIES",
                dir.join("bbb-web.properties").display().to_string(),
            ),
            ("BBB_HOOK_BBB_API_URL", self.bbb.url()),
            ("BBB_HOOK_FREESWITCH_ESL", self.freeswitch.addr()),
            (
                "BBB_RECORDING_STATUS_DIR",
                dir.join("status").display().to_string(),
            ),
            (
                "BBB_SCALELITE_POST_PUBLISH",
                dir.join("scalelite_post_publish.rb").display().to_string(),
            ),
            (
                "BBB_RECORDING_SCRIPTS_DIR",
                dir.join("scripts").display().to_string(),
            ),
            (
                "BBB_RECORDING_OVERRIDE",
                dir.join("recording.yml").display().to_string(),
            ),
            ("BBB_HOOK_POLL_INTERVAL", "0.2".to_owned()),
            ("BBB_HOOK_DNS_TIMEOUT", "20".to_owned()),
            ("BBB_HOOK_REQUEST_TIMEOUT", "3".to_owned()),
            ("BBB_HOOK_DEREGISTER_TIMEOUT", "2".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.command_for(env!("CARGO_BIN_EXE_bbb-hook"), args)
    }

    /// `program args...` with the environment `bbb-hook` runs with (and this process's PATH):
    /// the benchmark runs the legacy launch script this way.
    pub fn command_for(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env())
            .kill_on_drop(true)
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs `bbb-hook args...` to its end (at most 60 s); no secret may appear in its output.
    pub async fn hook(&self, args: &[&str]) -> Run {
        let out = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("bbb-hook did not finish within 60 s")
            .expect("run bbb-hook");
        let run = Run::from(out);
        for secret in [BBB_SECRET, SCALELITE_SECRET] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a secret leaked into the output of bbb-hook {args:?}"
            );
        }
        run
    }

    /// Runs `bbb-hook args...` with `extra` environment variables on top.
    pub async fn hook_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.envs(extra.iter().copied());
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("bbb-hook did not finish within 60 s")
            .expect("run bbb-hook");
        Run::from(out)
    }

    /// Starts `bbb-hook args...` (with `extra` environment variables) in the background, its
    /// output captured.
    pub fn spawn(&self, args: &[&str], extra: &[(&str, &str)]) -> tokio::process::Child {
        let mut cmd = self.command(args);
        cmd.envs(extra.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("spawn bbb-hook")
    }

    /// Waits (at most 30 s) for a background run to end.
    pub async fn finish(&self, child: tokio::process::Child) -> Run {
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("bbb-hook finishes within 30 s")
            .expect("bbb-hook output");
        let run = Run::from(out);
        for secret in [BBB_SECRET, SCALELITE_SECRET] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a secret leaked into the output of bbb-hook"
            );
        }
        run
    }

    /// The hook's state file.
    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.path("state/state.json")).expect("state file");
        serde_json::from_str(&text).expect("state json")
    }

    /// Rewrites the hook's state file through `edit`.
    pub fn edit_state(&self, edit: impl FnOnce(&mut Value)) {
        let mut state = self.state();
        edit(&mut state);
        std::fs::write(self.path("state/state.json"), state.to_string()).expect("write state");
    }

    /// As if the launch had completed the launching action long ago and failed ever since
    /// (Scalelite down): past any join timeout.
    pub fn launch_failing_for_long(&self) {
        self.edit_state(|state| {
            state["launched"] = false.into();
            state["join_started_at"] = 1.into();
        });
        self.scalelite.set_available(false);
    }

    /// Lifecycle heartbeats received for `hook`.
    pub async fn heartbeats(&self, hook: &str) -> usize {
        self.lifecycle
            .calls()
            .await
            .iter()
            .filter(|c| c.action == "RecordLifecycleActionHeartbeat" && c.hook_name == hook)
            .count()
    }

    /// Waits until `cond` holds (at most 20 s), for conditions that need an `await`.
    pub async fn eventually_async<F, Fut>(&self, what: &str, mut cond: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !cond().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for: {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every record on the instance's name (its A record, its ownership mark).
    pub async fn names(&self) -> Vec<bbb_core::aws::DnsRecord> {
        self.aws
            .list_records(&self.zone_id, &self.record_name())
            .await
            .expect("list records")
            .into_iter()
            .filter(|r| r.name == self.record_name())
            .collect()
    }

    /// The instance's A record values, if any.
    pub async fn record(&self) -> Option<Vec<String>> {
        self.aws
            .list_records(&self.zone_id, &self.record_name())
            .await
            .expect("list records")
            .into_iter()
            .find(|r| r.name == self.record_name() && r.record_type == "A")
            .map(|r| r.values)
    }

    /// The instance's Scalelite registration, if any.
    pub fn server(&self) -> Option<bbb_doubles::DoubleServer> {
        self.scalelite
            .servers()
            .into_iter()
            .find(|s| s.url == self.server_url())
    }

    pub async fn protected(&self) -> bool {
        group_instances(&self.aws, &self.group)
            .await
            .into_iter()
            .find(|i| i.instance_id == self.instance_id)
            .expect("instance in group")
            .protected_from_scale_in
    }

    /// A launched instance hosting one meeting of 3 (`m1`), and its Scalelite server id.
    #[allow(dead_code)]
    pub async fn launched_with_a_meeting() -> (Self, String) {
        let i = Self::new(60).await;
        i.hook(&["launch"]).await.ok();
        i.bbb
            .add_meeting(bbb_doubles::DoubleMeeting::new("m1", "Lecture").with_participants(3, 1));
        let me = i.server().expect("registered").id;
        (i, me)
    }

    /// The poller's save of `read` (`poll_read`, taken earlier), with the meetings this
    /// instance's BBB runs now, each past Scalelite's join buffer.
    #[allow(dead_code)]
    pub fn save_poll(&self, read: &bbb_doubles::PollRead) {
        use bbb_doubles::{PolledMeeting, LOAD_JOIN_BUFFER_TIME};
        let meetings: Vec<PolledMeeting> = self
            .bbb
            .meetings()
            .iter()
            .map(|m| PolledMeeting::of(m, LOAD_JOIN_BUFFER_TIME * 2))
            .collect();
        assert!(self
            .scalelite
            .poll_save(read, &meetings, LOAD_JOIN_BUFFER_TIME));
    }

    /// A `create` through Scalelite later than a create in flight takes ([`IN_FLIGHT`]): the
    /// server Scalelite picked, and `meeting_id` on this instance's BBB when it picked `me`.
    #[allow(dead_code)]
    pub async fn create_later(&self, me: &str, meeting_id: &str) -> Option<String> {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let routed = self.scalelite.route_create(None)?.id;
        if routed == me {
            self.bbb.add_meeting(
                bbb_doubles::DoubleMeeting::new(meeting_id, "Routed").with_participants(2, 1),
            );
        }
        Some(routed)
    }

    /// A `protect` pass (with `env`) that finds the cordon `holder` holds undone by Scalelite's
    /// poller and repairs it: the server cordoned and out of `server_load`, the event naming
    /// the holder, no `create` routed to it.
    #[allow(dead_code)]
    pub async fn protect_repairs(&self, env: &[(&str, &str)], holder: &str) -> Run {
        let repair = self.hook_with(&["protect"], env).await;
        repair.ok();
        let s = self.server().expect("registered");
        assert_eq!(
            (s.state, s.stale_server_load),
            (bbb_core::scalelite::ServerState::Cordoned, None),
            "{}",
            repair.stderr
        );
        let event = format!("cordon=\"{holder}\"");
        assert!(
            repair.stderr.contains("reason=routed_while_cordoned")
                && repair.stderr.contains(&event),
            "{event}: {}",
            repair.stderr
        );
        assert_eq!(self.scalelite.route_create(None), None, "no new meeting");
        assert_eq!(
            repair
                .stderr
                .matches("/scalelite-secret\" duration_ms")
                .count(),
            1,
            "Scalelite's secret read once a pass: {}",
            repair.stderr
        );
        repair
    }

    /// Makes this server the group's surplus: a [`CONSOLIDATING`] pass (which protects it,
    /// enabled in Scalelite), the group's desired capacity to 0, and the pass that cordons it,
    /// returned.
    #[allow(dead_code)]
    pub async fn cordon_as_surplus(&self) -> Run {
        self.hook_with(&["protect"], &CONSOLIDATING).await.ok();
        assert!(self.protected().await, "protected while enabled");
        self.want(0).await;
        let cordon = self.hook_with(&["protect"], &CONSOLIDATING).await;
        cordon.ok();
        assert_eq!(
            self.server().expect("registered").state,
            bbb_core::scalelite::ServerState::Cordoned,
            "{}",
            cordon.stderr
        );
        cordon
    }

    /// The next `SetInstanceProtection` is refused by IAM (AWS's `AccessDenied`, which the SDK
    /// does not retry); the ones after it reach moto.
    #[allow(dead_code)]
    pub async fn deny_next_protection(&self) {
        self.lifecycle
            .fail_nth(
                "SetInstanceProtection",
                1,
                "AccessDenied",
                "not authorized to perform: autoscaling:SetInstanceProtection",
            )
            .await;
    }

    /// Sets the group's desired capacity (moto keeps a protected instance when it drops below).
    pub async fn want(&self, desired: i32) {
        self.aws
            .autoscaling_sdk()
            .set_desired_capacity()
            .auto_scaling_group_name(&self.group)
            .desired_capacity(desired)
            .send()
            .await
            .expect("SetDesiredCapacity");
    }

    /// Whether the lifecycle stub received a CompleteLifecycleAction for `hook`.
    pub async fn completed(&self, hook: &str) -> bool {
        self.lifecycle
            .calls()
            .await
            .iter()
            .any(|c| c.action == "CompleteLifecycleAction" && c.hook_name == hook)
    }

    /// BBB's `recording_dir` (`status/`, `raw/`), where the BBB double's pipeline writes.
    pub fn recording_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn touch(&self, rel: &str) {
        let p = self.path("status").join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).expect("mkdir");
        std::fs::write(p, "").expect("touch");
    }

    /// Waits until `cond` holds (at most 20 s).
    pub async fn eventually(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !cond() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for: {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Renders the instance policy for `inputs` and the group's ARN, applies `edit`, and creates the moto user bound
/// to it (moto's view of it: see bbb_core::testing::iam).
async fn bind_policy(
    moto: IamMoto,
    aws: &AwsClients,
    group: &str,
    mut inputs: PolicyInputs,
    edit: Box<dyn FnOnce(Policy) -> Policy>,
) -> IamBinding {
    let described = aws
        .autoscaling_sdk()
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(group)
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    let group_arn = described.auto_scaling_groups()[0]
        .auto_scaling_group_arn()
        .expect("group ARN")
        .to_owned();
    inputs.autoscaling_group_arn = group_arn.clone();
    let policy = edit(Policy::instance(&inputs).expect("render the instance policy"));
    let creds = moto
        .user_with_policy(&unique("instance"), &policy.moto_view())
        .await
        .expect("policy-bound user");
    IamBinding {
        moto,
        policy,
        group_arn,
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose().to_owned(),
    }
}

/// Sends SIGTERM to a background run.
/// Unix seconds now, as the hook stamps its state.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("child still running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid}");
}
