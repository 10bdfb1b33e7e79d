//! One simulated fleet instance: its metadata service, its BBB server, its files, and the real
//! `bbb-hook` run as systemd would run it (launch with restarts on failure, the protect timer,
//! the lifecycle-signal drain).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bbb_core::aws::StaticCredentials;
use bbb_doubles::{
    BbbDouble, DoubleMeeting, FreeswitchDouble, ImdsDouble, InstanceIdentity, Pace,
    RecordingPipeline,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::events::{Events, LaunchTiming};

/// How much faster than BBB the sandbox's recording pipeline runs (1/100: the ~3.5 minutes from
/// a meeting's end to Scalelite's `sender.done` take about 2 s).
pub const RECORDING_TIME_SCALE: f64 = 0.01;

/// How the instances' hooks reach the sandbox.
#[derive(Debug, Clone)]
pub struct HookEnv {
    pub hook_binary: PathBuf,
    pub moto_url: String,
    pub autoscaling_url: String,
    pub region: String,
    pub config_parameter: String,
    /// The instances' access key: a moto IAM user bound to the fleet module's instance policy
    /// (what the instance profile's role gives a real instance).
    pub credentials: StaticCredentials,
    /// The protect timer's period.
    pub protect_every: Duration,
    /// The drain's poll interval.
    pub poll_interval: Duration,
}

pub struct SimInstance {
    pub instance_id: String,
    pub address: Ipv4Addr,
    pub imds: ImdsDouble,
    pub bbb: BbbDouble,
    /// FreeSWITCH's event socket (the hook's health probe).
    pub freeswitch: FreeswitchDouble,
    dir: tempfile::TempDir,
    tasks: Vec<JoinHandle<()>>,
    runner: Arc<HookRunner>,
    /// `Some(stop timeout)` once the instance shuts down (systemd stopping its units).
    stop: watch::Sender<Option<Duration>>,
    meetings_started: u32,
}

impl SimInstance {
    pub async fn start(
        instance_id: String,
        address: Ipv4Addr,
        env: &HookEnv,
        events: Events,
        interrupt_first_launch: Option<Duration>,
    ) -> std::io::Result<Self> {
        let imds = ImdsDouble::start(InstanceIdentity {
            instance_id: instance_id.clone(),
            region: env.region.clone(),
            availability_zone: format!("{}a", env.region),
            local_ipv4: Ipv4Addr::new(10, 0, 1, address.octets()[3]),
            public_ipv4: Some(address),
            instance_type: "c5.2xlarge".into(),
        })
        .await?;
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let bbb = BbbDouble::start(secret.clone()).await?;
        let freeswitch = FreeswitchDouble::start().await?;
        let dir = tempfile::Builder::new()
            .prefix("bbb-sandbox-instance-")
            .tempdir()?;
        std::fs::write(
            dir.path().join("bbb-web.properties"),
            format!("securitySalt={secret}\n"),
        )?;
        // BBB's recording_dir: the double plays BBB's recording pipeline there (status marks,
        // raw/<id>/) for meetings started with `start_recorded_meeting`, in compressed time.
        let recording_dir = dir.path().join("recording");
        std::fs::create_dir_all(recording_dir.join("status/recorded"))?;
        // Scalelite's post_publish script is installed, as on a fleet with a recordings volume.
        std::fs::write(dir.path().join("scalelite_post_publish.rb"), "")?;
        bbb.set_recording_pipeline(Some(RecordingPipeline::new(
            recording_dir.clone(),
            Pace::Timed {
                scale: RECORDING_TIME_SCALE,
            },
        )));
        let vars: Vec<(String, String)> = vec![
            (
                "AWS_ACCESS_KEY_ID".into(),
                env.credentials.access_key_id.clone(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                env.credentials.secret_access_key.expose().to_owned(),
            ),
            ("AWS_REGION".into(), env.region.clone()),
            ("AWS_ENDPOINT_URL".into(), env.moto_url.clone()),
            (
                "AWS_ENDPOINT_URL_AUTO_SCALING".into(),
                env.autoscaling_url.clone(),
            ),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT".into(), imds.url()),
            ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
            (
                "BBB_FLEET_HOOK_CONFIG_PARAMETER".into(),
                env.config_parameter.clone(),
            ),
            ("BBB_FLEET_REGION".into(), env.region.clone()),
            (
                "STATE_DIRECTORY".into(),
                dir.path().join("state").display().to_string(),
            ),
            (
                "BBB_WEB_PROPERTIES".into(),
                dir.path().join("bbb-web.properties").display().to_string(),
            ),
            ("BBB_HOOK_BBB_API_URL".into(), bbb.url()),
            (
                "BBB_RECORDING_STATUS_DIR".into(),
                recording_dir.join("status").display().to_string(),
            ),
            (
                "BBB_SCALELITE_POST_PUBLISH".into(),
                dir.path()
                    .join("scalelite_post_publish.rb")
                    .display()
                    .to_string(),
            ),
            (
                "BBB_HOOK_POLL_INTERVAL".into(),
                format!("{}", env.poll_interval.as_secs_f64()),
            ),
            ("BBB_HOOK_REQUEST_TIMEOUT".into(), "5".into()),
            // Compressed time: the load goes to CloudWatch at every protect pass (a minute's
            // publication on a real instance).
            (
                "BBB_HOOK_METRICS_INTERVAL".into(),
                format!("{}", env.protect_every.as_secs_f64()),
            ),
            (
                "BBB_HOOK_CONSOLIDATION_INTERVAL".into(),
                format!("{}", env.protect_every.as_secs_f64()),
            ),
            // 90 s on an instance: three protect passes.
            (
                "BBB_HOOK_RELEASE_AFTER".into(),
                format!("{}", 3.0 * env.protect_every.as_secs_f64()),
            ),
            ("BBB_HOOK_FREESWITCH_ESL".into(), freeswitch.addr()),
            ("JOURNAL_STREAM".into(), "sandbox".into()),
        ];
        let (stop, stopping) = watch::channel(None);
        let runner = Arc::new(HookRunner {
            binary: env.hook_binary.clone(),
            vars,
            instance_id: instance_id.clone(),
            events,
            stopping,
            launched: AtomicBool::new(false),
            protect_stopped: tokio::sync::Notify::new(),
        });
        let protect_every = env.protect_every;
        let units = Arc::clone(&runner);
        let task = tokio::spawn(async move {
            units.run_units(protect_every, interrupt_first_launch).await;
        });
        Ok(Self {
            instance_id,
            address,
            imds,
            bbb,
            freeswitch,
            dir,
            tasks: vec![task],
            runner,
            stop,
            meetings_started: 0,
        })
    }

    /// Starts a meeting with `participants` people; returns its id.
    pub fn start_meeting(&mut self, participants: u32) -> String {
        self.meetings_started += 1;
        let id = format!("{}-meeting-{}", self.instance_id, self.meetings_started);
        self.bbb.add_meeting(
            DoubleMeeting::new(id.clone(), "Sandbox meeting").with_participants(participants, 1),
        );
        id
    }

    /// Starts a meeting created with `record=true`: when it ends, the BBB double plays BBB's
    /// recording pipeline for it (about 2 s at [`RECORDING_TIME_SCALE`]). Returns its id.
    pub fn start_recorded_meeting(&mut self, participants: u32) -> String {
        self.meetings_started += 1;
        let id = format!("{}-meeting-{}", self.instance_id, self.meetings_started);
        self.bbb.add_meeting(
            DoubleMeeting::new(id.clone(), "Sandbox recorded meeting")
                .with_participants(participants, 1)
                .recorded(),
        );
        id
    }

    pub fn live_meetings(&self) -> usize {
        self.bbb.meetings().len()
    }

    /// Ends every meeting; returns how many ended.
    pub fn end_meetings(&self) -> usize {
        let ids: Vec<String> = self
            .bbb
            .meetings()
            .into_iter()
            .filter(|m| !m.is_breakout)
            .map(|m| m.meeting_id)
            .collect();
        ids.iter().filter(|id| self.bbb.end_meeting(id)).count()
    }

    /// The instance's recording status directory (BBB's `recording_dir/status`).
    pub fn recording_status_dir(&self) -> PathBuf {
        self.dir.path().join("recording/status")
    }

    /// The instance's end after the group terminated it, as systemd shuts a machine down
    /// (systemd.unit(5): units with no ordering between them stop together; systemd.service(5):
    /// `TimeoutStopSec=`). Every running hook process gets SIGTERM and may finish its work (the
    /// drain's last steps after CompleteLifecycleAction) for up to `stop_timeout` (the units'
    /// `TimeoutStopSec`, compressed), then SIGKILL; no unit starts again (the protect timer, a
    /// restart). The protect timer is ordered after the launch unit, so it stops first; then, if
    /// the launch unit had become active, its `ExecStop=bbb-hook drain` runs, beside the
    /// lifecycle watcher's stop (no ordering between the two; the hook serialises the drains with
    /// its state lock, and the second finds the work done). An `ExecStop` past the timeout gets
    /// SIGTERM, then SIGKILL a timeout later.
    pub async fn shutdown(mut self, stop_timeout: Duration) {
        self.stop.send_replace(Some(stop_timeout));
        let grace = stop_timeout * 2 + Duration::from_secs(2);
        let runner = Arc::clone(&self.runner);
        let exec_stop = async {
            // A units task that never ends is aborted below; do not wait past that.
            let _ = tokio::time::timeout(grace, runner.protect_stopped.notified()).await;
            if runner.launched.load(Ordering::SeqCst) {
                runner.exec_stop(stop_timeout).await;
            }
        };
        let units = async {
            for mut task in std::mem::take(&mut self.tasks) {
                // Each process is killed at its timeout, so the units end soon after it.
                tokio::select! {
                    _ = &mut task => {}
                    _ = tokio::time::sleep(grace) => {
                        task.abort();
                        self.runner.events.push(
                            &self.instance_id,
                            "units still running past the stop timeout: aborted",
                        );
                    }
                }
            }
        };
        tokio::join!(units, exec_stop);
    }

    /// Stops the hook processes at once (a crash, or the instance's end).
    pub fn kill(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for SimInstance {
    fn drop(&mut self) {
        self.kill();
    }
}

struct HookRunner {
    binary: PathBuf,
    vars: Vec<(String, String)>,
    instance_id: String,
    events: Events,
    /// `Some(stop timeout)` once the instance shuts down.
    stopping: watch::Receiver<Option<Duration>>,
    /// The launch unit became active (its `ExecStop` runs at shutdown).
    launched: AtomicBool,
    /// The launch unit and the protect timer have stopped (or never ran) at shutdown.
    protect_stopped: tokio::sync::Notify,
}

/// Resolves with the stop timeout once the instance shuts down (never if it cannot).
async fn stop_requested(mut stopping: watch::Receiver<Option<Duration>>) -> Duration {
    let timeout = stopping
        .wait_for(Option::is_some)
        .await
        .map(|timeout| timeout.unwrap_or_default());
    match timeout {
        Ok(timeout) => timeout,
        Err(_) => std::future::pending().await,
    }
}

/// SIGTERM, as systemd stops a unit.
fn terminate(child: &Child) {
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        // The process may have exited meanwhile.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
}

impl HookRunner {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs one hook command to its end, passing its log lines on; returns its exit code.
    async fn run(&self, args: &[&str]) -> i32 {
        self.run_timed(args, self.stopping.clone()).await.0
    }

    /// Whether the instance is shutting down (no unit starts again).
    fn stopping(&self) -> bool {
        self.stopping.borrow().is_some()
    }

    /// Runs one hook command; returns its exit code and its timing: wall time, and the time its
    /// log says it spent in calls to the doubles and moto (`duration_ms` of each API call).
    /// Once `stop` holds a timeout it gets SIGTERM, then SIGKILL at that timeout.
    async fn run_timed(
        &self,
        args: &[&str],
        stop: watch::Receiver<Option<Duration>>,
    ) -> (i32, LaunchTiming) {
        let started = std::time::Instant::now();
        let mut calls_ms = 0u64;
        let mut child = match self.command(args).spawn() {
            Ok(c) => c,
            Err(e) => {
                self.events
                    .push(&self.instance_id, format!("cannot start bbb-hook: {e}"));
                return (-1, LaunchTiming::default());
            }
        };
        let mut kill_at: Option<tokio::time::Instant> = None;
        let mut stop_timeout = Duration::ZERO;
        if let Some(stderr) = child.stderr.take() {
            let mut lines = BufReader::new(stderr).lines();
            loop {
                tokio::select! {
                    line = lines.next_line() => {
                        let Ok(Some(line)) = line else { break };
                        if line.contains("api request") || line.contains("aws call") {
                            calls_ms += line
                                .split_whitespace()
                                .find_map(|w| w.strip_prefix("duration_ms="))
                                .and_then(|v| v.parse::<u64>().ok())
                                .unwrap_or(0);
                        }
                        self.events.hook_line(&self.instance_id, args[0], &line);
                    }
                    timeout = stop_requested(stop.clone()), if kill_at.is_none() => {
                        terminate(&child);
                        stop_timeout = timeout;
                        kill_at = Some(tokio::time::Instant::now() + timeout);
                    }
                    _ = tokio::time::sleep_until(kill_at.unwrap_or_else(tokio::time::Instant::now)),
                        if kill_at.is_some() =>
                    {
                        let _ = child.start_kill();
                        self.events.push(
                            &self.instance_id,
                            format!(
                                "bbb-hook {} did not stop within {} ms of SIGTERM: killed (SIGKILL)",
                                args.join(" "),
                                stop_timeout.as_millis()
                            ),
                        );
                        // Its output is not waited for (a child of it may hold the pipe).
                        break;
                    }
                }
            }
        }
        let code = child.wait().await.ok().and_then(|s| s.code()).unwrap_or(-1);
        (
            code,
            LaunchTiming {
                wall_ms: started.elapsed().as_secs_f64() * 1000.0,
                calls_ms: calls_ms as f64,
            },
        )
    }

    /// What systemd does with the units: launch (restarted on failure, not on a configuration
    /// error), then the lifecycle-signal drain and the protect timer side by side.
    async fn run_units(&self, protect_every: Duration, interrupt_first: Option<Duration>) {
        // As the AMI's units: the lifecycle watcher runs from the start, beside the launch (it only
        // needs the network), so an instance whose launch never finishes still drains; the
        // protect timer runs once the launch unit is active (BindsTo=). A shutdown stops them
        // all and starts none again.
        let launch_then_protect = async {
            self.launch_then_protect(protect_every, interrupt_first)
                .await;
            self.protect_stopped.notify_one();
        };
        let drain = async {
            loop {
                // Restart=on-failure with RestartPreventExitStatus=64 78, as the unit: a drain
                // that failed part-way runs again (and finds done what is done).
                let code = self.run(&["drain", "--on-lifecycle-signal"]).await;
                if matches!(code, 0 | 64 | 78) {
                    // Drained (or cannot be): the instance waits for its termination.
                    stop_requested(self.stopping.clone()).await;
                }
                if self.stopping() {
                    return;
                }
                self.pause(Duration::from_secs(1)).await;
            }
        };
        tokio::join!(launch_then_protect, drain);
    }

    /// The launch unit (restarted on failure, not on a configuration error), then the protect
    /// timer once it is active; both end when the instance shuts down.
    async fn launch_then_protect(
        &self,
        protect_every: Duration,
        interrupt_first: Option<Duration>,
    ) {
        let mut attempt = 0;
        let since_start = std::time::Instant::now();
        if let Some(after) = interrupt_first {
            attempt += 1;
            let _ = tokio::time::timeout(after, self.run(&["launch"])).await;
            self.events.push(
                &self.instance_id,
                format!(
                    "bbb-hook launch killed after {} ms (restarted, as systemd would)",
                    after.as_millis()
                ),
            );
        }
        loop {
            if self.stopping() {
                return;
            }
            attempt += 1;
            let (code, timing) = self.run_timed(&["launch"], self.stopping.clone()).await;
            match code {
                0 => {
                    self.events.launch_timing(
                        LaunchTiming {
                            wall_ms: since_start.elapsed().as_secs_f64() * 1000.0,
                            ..timing
                        },
                        timing.wall_ms,
                    );
                    self.launched.store(true, Ordering::SeqCst);
                    break;
                }
                // RestartPreventExitStatus=64 78: a usage or configuration error stays failed.
                64 | 78 => {
                    self.events.push(
                        &self.instance_id,
                        format!("bbb-hook launch exited {code}: not restarted (configuration)"),
                    );
                    return;
                }
                _ if self.stopping() => return,
                code => {
                    self.events.push(
                        &self.instance_id,
                        format!(
                            "bbb-hook launch exited {code} (attempt {attempt}), restarting in 2 s"
                        ),
                    );
                    self.pause(Duration::from_secs(2)).await;
                }
            }
        }
        let mut tick = tokio::time::interval(protect_every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop_requested(self.stopping.clone()) => return,
            }
            self.run(&["protect"]).await;
        }
    }

    /// The launch unit's `ExecStop=bbb-hook drain`: run to its end; past `stop_timeout`, SIGTERM
    /// (and SIGKILL a timeout later), as systemd does.
    async fn exec_stop(&self, stop_timeout: Duration) {
        let (stop, stopping) = watch::channel(None);
        let run = self.run_timed(&["drain"], stopping);
        tokio::pin!(run);
        tokio::select! {
            _ = &mut run => return,
            _ = tokio::time::sleep(stop_timeout) => {}
        }
        self.events.push(
            &self.instance_id,
            format!(
                "bbb-hook drain (ExecStop) still running after {} ms: SIGTERM",
                stop_timeout.as_millis()
            ),
        );
        stop.send_replace(Some(stop_timeout));
        run.await;
    }

    /// Sleeps `d`, or less when the instance shuts down meanwhile.
    async fn pause(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = stop_requested(self.stopping.clone()) => {}
        }
    }
}
