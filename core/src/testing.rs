//! Test support for AWS integration and acceptance tests (feature `testing`): a moto server (the AWS emulator from PyPI's
//! `moto[server]`, pinned in scripts/requirements-tools.txt) on 127.0.0.1 on a free port.
//!
//! [`MotoServer::start`] runs `scripts/install-tools` and then `scripts/moto run`, which prints
//! the URL once moto answers and stops moto when its standard input closes: on drop, or when the
//! test process exits in any way (so a crashed test leaves no server behind).
//! [`shared`] gives each test binary one server; tests keep apart by naming their own resources.

pub mod access;
pub mod autoscaling;
pub mod iam;
pub mod launch_wait;
pub use launch_wait::Refusal;
mod lifecycle;
pub use lifecycle::{LifecycleCall, LifecycleStub};
mod scheduled;
pub use scheduled::{run_due_scheduled_actions, AsgCall, ScheduleFront};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use crate::aws::{AwsClients, AwsConfig};
use url::Url;

/// The region every test uses.
pub const REGION: &str = "us-east-1";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// A running moto server, stopped on drop.
pub struct MotoServer {
    child: Child,
    stdin: Option<ChildStdin>,
    url: Url,
    log: PathBuf,
}

impl MotoServer {
    /// Installs the project's tools if needed and starts moto on a free port of 127.0.0.1.
    pub fn start() -> Result<Self, String> {
        Self::launch(None)
    }

    /// Like [`MotoServer::start`], with moto's IAM access control on (`scripts/moto run --iam`):
    /// the first `initial_no_auth_action_count` requests pass unchecked, every later one must be
    /// signed by a moto IAM user whose policies allow its action. See [`iam`].
    pub fn start_enforcing_iam(initial_no_auth_action_count: u32) -> Result<Self, String> {
        Self::launch(Some(initial_no_auth_action_count))
    }

    fn launch(iam: Option<u32>) -> Result<Self, String> {
        let root = repo_root();
        let install = root.join("scripts/install-tools");
        let status = Command::new(&install)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", install.display()))?;
        if !status.success() {
            return Err(format!(
                "{} failed ({status}); the AWS tests need moto[server] from \
                 scripts/requirements-tools.txt in .tools/venv (Python 3 with venv and pip, and \
                 access to PyPI)",
                install.display()
            ));
        }

        static SEQ: AtomicU32 = AtomicU32::new(0);
        let log = std::env::temp_dir().join(format!(
            "moto-{}-{}.log",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let script = root.join("scripts/moto");
        let mut command = Command::new(&script);
        command.arg("run");
        match iam {
            Some(count) => {
                command
                    .arg("--iam")
                    .env("INITIAL_NO_AUTH_ACTION_COUNT", count.to_string());
            }
            None => {
                command.env_remove("INITIAL_NO_AUTH_ACTION_COUNT");
            }
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;

        // The first line of standard output is the URL; read it on a thread to bound the wait.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(r);
        });
        let mut server = MotoServer {
            child,
            stdin,
            url: Url::parse("http://127.0.0.1:1").map_err(|e| e.to_string())?,
            log,
        };
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            Ok(Ok(_)) | Ok(Err(_)) => {
                return Err(format!(
                    "scripts/moto run exited without a URL; see {}",
                    server.log.display()
                ))
            }
            Err(_) => {
                return Err(format!(
                    "moto did not start within 120 s; see {}",
                    server.log.display()
                ))
            }
        };
        server.url = Url::parse(line.trim())
            .map_err(|e| format!("scripts/moto printed {line:?}, not a URL: {e}"))?;
        if server.url.host_str() != Some("127.0.0.1") {
            return Err(format!("moto must listen on 127.0.0.1, got {}", server.url));
        }
        Ok(server)
    }

    /// The server's URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// An [`AwsConfig`] for this server (every endpoint, dummy credentials, [`REGION`]), with
    /// quick timeouts.
    pub fn config(&self) -> AwsConfig {
        AwsConfig {
            timeout: Duration::from_secs(20),
            ..AwsConfig::emulator(&self.url, REGION)
        }
    }

