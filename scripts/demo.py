"""The local demo scenario, played against the Scalelite and BBB doubles (scripts/demo runs it).

1. Start a Scalelite double and three BBB doubles on 127.0.0.1.
2. `terraform apply` examples/local: three BBB servers registered and enabled in Scalelite.
3. A meeting starts on bbb-0.
4. Someone disables bbb-1 by hand in Scalelite: the plan shows the drift, apply repairs it.
5. bbb-2 is cordoned from the configuration.
6. Scale-in: bbb-0 leaves the configuration while it hosts the meeting. Terraform cordons it
   and waits; the meeting ends; only then is the server removed.
7. Summary, `terraform destroy`, and everything started is stopped.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
# The release binaries scripts/demo built (in cargo's target directory, which it passes).
if os.environ.get("BBB_DEMO_BINARIES"):
    BINARIES = Path(os.environ["BBB_DEMO_BINARIES"])
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cargo_target

    BINARIES = cargo_target.target_dir() / "release"

START = time.monotonic()


def say(msg: str) -> None:
    print(f"[{time.monotonic() - START:6.1f}s] {msg}", flush=True)


def checksum(call: str, query: str, secret: str) -> str:
    return hashlib.sha256(f"{call}{query}{secret}".encode()).hexdigest()


def bbb_api(url: str, secret: str, call: str, params: dict) -> str:
    query = urllib.parse.urlencode(params)
    full = f"{url}/{call}?{query}&checksum={checksum(call, query, secret)}"
    with urllib.request.urlopen(full, timeout=10) as resp:
        return resp.read().decode()


def scalelite_api(base: str, secret: str, call: str, body: dict, server_id: str) -> dict:
    query = urllib.parse.urlencode({"id": server_id})
    url = f"{base}/scalelite/api/{call}?{query}&checksum={checksum(call, query, secret)}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


class Terraform:
    def __init__(self, env: dict):
        self.env = env

    def run(self, *args: str, show: bool = True) -> str:
        proc = subprocess.run([str(ROOT / "scripts/terraform"), *args, "-no-color"], cwd=WORK, env=self.env,
                              capture_output=True, text=True)
        if proc.returncode not in (0, 2):
            sys.stdout.write(proc.stdout + proc.stderr)
            raise SystemExit(f"terraform {' '.join(args)} failed ({proc.returncode})")
        if show:
            for line in proc.stdout.splitlines():
                if line.strip() and not line.startswith(("Warning: Provider development", "The following provider",
                                                          "configuration:", " - bbb-platform", "The behavior may",
                                                          "applying changes may", "releases.", "│", "╷", "╵")):
                    print(f"           | {line}")
        return proc.stdout

    def outputs(self) -> dict:
        return json.loads(self.run("output", "-json", show=False).replace("\n", " ") or "{}")


def main() -> int:
    doubles = subprocess.Popen([str(BINARIES / "bbb-doubles"), "--bbb-count", "3"],
                               stdout=subprocess.PIPE, text=True)
    try:
        endpoints = json.loads(doubles.stdout.readline())
        return play(endpoints)
    finally:
        doubles.terminate()
        doubles.wait(timeout=10)
        say("stopped the doubles")


def play(endpoints: dict) -> int:
    sl = endpoints["scalelite"]
    bbbs = endpoints["bbb"]
    say(f"Scalelite double at {sl['url']}; BBB doubles at " + ", ".join(b["url"] for b in bbbs))

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "plugins").mkdir(parents=True)
    (WORK / "plugins" / "terraform-provider-bbb").symlink_to(BINARIES / "terraform-provider-bbb")
    for tf in (ROOT / "examples/local").glob("*.tf"):
        shutil.copy(tf, WORK)
    (WORK / "cli.tfrc").write_text(
        'provider_installation {\n  dev_overrides {\n    "bbb-platform/bbb" = "%s"\n  }\n  direct {}\n}\n' % (WORK / "plugins"))
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(WORK / "cli.tfrc"), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
               BBB_SCALELITE_URL=sl["url"], BBB_SCALELITE_SECRET=sl["secret"])
    tf = Terraform(env)

    def write_vars(states: dict) -> None:
        servers = {f"bbb-{i}": {"url": b["url"], "state": states.get(f"bbb-{i}", "enabled")}
                   for i, b in enumerate(bbbs) if f"bbb-{i}" in states}
        secrets = {f"bbb-{i}": b["secret"] for i, b in enumerate(bbbs) if f"bbb-{i}" in states}
        (WORK / "terraform.tfvars.json").write_text(json.dumps({"servers": servers, "server_secrets": secrets}))

    say("step 1: terraform apply registers three BBB servers with Scalelite")
    write_vars({"bbb-0": "enabled", "bbb-1": "enabled", "bbb-2": "enabled"})
    tf.run("apply", "-auto-approve")
    servers = tf.outputs()["servers"]["value"]
    for name, s in servers.items():
        say(f"  {name}: Scalelite id {s['id']}, {s['state']}, {s['url']}")

    say("step 2: a meeting starts on bbb-0")
    bbb_api(bbbs[0]["url"], bbbs[0]["secret"], "create", {"name": "Exam", "meetingID": "exam-1"})
    tf.run("apply", "-auto-approve", "-refresh-only", show=False)
    meetings = tf.outputs()["meetings"]["value"]
    say(f"  live meetings per server (from each server's getMeetings): {json.dumps(meetings)}")

    say("step 3: someone disables bbb-1 by hand in Scalelite; the plan shows the drift")
    scalelite_api(sl["url"], sl["secret"], "updateServer", {"server": {"state": "disable"}}, servers["bbb-1"]["id"])
    plan = tf.run("plan", show=False)
    block = []
    for line in plan.splitlines():
        if line.lstrip().startswith("# bbb_scalelite_server"):
            block = [line]
        elif block:
            block.append(line)
            if line.startswith("    }"):
                break
    for line in block:
        print(f"           | {line}")
    say("  terraform apply repairs it")
    tf.run("apply", "-auto-approve", show=False)

    say("step 4: bbb-2 is cordoned from the configuration (no new meetings)")
    write_vars({"bbb-0": "enabled", "bbb-1": "enabled", "bbb-2": "cordoned"})
    tf.run("apply", "-auto-approve", show=False)
    say(f"  bbb-2 is now {tf.outputs()['servers']['value']['bbb-2']['state']}")

    say("step 5: scale-in removes bbb-0 while it hosts the exam: Terraform cordons it and waits")

    def end_meeting_later() -> None:
        time.sleep(8)
        say("  ... the exam ends on bbb-0")
        bbb_api(bbbs[0]["url"], bbbs[0]["secret"], "end", {"meetingID": "exam-1"})

    ender = threading.Thread(target=end_meeting_later)
    ender.start()
    started = time.monotonic()
    write_vars({"bbb-1": "enabled", "bbb-2": "cordoned"})
    tf.run("apply", "-auto-approve", show=False)
    ender.join()
    waited = time.monotonic() - started
    remaining = tf.outputs()["pool_ids"]["value"]
    say(f"  bbb-0 was removed after {waited:.0f}s, once its meeting had ended; pool now {len(remaining)} servers")

    say("summary: 3 servers registered, 1 drift repaired, 1 cordoned, 1 drained and removed; 1 meeting kept to its end, 0 dropped")
    say("step 6: terraform destroy")
    tf.run("destroy", "-auto-approve", show=False)
    say("done: Scalelite's pool is empty again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
