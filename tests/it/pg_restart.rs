//! PostgreSQL restarting under a running `cairn serve`: while it is gone requests answer
//! 503 with a clear message (never a 500, never a hang), and once it is back the server
//! answers again by itself. The test runs a PostgreSQL of its own (the suite's is shared
//! by every test), from the Debian package scripts/test installs.
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli::{Server, free_port};

struct Pg {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

/// `program` run as the postgres user when we are root (PostgreSQL refuses root).
fn as_pg(program: PathBuf) -> Command {
    // SAFETY: geteuid only reads the process's user id.
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Pg {
    fn init() -> Pg {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server is installed (scripts/test installs it)")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql");
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("cairn-pg-restart-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        Command::new("chown")
            .args(["postgres:"])
            .arg(&dir)
            .status()
            .ok();
        let ok = as_pg(bin.join("initdb"))
            .args(["-U", "postgres", "--auth=trust", "-D"])
            .arg(dir.join("data"))
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        Pg { bin, dir, port }
    }

    fn ctl(&self, what: &str) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let out = as_pg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-m", "fast", "-o", &opts, "-l"])
            .arg(self.dir.join("log"))
            .arg(what)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = as_pg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn while_postgresql_restarts_requests_get_503_and_the_server_recovers_by_itself() {
    let pg = Pg::init();
    pg.ctl("start");
    let server = Server::start_with(&pg.url(), &[]);
    // A token is looked up in the database at every request on PostgreSQL.
    let bearer = format!("Bearer cairn_{}", "0".repeat(64));
    let ask = || server.request("GET", "/api/v1/contacts", &[("Authorization", &bearer)]);
    assert_eq!(
        ask().0,
        401,
        "with the database up, an unknown token is refused"
    );
    pg.ctl("stop");
    let (status, raw) = ask();
    assert_eq!(status, 503, "the database gone: {raw}");
    assert!(
        raw.contains("\"unavailable\"") && raw.contains("cannot be reached"),
        "{raw}"
    );
    assert_eq!(
        server.request("GET", "/healthz", &[]).0,
        503,
        "the health check says so"
    );
    pg.ctl("start");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, raw) = ask();
        if status == 401 {
            break;
        }
        assert_eq!(status, 503, "while it comes back: {raw}");
        assert!(
            Instant::now() < deadline,
            "the server did not recover: {raw}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        server.request("GET", "/healthz", &[]).0,
        200,
        "healthy again"
    );
}