    /// Fresh clients (with their own call counters) for this server.
    pub async fn clients(&self) -> AwsClients {
        AwsClients::new(&self.config())
            .await
            .expect("clients for moto")
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing stdin makes `scripts/moto run` stop moto and exit.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The moto server of this test binary, started on first use. It is stopped when the test
/// process exits (its stdin pipe closes then).
pub fn shared() -> &'static MotoServer {
    static MOTO: OnceLock<Result<MotoServer, String>> = OnceLock::new();
    match MOTO.get_or_init(MotoServer::start) {
        Ok(m) => m,
        Err(e) => panic!("cannot start moto for the AWS tests: {e}"),
    }
}

/// A name unique within this test process: `prefix-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The text of the first element named `name` in the XML document `xml`.
pub fn xml_text(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let text = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)?
        .text()?
        .to_owned();
    Some(text)
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An Auto Scaling group made in moto for a test: a VPC, a subnet, a launch template and the
/// group (with `size` instances), all named after `prefix`.
pub struct TestGroup {
    pub name: String,
    pub launch_template: String,
    pub subnet_id: String,
    pub vpc_id: String,
}

impl TestGroup {
    pub async fn create(clients: &AwsClients, prefix: &str, size: i32) -> TestGroup {
        let ec2 = clients.ec2_query();
        let name = unique(prefix);
        let vpc = ec2
            .call("CreateVpc", &name, &params(&[("CidrBlock", "10.0.0.0/16")]))
            .await
            .expect("CreateVpc");
        let vpc_id = xml_text(&vpc, "vpcId").expect("vpcId");
        let subnet = ec2
            .call(
                "CreateSubnet",
                &name,
                &params(&[
                    ("VpcId", &vpc_id),
                    ("CidrBlock", "10.0.1.0/24"),
                    ("AvailabilityZone", "us-east-1a"),
                ]),
            )
            .await
            .expect("CreateSubnet");
        let subnet_id = xml_text(&subnet, "subnetId").expect("subnetId");
        let launch_template = format!("{name}-lt");
        ec2.call(
            "CreateLaunchTemplate",
            &launch_template,
            &params(&[
                ("LaunchTemplateName", &launch_template),
                ("LaunchTemplateData.ImageId", "ami-12c6146b"),
                ("LaunchTemplateData.InstanceType", "c5.xlarge"),
            ]),
        )
        .await
        .expect("CreateLaunchTemplate");
        clients
            .autoscaling_sdk()
            .create_auto_scaling_group()
            .auto_scaling_group_name(&name)
            .launch_template(
                aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                    .launch_template_name(&launch_template)
                    .version("$Latest")
                    .build(),
            )
            .min_size(0)
            .max_size(size + 2)
            .desired_capacity(size)
            .vpc_zone_identifier(&subnet_id)
            .send()
            .await
            .expect("CreateAutoScalingGroup");
        TestGroup {
            name,
            launch_template,
            subnet_id,
            vpc_id,
        }
    }
}

/// Creates a public hosted zone for `domain` in moto; returns its id (without `/hostedzone/`).
pub async fn create_zone(clients: &AwsClients, domain: &str) -> String {
    let out = clients
        .route53_sdk()
        .create_hosted_zone()
        .name(domain)
        .caller_reference(unique("ref"))
        .send()
        .await
        .expect("CreateHostedZone");
    out.hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

/// Creates or overwrites SSM parameter `name` (a SecureString when `secure`).
pub async fn put_parameter(clients: &AwsClients, name: &str, value: &str, secure: bool) {
    let kind = if secure {
        aws_sdk_ssm::types::ParameterType::SecureString
    } else {
        aws_sdk_ssm::types::ParameterType::String
    };
    clients
        .ssm_sdk()
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter");
}

/// Creates Secrets Manager secret `name` holding the string `value`.
pub async fn create_secret(clients: &AwsClients, name: &str, value: &str) {
    clients
        .secretsmanager
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("CreateSecret");
}

/// The instance ids of Auto Scaling group `name`.
pub async fn group_instances(clients: &AwsClients, name: &str) -> Vec<crate::aws::AsgInstance> {
    clients
        .describe_auto_scaling_group(name)
        .await
        .expect("DescribeAutoScalingGroups")
        .instances
}
