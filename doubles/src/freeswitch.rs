//! FreeSWITCH's event socket (mod_event_socket, `127.0.0.1:8021` on a BBB server) as far as a
//! liveness probe sees it: every new connection is greeted with `Content-Type: auth/request`
//! and a blank line, as FreeSWITCH does before asking for the password. [`FreeswitchDouble::kill`]
//! plays a dead FreeSWITCH: the port is closed (connections refused), and
//! [`FreeswitchDouble::revive`] listens on it again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

use crate::common::lock;

const GREETING: &[u8] = b"Content-Type: auth/request\n\n";

/// The event socket double; stops listening when dropped.
#[derive(Clone)]
pub struct FreeswitchDouble {
    addr: SocketAddr,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

async fn serve(addr: SocketAddr) -> std::io::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    Ok(tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.write_all(GREETING).await;
                // FreeSWITCH then waits for `auth <password>`; the probe hangs up.
                let _ = stream.flush().await;
            });
        }
    }))
}

impl FreeswitchDouble {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        drop(listener);
        let task = serve(addr).await?;
        Ok(Self {
            addr,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// `host:port` of the event socket (`BBB_HOOK_FREESWITCH_ESL`).
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// FreeSWITCH dies: the port stops listening.
    pub fn kill(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }

    /// FreeSWITCH comes back on the same port.
    pub async fn revive(&self) -> std::io::Result<()> {
        if lock(&self.task).is_some() {
            return Ok(());
        }
        let task = serve(self.addr).await?;
        *lock(&self.task) = Some(task);
        Ok(())
    }

    pub fn is_alive(&self) -> bool {
        lock(&self.task).is_some()
    }
}

impl Drop for FreeswitchDouble {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.kill();
        }
    }
}
